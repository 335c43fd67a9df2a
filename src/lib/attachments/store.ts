/**
 * The attachments container and its short-lived SAS URLs (docs/architecture.md, "Attachments"): a create-only
 * SAS for one pending blob to upload, the claim of an upload by the message that sends it (one HEAD, then a copy to
 * its blob name and the pending blob deleted, the sender kept in its metadata), a read SAS for one blob to show or
 * download (`rscd` for files), the HEAD and delete the read route checks a blob with, and the delete of the file of a
 * message deleted or removed. In Azure the SAS is a user-delegation SAS signed with a key
 * the app's managed identity asks for (the account has no shared keys); with a connection string (Azurite) it is an
 * account-key SAS.
 */
import { DefaultAzureCredential } from '@azure/identity';
import {
  BlobSASPermissions,
  BlobServiceClient,
  type ContainerClient,
  RestError,
  type UserDelegationKey,
} from '@azure/storage-blob';
import { BLOB_RETRY_OPTIONS } from '../history/index.js';
import { readSetting, SETTINGS } from '../settings.js';
import {
  ATTACHMENT_LIMITS,
  type Attachment,
  attachmentFolder,
  contentDisposition,
  isAllowedType,
  pendingBlobName,
} from './rules.js';

/** How the SAS URLs are signed. */
export type SasSigning = 'account-key' | 'user-delegation';

export interface AttachmentStoreOptions {
  readonly service: BlobServiceClient;
  readonly container: string;
  readonly signing: SasSigning;
  /** Largest file in bytes; default {@link ATTACHMENT_LIMITS.maxBytes}. */
  readonly maxBytes?: number;
  /** Seconds an upload or read SAS is valid. */
  readonly uploadSasSeconds?: number;
  readonly readSasSeconds?: number;
  /** The clock, for tests. */
  readonly now?: () => number;
}

/** A signed URL and when it stops working. */
export interface SignedUrl {
  readonly url: string;
  readonly expiresOn: string;
}

/** The stored blob as one HEAD sees it. */
export interface StoredBlob {
  readonly size: number;
  readonly type: string | undefined;
  readonly etag: string | undefined;
  /** Who sent the message that claimed it; `undefined` for a pending upload or a file claimed before this was kept. */
  readonly sender: string | undefined;
}

/** The metadata key of the user whose message claimed a file (URI-encoded: metadata values are header values). */
const SENDER_METADATA = 'sender';

/** Started this long before now, so a client clock a little behind the service's still accepts the SAS. */
const CLOCK_SKEW_MS = 60_000;
/** A user-delegation key is asked for this long, and renewed once less than a quarter of it is left. */
const DELEGATION_KEY_MS = 6 * 3600_000;

export class AttachmentStore {
  readonly container: ContainerClient;
  readonly maxBytes: number;
  readonly signing: SasSigning;
  readonly #service: BlobServiceClient;
  readonly #uploadMs: number;
  readonly #readMs: number;
  readonly #now: () => number;
  #key: Promise<UserDelegationKey> | undefined;
  #keyExpires = 0;
  #ready: Promise<unknown> | undefined;

  constructor(options: AttachmentStoreOptions) {
    this.#service = options.service;
    this.container = options.service.getContainerClient(options.container);
    this.signing = options.signing;
    this.maxBytes = options.maxBytes ?? ATTACHMENT_LIMITS.maxBytes;
    this.#uploadMs = (options.uploadSasSeconds ?? ATTACHMENT_LIMITS.uploadSasSeconds) * 1000;
    this.#readMs = (options.readSasSeconds ?? ATTACHMENT_LIMITS.readSasSeconds) * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Creates the container once per store when missing (Bicep creates it in Azure). */
  ensureContainer(): Promise<unknown> {
    this.#ready ??= this.container.createIfNotExists().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /**
   * A SAS URL that can create the pending blob of `blob` once (permissions `c`: no read, no overwrite, no other
   * blob), valid a few minutes. The browser PUTs the file to it; nobody can read it until a message claims it.
   * Nothing in a SAS caps the length of what is PUT: {@link claim} and the read route check it.
   */
  async uploadUrl(blob: string): Promise<SignedUrl> {
    await this.ensureContainer();
    return this.#sign(pendingBlobName(blob), BlobSASPermissions.parse('c'), this.#uploadMs, {});
  }

  /** A SAS URL that reads `attachment`'s blob, valid a few minutes; files are served as downloads (`rscd`). */
  async readUrl(attachment: Pick<Attachment, 'blob' | 'name' | 'type'>): Promise<SignedUrl> {
    const disposition = contentDisposition(attachment);
    return this.#sign(attachment.blob, BlobSASPermissions.parse('r'), this.#readMs, {
      contentType: attachment.type,
      cacheControl: `private, max-age=${Math.floor(this.#readMs / 1000)}`,
      ...(disposition !== undefined ? { contentDisposition: disposition } : {}),
    });
  }

