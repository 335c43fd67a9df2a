/**
 * The attachments container and its short-lived SAS URLs (docs/architecture.md, "Attachments"): a create-only
 * SAS for one blob to upload, a read SAS for one blob to show or download (`rscd` for files), and one HEAD to
 * check what a message refers to. In Azure the SAS is a user-delegation SAS signed with a key the app's managed
 * identity asks for (the account has no shared keys); with a connection string (Azurite) it is an account-key SAS.
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
import { ATTACHMENT_LIMITS, type Attachment, contentDisposition } from './rules.js';

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
}

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
   * A SAS URL that can create `blob` once (permissions `c`: no read, no overwrite, no other blob), valid a few
   * minutes. The browser PUTs the file to it.
   */
  async uploadUrl(blob: string): Promise<SignedUrl> {
    await this.ensureContainer();
    return this.#sign(blob, BlobSASPermissions.parse('c'), this.#uploadMs, {});
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
      return { size: props.contentLength ?? 0, type: props.contentType };
    } catch (error) {
      if (error instanceof RestError && (error.statusCode === 404 || error.code === 'BlobNotFound')) {
        return undefined;
      }
      throw error;
    }
  }

  /** Whether `attachment` is stored as declared: the blob exists with that size and content type. */
  async matches(attachment: Attachment): Promise<boolean> {
    const stored = await this.head(attachment.blob);
    return stored !== undefined && stored.size === attachment.size && stored.type === attachment.type;
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