  /** One HEAD: the blob's size and content type, or `undefined` when it does not exist. */
  async head(blob: string): Promise<StoredBlob | undefined> {
    try {
      const props = await this.container.getBlobClient(blob).getProperties();
      const sender = props.metadata?.[SENDER_METADATA];
      return {
        size: props.contentLength ?? 0,
        type: props.contentType,
        etag: props.etag,
        sender: sender === undefined ? undefined : decodeURIComponent(sender),
      };
    } catch (error) {
      if (error instanceof RestError && (error.statusCode === 404 || error.code === 'BlobNotFound')) {
        return undefined;
      }
      throw error;
    }
  }

  /**
   * Whether `attachment` is stored as declared (the blob exists with that size and content type) and is a file of
   * `sender`'s (claimed by a message of theirs, or before senders were kept).
   */
  async matches(attachment: Attachment, sender: string): Promise<boolean> {
    const stored = await this.head(attachment.blob);
    return isAsDeclared(stored, attachment) && (stored?.sender === undefined || stored.sender === sender);
  }

  /**
   * Makes the upload of `attachment` a file of its conversation when it is stored as declared (its size, at most
   * {@link maxBytes}, and its type): copies the pending blob to the attachment's blob name (Copy Blob From URL,
   * within the account, up to 256 MiB), with `sender` in its metadata, and deletes the pending one. Already claimed
   * (a retried send, or a second message with the same file): whether the claimed blob is as declared and the
   * sender's: deleting a message deletes its file, so nobody may send another's file again and delete it with their
   * own message. A pending blob that is too large or of a refused type is deleted. One HEAD, then one copy and one
   * delete.
   */
  async claim(attachment: Attachment, sender: string): Promise<boolean> {
    const pendingName = pendingBlobName(attachment.blob);
    const pending = await this.head(pendingName);
    if (pending === undefined) return this.matches(attachment, sender);
    if (pending.size > this.maxBytes || !isAllowedType(pending.type ?? '')) {
      await this.remove(pendingName);
      return false;
    }
    if (!isAsDeclared(pending, attachment)) return false;
    const source = await this.#sign(pendingName, BlobSASPermissions.parse('r'), this.#readMs, {});
    try {
      await this.container.getBlobClient(attachment.blob).syncCopyFromURL(source.url, {
        // Never over a claimed file; only the very upload that was checked.
        conditions: { ifNoneMatch: '*' },
        metadata: { [SENDER_METADATA]: encodeURIComponent(sender) },
        ...(pending.etag !== undefined ? { sourceConditions: { ifMatch: pending.etag } } : {}),
      });
    } catch (error) {
      const status = error instanceof RestError ? error.statusCode : undefined;
      // 409 or 412: another send claimed it meanwhile (the file is there), or the upload changed since the HEAD
      // (nothing is): whatever is under the file's name decides.
      if (status === 409 || status === 412) return this.matches(attachment, sender);
      throw error;
    }
    await this.remove(pendingName);
    return true;
  }

  /** Deletes `blob` if it exists (a file of a message deleted or removed, or an upload refused). */
  async remove(blob: string): Promise<void> {
    await this.container.getBlobClient(blob).deleteIfExists();
  }

  /**
   * Deletes every file of `conversation` and its uploads not sent yet (a deleted group's): one listing call per
   * 5 000 blobs of each of the two folders and one delete per blob. Returns how many it deleted.
   */
  async removeConversation(conversation: string): Promise<number> {
    const folder = attachmentFolder(conversation);
    let deleted = 0;
    for (const prefix of [folder, pendingBlobName(folder)]) {
      try {
        for await (const blob of this.container.listBlobsFlat({ prefix })) {
          await this.container.getBlobClient(blob.name).deleteIfExists();
          deleted++;
        }
      } catch (error) {
        // No container yet: no file was ever stored.
        if (!(error instanceof RestError && error.statusCode === 404)) throw error;
      }
    }
    return deleted;
  }

  async #sign(
    blob: string,
    permissions: BlobSASPermissions,
    lifetimeMs: number,
    headers: { contentType?: string; contentDisposition?: string; cacheControl?: string },
  ): Promise<SignedUrl> {
    const now = this.#now();
    const startsOn = new Date(now - CLOCK_SKEW_MS);
    const expiresOn = new Date(now + lifetimeMs);
    const client = this.container.getBlobClient(blob);
    const options = { permissions, startsOn, expiresOn, ...headers };
    const url =
      this.signing === 'account-key'
        ? await client.generateSasUrl(options)
        : await client.generateUserDelegationSasUrl(options, await this.#delegationKey(now, expiresOn));
    return { url, expiresOn: expiresOn.toISOString() };
  }

  /** The user-delegation key, shared by every SAS of this instance until it nears its end. */
  #delegationKey(now: number, until: Date): Promise<UserDelegationKey> {
    if (this.#key === undefined || this.#keyExpires - DELEGATION_KEY_MS / 4 < until.getTime()) {
      const expires = now + DELEGATION_KEY_MS;
      this.#keyExpires = expires;
      this.#key = this.#service
        .getUserDelegationKey(new Date(now - CLOCK_SKEW_MS), new Date(expires))
        .then((r) => r as UserDelegationKey);
      this.#key.catch(() => {
        this.#key = undefined;
      });
    }
    return this.#key;
  }
}

function isAsDeclared(stored: StoredBlob | undefined, attachment: Attachment): boolean {
  return stored !== undefined && stored.size === attachment.size && stored.type === attachment.type;
}

/**
 * The store the app's settings describe: `CHAT_ATTACHMENTS_STORAGE` (else `CHAT_HISTORY_STORAGE`),
 * `CHAT_ATTACHMENTS_CONTAINER`, `CHAT_ATTACHMENT_MAX_BYTES`, `AZURE_CLIENT_ID`; `undefined` when attachments are
 * `off`. Throws an error naming a setting that is invalid.
 */
export function attachmentStoreFromSettings(
  env: NodeJS.ProcessEnv = process.env,
): AttachmentStore | undefined {
  const storage = readSetting('attachmentsStorage', env) ?? readSetting('historyStorage', env);
  if (storage === undefined || storage.toLowerCase() === 'off') return undefined;
  const raw = readSetting('attachmentMaxBytes', env) ?? '';
  const maxBytes = Number(raw);
  const ceiling = ATTACHMENT_LIMITS.maxBytesCeiling;
  if (!/^\d+$/.test(raw) || maxBytes < 1 || maxBytes > ceiling) {
    throw new Error(
      `The app setting ${SETTINGS.attachmentMaxBytes.name} must be a whole number of bytes from 1 to ${ceiling}, not "${raw}"`,
    );
  }
  const container = readSetting('attachmentsContainer', env) ?? SETTINGS.attachmentsContainer.default;
  if (/^https?:\/\//i.test(storage)) {
    const clientId = readSetting('managedIdentityClientId', env);
    const credential = new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
    const service = new BlobServiceClient(storage, credential, { retryOptions: BLOB_RETRY_OPTIONS });
    return new AttachmentStore({ service, container, signing: 'user-delegation', maxBytes });
  }
  const service = BlobServiceClient.fromConnectionString(storage, { retryOptions: BLOB_RETRY_OPTIONS });
  return new AttachmentStore({ service, container, signing: 'account-key', maxBytes });
}
