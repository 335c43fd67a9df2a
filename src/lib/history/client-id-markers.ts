/**
 * The chat history store on Azure Blob Storage (docs/architecture.md, "History in Blob Storage").
 *
 * **Layout** (see `layout.ts`): each conversation is a series of append blobs `<folder>/<segment>.jsonl`, one JSON
 * line per message, one `appendBlock` per message. An append is atomic and needs no read-modify-write, so any
 * number of Function instances can write the same conversation without losing each other's messages.
 *
 * **Rollover.** An append blob holds at most 50 000 blocks, and no append condition counts blocks (`maxSize` and
 * `appendPosition` are byte conditions). Each append's response reports the blob's committed block count; the
 * writer that sees it reach `segmentBlockLimit` rolls: it creates the next segment with `If-None-Match: *` (two
 * writers rolling at once create it once, and neither truncates the other's), then **seals** the full one. From
 * then on the service refuses every append to the full segment with `BlobIsSealed` — a definite refusal, nothing
 * written — and the refused writer rolls too and appends again. So a writer whose remembered segment is stale
 * (an instance idle while others rolled on) can never file a new message among old ones, and a segment exceeds
 * the limit only by the appends already in flight when it filled (the default 49 000 leaves 1 000 blocks of
 * margin; `BlockCountExceedsLimit` is handled like `BlobIsSealed` should it ever be reached). Every message is
 * written by exactly one successful `appendBlock`: none is lost, none is written twice by a roll.
 *
 * **Duplicates.** A `clientMessageId` is claimed *before* the append by creating a marker blob per
 * (conversation, sender, clientMessageId) with `If-None-Match: *`; the marker holds the message (with its id) and
 * metadata `state` = `pending`, set to `stored` after the append. Exactly one creation succeeds across all
 * instances; every other send with the same id waits until the marker is `stored` and gets its message back with
 * `duplicate: true`. The crash window (marker created, process gone before or during the append) is closed by
 * recovery: a send that finds a marker still `pending` after `pendingClaimTimeoutMs` (measured on the service's
 * clock: response `Date` minus marker `Last-Modified`) takes it over with an ETag-conditional metadata update (one
 * taker wins) and looks for the message's id near the tail of the history. Found: it only marks it `stored`. Not
 * found (it was never appended, so nobody has seen it): it gives it a fresh id and time, appends it and marks it
 * `stored`. So an accepted message is never lost, and a retried one is stored once. Two rare cases can still
 * leave a second copy in a segment — a writer stalled longer than the timeout whose append lands afterwards, and
 * the SDK's own retry of an append whose first try was applied but whose answer was lost — so readers show one
 * message per id and per (sender, clientMessageId).
 *
 * **Reading.** The order of a conversation is the storage order (segment, then offset): the one order every
 * reader agrees on, even when the clocks of two instances disagree a little. The newest messages come from the
 * tail of the newest segment(s) by ranged downloads (`segment-reader.ts`): the cost is the size of the page, not
 * of the history. `before` first finds the message — the segment by the id time of each segment's first line
 * (binary search, cached), the offset by a bisection on id times within the segment (`locate.ts`) — then reads
 * backwards from there across segment boundaries. Should a message have been written more than
 * `reorderWindowMs` away from its id time, the search falls back to a full backward scan rather than miss it;
 * an id dated in the future or before the conversation's first message is refused without that scan, so a
 * made-up `before` cannot make a reader download the whole history.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DefaultAzureCredential } from '@azure/identity';
import {
  type AppendBlobClient,
  BlobServiceClient,
  type ContainerClient,
  RestError,
} from '@azure/storage-blob';
import { decodeTime } from 'ulid';
import { setBounded } from '../bounded-map.js';
import {
  DEFAULT_HISTORY_LIMIT,
  MAX_CLIENT_MESSAGE_ID_LENGTH,
  MAX_HISTORY_LIMIT,
  MAX_TEXT_LENGTH,
  nameProblem,
  parseConversation,
} from '../conversation.js';
import { readSetting, requireSetting, SETTINGS } from '../settings.js';
import { HistoryError } from './errors.js';
import {
  clientIdMarkerName,
  conversationFolder,
  FIRST_SEGMENT,
  segmentBlobName,
  segmentNumber,
} from './layout.js';
import { findLine } from './locate.js';
import {
  type AppendResult,
  type ChatMessage,
  type HistoryPage,
  isMessageId,
  type NewMessage,
  newMessageId,
} from './message.js';
import { downloadRange, ID_HEAD_BYTES, idOfLine, linesBackward, readStream } from './segment-reader.js';

/**
 * Blocks per segment before writers move to the next one (49 000; Azure's hard limit is 50 000, margin: see
 * above). The default of the setting `CHAT_HISTORY_SEGMENT_BLOCK_LIMIT`, defined once in the settings catalogue.
 */
export const DEFAULT_SEGMENT_BLOCK_LIMIT = Number(SETTINGS.historySegmentBlockLimit.default);
/** Azure's limit of blocks in one append blob. */
export const MAX_APPEND_BLOB_BLOCKS = 50_000;
/** Bytes fetched per ranged download when reading backwards. */
export const DEFAULT_READ_CHUNK_BYTES = 64 * 1024;
/** How old a `pending` marker must be (service clock) before another send may take it over. */
export const DEFAULT_PENDING_CLAIM_TIMEOUT_MS = 15_000;
/** How often a duplicate send re-reads a `pending` marker while it waits for the first send to finish. */
export const DEFAULT_PENDING_POLL_MS = 100;
/**
 * The most a message's id time and the moment it lands in storage may differ (clock skew between instances plus
 * append latency). `before` searches and crash recovery use it to bound what they read; a message outside it is
 * still found, by a slower full scan.
 */
export const DEFAULT_REORDER_WINDOW_MS = 5 * 60_000;
/** Conversations whose current segment number is remembered (oldest forgotten first; rediscovered by listing). */
export const DEFAULT_MAX_CACHED_CONVERSATIONS = 10_000;
/** Attempts of one append across rollovers and segment creation before it gives up. */
const MAX_APPEND_ATTEMPTS = 10;

/** Options of {@link createHistoryStore}. Every limit has its default next to it above. */
export interface HistoryStoreOptions {
  /**
   * `CHAT_HISTORY_STORAGE`: a connection string (Azurite, `UseDevelopmentStorage=true`) or a Blob service URI
   * (`https://<account>.blob.core.windows.net`, then `DefaultAzureCredential`). Ignored when `containerClient` is given.
   */
  storage?: string;
  /** A ready container client (tests; custom pipelines). */
  containerClient?: ContainerClient;
  /** Container name; default `CHAT_HISTORY_CONTAINER`'s default, `chat-history`. */
  container?: string;
  /** Managed identity client id for `DefaultAzureCredential` (the `AZURE_CLIENT_ID` setting). */
  managedIdentityClientId?: string;
  /** See {@link DEFAULT_SEGMENT_BLOCK_LIMIT}. 1 … 50 000. */
  segmentBlockLimit?: number;
  /** See {@link DEFAULT_READ_CHUNK_BYTES}. */
  readChunkBytes?: number;
  /** Longest text in characters; default the chat's {@link MAX_TEXT_LENGTH}. */
  maxTextLength?: number;
  /** See {@link DEFAULT_PENDING_CLAIM_TIMEOUT_MS}. */
  pendingClaimTimeoutMs?: number;
  /** See {@link DEFAULT_PENDING_POLL_MS}. */
  pendingPollMs?: number;
  /** See {@link DEFAULT_REORDER_WINDOW_MS}. */
  reorderWindowMs?: number;
  /** See {@link DEFAULT_MAX_CACHED_CONVERSATIONS}. */
  maxCachedConversations?: number;
}

/** Options of {@link HistoryStore.read}. */
export interface ReadOptions {
  /** Return the messages stored before this message id (paging backwards). */
  before?: string;
  /** 1 … {@link MAX_HISTORY_LIMIT}, default {@link DEFAULT_HISTORY_LIMIT}. */
  limit?: number;
}

type MarkerState = 'pending' | 'recovering' | 'stored';

interface SegmentInfo {
  segment: number;
  size: number;
}

/** A line in a listed conversation: the index into its segment list and the line's byte offset. */
interface LinePosition {
  index: number;
  offset: number;
}

interface Marker {
  message: ChatMessage;
  state: MarkerState;
  etag: string;
  /** Service clock: response `Date` minus `Last-Modified`. */
  ageMs: number;
}

/**
 * Creates a history store. With `storage` a connection string or a Blob service URI (identity-based access),
 * or with a ready `containerClient`. The container is created on first use if it does not exist.
 */
export function createHistoryStore(options: HistoryStoreOptions): HistoryStore {
  return new HistoryStore(options);
}

/**
 * Creates the store the app uses, from the settings `CHAT_HISTORY_STORAGE`, `CHAT_HISTORY_CONTAINER`,
 * `CHAT_HISTORY_SEGMENT_BLOCK_LIMIT` and `AZURE_CLIENT_ID`.
 */
export function createHistoryStoreFromSettings(env: NodeJS.ProcessEnv = process.env): HistoryStore {
  const storage = requireSetting('historyStorage', env);
  const container = readSetting('historyContainer', env);
  const managedIdentityClientId = readSetting('managedIdentityClientId', env);
  const limit = readSetting('historySegmentBlockLimit', env) ?? SETTINGS.historySegmentBlockLimit.default;
  const segmentBlockLimit = Number(limit);
  if (
    !Number.isInteger(segmentBlockLimit) ||
    segmentBlockLimit < 1 ||
    segmentBlockLimit > MAX_APPEND_BLOB_BLOCKS
  ) {
    throw new Error(
      `The app setting CHAT_HISTORY_SEGMENT_BLOCK_LIMIT must be a whole number from 1 to ${MAX_APPEND_BLOB_BLOCKS}, not "${limit}"`,
    );
  }
  return new HistoryStore({
    storage,
    segmentBlockLimit,
    ...(container === undefined ? {} : { container }),
    ...(managedIdentityClientId === undefined ? {} : { managedIdentityClientId }),
  });
}

/** Builds the container client for a `CHAT_HISTORY_STORAGE` value. */
function containerClientFor(
  storage: string,
  container: string,
  managedIdentityClientId?: string,
): ContainerClient {
  // A URI names the service and means identity-based access; anything else is a connection string.
  if (/^https?:\/\//i.test(storage)) {
    const credential = new DefaultAzureCredential(
      managedIdentityClientId === undefined ? {} : { managedIdentityClientId },
    );
    return new BlobServiceClient(storage, credential).getContainerClient(container);
  }
  return BlobServiceClient.fromConnectionString(storage).getContainerClient(container);
}

/** The Blob history store. Safe to use from many Function instances at once (see the module comment). */
export class HistoryStore {
  /** The container that holds the history. */
  readonly containerClient: ContainerClient;
  private readonly segmentBlockLimit: number;
  private readonly readChunkBytes: number;
  private readonly maxTextLength: number;
  private readonly pendingClaimTimeoutMs: number;
  private readonly pendingPollMs: number;
  private readonly reorderWindowMs: number;
  private readonly maxCachedConversations: number;
  /** The segment this instance appends to, per conversation. A hint only: the service's answers correct it. */
  private readonly currentSegments = new Map<string, number>();
  /** The id time of each segment's first line, by blob name. */
  private readonly segmentHeads = new Map<string, number>();
  private containerReady: Promise<void> | undefined;

  constructor(options: HistoryStoreOptions) {
    const container = options.container ?? SETTINGS.historyContainer.default;
    if (options.containerClient) {
      this.containerClient = options.containerClient;
    } else if (options.storage !== undefined && options.storage.trim() !== '') {
      this.containerClient = containerClientFor(
        options.storage.trim(),
        container,
        options.managedIdentityClientId,
      );
    } else {
      throw new Error(
        'createHistoryStore needs `storage` (CHAT_HISTORY_STORAGE: a connection string or a Blob service URI) or `containerClient`',
      );
    }
    this.segmentBlockLimit = integerOption(
      'segmentBlockLimit',
      options.segmentBlockLimit ?? DEFAULT_SEGMENT_BLOCK_LIMIT,
      1,
      MAX_APPEND_BLOB_BLOCKS,
    );
    this.readChunkBytes = integerOption(
      'readChunkBytes',
      options.readChunkBytes ?? DEFAULT_READ_CHUNK_BYTES,
      1,
    );
    this.maxTextLength = integerOption('maxTextLength', options.maxTextLength ?? MAX_TEXT_LENGTH, 1);
    this.pendingClaimTimeoutMs = integerOption(
      'pendingClaimTimeoutMs',
      options.pendingClaimTimeoutMs ?? DEFAULT_PENDING_CLAIM_TIMEOUT_MS,
      0,
    );
    this.pendingPollMs = integerOption('pendingPollMs', options.pendingPollMs ?? DEFAULT_PENDING_POLL_MS, 1);
    this.reorderWindowMs = integerOption(
      'reorderWindowMs',
      options.reorderWindowMs ?? DEFAULT_REORDER_WINDOW_MS,
      0,
    );
    this.maxCachedConversations = integerOption(
      'maxCachedConversations',
      options.maxCachedConversations ?? DEFAULT_MAX_CACHED_CONVERSATIONS,
      1,
    );
  }

  /**
   * Stores a message and returns it with its server-assigned `id` and `sentAt`. A repeated `clientMessageId` from
   * the same sender in the same conversation is not stored again: the original message comes back with
   * `duplicate: true`. Throws {@link HistoryError} for invalid input.
   */
  async append(input: NewMessage): Promise<AppendResult> {
    const draft = this.validateNewMessage(input);
    await this.ensureContainer();
    const { id, sentAt } = newMessageId();
    const message: ChatMessage = { id, ...draft, sentAt };
    if (message.clientMessageId === undefined) {
      await this.appendLine(message);
      return { message, duplicate: false };
    }
    return this.appendOnce(message, message.clientMessageId);
  }

  /**
   * Reads one page of a conversation, oldest first: the newest `limit` messages, or with `before` the `limit`
   * messages stored before that message. `hasMore` says whether older ones exist. Throws {@link HistoryError}
   * for an invalid conversation id, limit or `before` id, and for a `before` id not in the conversation.
   */
  async read(conversation: string, options: ReadOptions = {}): Promise<HistoryPage> {
    validateConversation(conversation);
    const limit = validateLimit(options.limit);
    const before = options.before;
    if (before !== undefined && !isMessageId(before)) {
      throw new HistoryError(
        'invalid_before',
        `"${String(before).slice(0, 64)}" is not a message id (a 26-character ULID)`,
      );
    }
    await this.ensureContainer();
    const segments = await this.listSegments(conversation);
    let start: LinePosition | undefined = endOf(segments);
    if (before !== undefined) {
      start = await this.locate(conversation, segments, before);
      if (start === undefined) {
        throw new HistoryError('invalid_before', `no message ${before} in conversation ${conversation}`);
      }
    }
    const newestFirst: ChatMessage[] = [];
    const seen = new Set<string>();
    let hasMore = false;
    if (start !== undefined) {
      for await (const { message } of this.messagesBackward(conversation, segments, start)) {
        // A message written twice (see the module comment) is shown once.
        const keys = identityKeys(message);
        if (keys.some((key) => seen.has(key))) continue;
        for (const key of keys) seen.add(key);
        if (newestFirst.length === limit) {
          hasMore = true;
          break;
        }
        newestFirst.push(message);
      }
    }
    return { conversation, messages: newestFirst.reverse(), hasMore };
  }

  // ── appending ────────────────────────────────────────────────────────────────────────────────────────────

  private async appendOnce(message: ChatMessage, clientMessageId: string): Promise<AppendResult> {
    const marker = this.containerClient.getBlockBlobClient(
      clientIdMarkerName(message.conversation, message.from, clientMessageId),
    );
    const body = JSON.stringify(message);
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
      let created: string | undefined;
      try {
        const response = await marker.upload(body, Buffer.byteLength(body), {
          conditions: { ifNoneMatch: '*' },
          metadata: { state: 'pending' },
          blobHTTPHeaders: { blobContentType: 'application/json' },
        });
        created = response.etag ?? '*';
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
      if (created !== undefined) {
        try {
          await this.appendLine(message);
        } catch (error) {
          // The service refused the append outright (a 4xx): nothing was written, so release the claim and let a
          // retry start afresh. Any other failure may have been written: leave the marker for recovery.
          if (error instanceof RestError && error.statusCode !== undefined && error.statusCode < 500) {
            await marker.delete({ conditions: { ifMatch: created } }).catch(() => undefined);
          }
          throw error;
        }
        // The message is stored whatever happens now. Should this update fail, the marker stays `pending` and a
        // retry of the send finds the message by recovery; failing the send here would only provoke that retry.
        await marker.setMetadata({ state: 'stored' }).catch(() => undefined);
        return { message, duplicate: false };
      }
      const original = await this.settleExistingMarker(marker);
      // `undefined`: the claim was released (its send was refused) while we waited; claim it afresh.
      if (original !== undefined) return { message: original, duplicate: true };
    }
    throw new Error(
      `Could not settle clientMessageId of ${message.from} in ${message.conversation} after ${MAX_APPEND_ATTEMPTS} attempts`,
    );
  }

  /**
   * Waits for an existing marker's message to be stored, or takes over a marker abandoned by a crashed send.
   * `undefined` when the marker has been deleted meanwhile.
   */
  private async settleExistingMarker(
    marker: ReturnType<ContainerClient['getBlockBlobClient']>,
  ): Promise<ChatMessage | undefined> {
    for (;;) {
      const current = await readMarker(marker);
      if (current === undefined) return undefined;
      if (current.state === 'stored') return current.message;
      if (current.ageMs >= this.pendingClaimTimeoutMs) {
        let claimed: { etag?: string };
        try {
          // Only one taker wins the ETag; the others see a 412 and go round again.
          claimed = await marker.setMetadata(
            { state: 'recovering' },
            { conditions: { ifMatch: current.etag } },
          );
        } catch (error) {
          if (error instanceof RestError && [404, 409, 412].includes(error.statusCode ?? 0)) continue;
          throw error;
        }
        if (await this.isRecentlyStored(current.message)) {
          await marker.setMetadata({ state: 'stored' });
          return current.message;
        }
        // Never appended, so never seen by anyone: a fresh id and time file it where it is appended now.
        const recovered: ChatMessage = { ...current.message, ...newMessageId() };
        const body = JSON.stringify(recovered);
        try {
          await marker.upload(body, Buffer.byteLength(body), {
            conditions: { ifMatch: claimed.etag ?? '*' },
            metadata: { state: 'recovering' },
            blobHTTPHeaders: { blobContentType: 'application/json' },
          });
        } catch (error) {
          if (error instanceof RestError && (error.statusCode === 412 || error.statusCode === 404)) continue;
          throw error;
        }
        await this.appendLine(recovered);
        await marker.setMetadata({ state: 'stored' });
        return recovered;
      }
      await sleep(this.pendingPollMs);
    }
  }

  /** Whether `message.id` is in the tail of its conversation, looking back to `reorderWindowMs` before its time. */
  private async isRecentlyStored(message: ChatMessage): Promise<boolean> {
    const oldest = decodeTime(message.id) - this.reorderWindowMs;
    const segments = await this.listSegments(message.conversation);
    const end = endOf(segments);
    if (end === undefined) return false;
    for await (const { message: stored } of this.messagesBackward(message.conversation, segments, end)) {
      if (
        stored.id === message.id ||
        (stored.from === message.from && stored.clientMessageId === message.clientMessageId)
      ) {
        return true;
      }
      if (decodeTime(stored.id) < oldest) return false;
    }
    return false;
  }

  /** Appends one message as one block, rolling to the next segment when the current one is full. */
  private async appendLine(message: ChatMessage): Promise<void> {
    const conversation = message.conversation;
    const line = Buffer.from(`${JSON.stringify(message)}\n`, 'utf8');
    let segment = this.currentSegments.get(conversation) ?? (await this.discoverSegment(conversation));
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
      const blob = this.segmentClient(conversation, segment);
      try {
        const response = await blob.appendBlock(line, line.length);
        this.rememberSegment(conversation, segment);
        if ((response.blobCommittedBlockCount ?? 0) >= this.segmentBlockLimit) {
          // This append filled the segment: move on now, so the next append goes to the new one.
          await this.roll(conversation, segment);
        }
        return;
      } catch (error) {
        const code = errorCode(error);
        if (code === 'BlobNotFound') {
          await this.createSegment(conversation, segment);
        } else if (code === 'BlockCountExceedsLimit' || code === 'BlobIsSealed') {
          segment = await this.roll(conversation, segment);
        } else {
          throw error;
        }
      }
    }
    throw new Error(
      `Could not append to conversation ${conversation} after ${MAX_APPEND_ATTEMPTS} attempts (segments kept filling or vanishing)`,
    );
  }

  /**
   * Moves past a full segment: to the next one, or further if other writers already rolled past it. Creates the
   * next segment first and then seals the full one, so a writer refused by the seal always finds a successor.
   */
  private async roll(conversation: string, full: number): Promise<number> {
    const latest = await this.discoverSegment(conversation);
    const next = Math.max(full + 1, latest);
    await this.createSegment(conversation, next);
    this.rememberSegment(conversation, next);
    try {
      await this.segmentClient(conversation, full).seal();
    } catch (error) {
      // Sealed already, or gone: either way nothing more can be appended to it.
      if (!(error instanceof RestError && (error.statusCode === 409 || error.statusCode === 404)))
        throw error;
    }
    return next;
  }

  /** Creates a segment unless it exists. `If-None-Match: *` — a plain create would truncate a segment in use. */
  private async createSegment(conversation: string, segment: number): Promise<void> {
    try {
      await this.segmentClient(conversation, segment).create({
        conditions: { ifNoneMatch: '*' },
        blobHTTPHeaders: { blobContentType: 'application/x-ndjson; charset=utf-8' },
      });
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  }

  /** The newest segment number of a conversation, from a listing ({@link FIRST_SEGMENT} when there is none yet). */
  private async discoverSegment(conversation: string): Promise<number> {
    const segments = await this.listSegments(conversation);
    const newest = segments.at(-1)?.segment ?? FIRST_SEGMENT;
    this.rememberSegment(conversation, newest);
    return newest;
  }

  private rememberSegment(conversation: string, segment: number): void {
    const known = this.currentSegments.get(conversation) ?? segment;
    setBounded(this.currentSegments, conversation, Math.max(segment, known), this.maxCachedConversations);
  }

  // ── reading ──────────────────────────────────────────────────────────────────────────────────────────────

  /** The segments of a conversation with their sizes, oldest first. One listing call per 5 000 segments. */
  private async listSegments(conversation: string): Promise<SegmentInfo[]> {
    const segments: SegmentInfo[] = [];
    const prefix = `${conversationFolder(conversation)}/`;
    for await (const item of this.containerClient.listBlobsByHierarchy('/', { prefix })) {
      if (item.kind !== 'blob') continue;
      const segment = segmentNumber(conversation, item.name);
      if (segment !== undefined) segments.push({ segment, size: item.properties.contentLength ?? 0 });
    }
    return segments.sort((a, b) => a.segment - b.segment);
  }

  /**
   * The messages of a conversation before a position, newest first, read backwards on demand across segments.
   * `start` is exclusive: the line at `start.offset` itself is not yielded.
   */
  private async *messagesBackward(
    conversation: string,
    segments: readonly SegmentInfo[],
    start: LinePosition,
  ): AsyncGenerator<{ message: ChatMessage; position: LinePosition }, void, undefined> {
    for (let index = start.index; index >= 0; index--) {
      const { segment, size } = segments[index] as SegmentInfo;
      const end = index === start.index ? start.offset : size;
      const blob = this.segmentClient(conversation, segment);
      for await (const line of linesBackward(blob, end, this.readChunkBytes)) {
        yield {
          message: parseLine(line.bytes, conversation, segment, line.offset),
          position: { index, offset: line.offset },
        };
      }
    }
  }

  /** Where the message `id` is stored (see the module comment and `locate.ts`), or `undefined` if nowhere. */
  private async locate(
    conversation: string,
    segments: readonly SegmentInfo[],
    id: string,
  ): Promise<LinePosition | undefined> {
    const time = decodeTime(id);
    // The newest segment whose first message is not later than the window after `id`: `id` cannot be in a newer one.
    let low = 0;
    let high = segments.length - 1;
    let newest = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const head = await this.headTime(conversation, segments[middle] as SegmentInfo);
      if (head === undefined || head <= time + this.reorderWindowMs) {
        newest = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    for (let index = newest; index >= 0; index--) {
      const { segment, size } = segments[index] as SegmentInfo;
      const offset = await findLine(
        this.segmentClient(conversation, segment),
        size,
        id,
        this.reorderWindowMs,
        this.readChunkBytes,
      );
      if (offset !== undefined) return { index, offset };
      // A segment that began well before `id` was written holds it if any does; older ones were sealed by then.
      const head = await this.headTime(conversation, segments[index] as SegmentInfo);
      if (head !== undefined && head < time - this.reorderWindowMs) break;
    }
    // Outside the window's assumptions (a clock far off, an append stalled for minutes): look everywhere — but
    // not for an id from the future or from before the conversation began, which cannot be in it.
    if (time > Date.now() + this.reorderWindowMs) return undefined;
    const first = segments[0];
    const firstHead = first === undefined ? undefined : await this.headTime(conversation, first);
    if (firstHead !== undefined && time < firstHead - this.reorderWindowMs) return undefined;
    const end = endOf(segments);
    if (end === undefined) return undefined;
    for await (const { message, position } of this.messagesBackward(conversation, segments, end)) {
      if (message.id === id) return position;
    }
    return undefined;
  }

  /** The id time of a segment's first message (cached: the first line of a segment never changes). */
  private async headTime(conversation: string, info: SegmentInfo): Promise<number | undefined> {
    const name = segmentBlobName(conversation, info.segment);
    const cached = this.segmentHeads.get(name);
    if (cached !== undefined) return cached;
    if (info.size === 0) return undefined;
    const id = idOfLine(
      await downloadRange(this.segmentClient(conversation, info.segment), 0, ID_HEAD_BYTES),
    );
    if (id === undefined) return undefined;
    const time = decodeTime(id);
    setBounded(this.segmentHeads, name, time, this.maxCachedConversations);
    return time;
  }

  private segmentClient(conversation: string, segment: number): AppendBlobClient {
    return this.containerClient.getAppendBlobClient(segmentBlobName(conversation, segment));
  }

  /**
   * Resolves once the container exists: created on first use, once per store; a failure is not remembered, so
   * the next call tries again. The chat awaits it before presence and memberships list the container.
   */
  ensureContainer(): Promise<void> {
    this.containerReady ??= this.containerClient.createIfNotExists().then(
      () => undefined,
      (error: unknown) => {
        // An identity allowed to read and write blobs but not to create containers: the infrastructure created
        // it (infra/), and if it did not, the first real request says ContainerNotFound.
        if (error instanceof RestError && error.statusCode === 403) return;
        // Let the next call try again rather than remembering a transient failure forever.
        this.containerReady = undefined;
        throw error;
      },
    );
    return this.containerReady;
  }

  // ── validation ───────────────────────────────────────────────────────────────────────────────────────────

  private validateNewMessage(input: NewMessage): Omit<ChatMessage, 'id' | 'sentAt'> {
    if (typeof input !== 'object' || input === null) {
      throw new HistoryError(
        'invalid_message',
        'give an object { conversation, from, text, to?, group?, clientMessageId? }',
      );
    }
    const parsed = validateConversation(input.conversation);
    const fromProblem = typeof input.from === 'string' ? nameProblem(input.from) : 'The user name is missing';
    if (fromProblem !== undefined) throw new HistoryError('invalid_message', `from: ${fromProblem}`);
    if (typeof input.text !== 'string' || input.text.length === 0) {
      throw new HistoryError('invalid_message', 'the text is empty: give 1 or more characters');
    }
    if ([...input.text].length > this.maxTextLength) {
      throw new HistoryError('invalid_message', `the text is longer than ${this.maxTextLength} characters`);
    }
    const { clientMessageId } = input;
    if (
      clientMessageId !== undefined &&
      (typeof clientMessageId !== 'string' ||
        clientMessageId.length === 0 ||
        clientMessageId.length > MAX_CLIENT_MESSAGE_ID_LENGTH)
    ) {
      throw new HistoryError(
        'invalid_message',
        `clientMessageId must be a string of 1–${MAX_CLIENT_MESSAGE_ID_LENGTH} characters`,
      );
    }
    // The addressing must agree with the conversation, or a message would be filed where its readers never look.
    if (parsed.kind === 'room' && (input.to !== undefined || input.group !== undefined)) {
      throw new HistoryError('invalid_message', 'a room message has neither `to` nor `group`');
    }
    if (parsed.kind === 'group' && (input.group !== parsed.group || input.to !== undefined)) {
      throw new HistoryError(
        'invalid_message',
        `a message in ${input.conversation} has group "${parsed.group}" and no \`to\``,
      );
    }
    if (parsed.kind === 'dm') {
      const [a, b] = parsed.users;
      const pairOk =
        input.group === undefined &&
        ((input.from === a && input.to === b) || (input.from === b && input.to === a));
      if (!pairOk) {
        throw new HistoryError(
          'invalid_message',
          `a message in ${input.conversation} goes from one of its two users to the other`,
        );
      }
    }
    return {
      conversation: input.conversation,
      from: input.from,
      ...(input.to === undefined ? {} : { to: input.to }),
      ...(input.group === undefined ? {} : { group: input.group }),
      text: input.text,
      ...(clientMessageId === undefined ? {} : { clientMessageId }),
    };
  }
}

/** Just past the last line of the newest segment; `undefined` when the conversation has no segment yet. */
function endOf(segments: readonly SegmentInfo[]): LinePosition | undefined {
  const index = segments.length - 1;
  const last = segments[index];
  return last === undefined ? undefined : { index, offset: last.size };
}

/** The keys under which a reader recognises a repeated message: its id, and its sender's clientMessageId. */
function identityKeys(message: ChatMessage): string[] {
  return message.clientMessageId === undefined
    ? [message.id]
    : [message.id, `${message.from}\u0000${message.clientMessageId}`];
}

function validateConversation(conversation: unknown): NonNullable<ReturnType<typeof parseConversation>> {
  const parsed = typeof conversation === 'string' ? parseConversation(conversation) : undefined;
  if (parsed === undefined) {
    throw new HistoryError(
      'invalid_conversation',
      `"${String(conversation).slice(0, 80)}" is not one of room, group:<name>, dm:<a>:<b> (names 1–32 letters, digits, spaces, "_", "-", "."; the two dm names sorted)`,
    );
  }
  return parsed;
}

function validateLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_HISTORY_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
    throw new HistoryError(
      'invalid_limit',
      `${String(limit)} is not a whole number from 1 to ${MAX_HISTORY_LIMIT}`,
    );
  }
  return limit;
}

function parseLine(bytes: Buffer, conversation: string, segment: number, offset: number): ChatMessage {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as ChatMessage;
    if (isMessageId(value.id)) return value;
  } catch {
    // Reported below with the position, which is what someone repairing the blob needs.
  }
  throw new HistoryError(
    'corrupt_history',
    `${segmentBlobName(conversation, segment)} at byte ${offset} (${bytes.length} bytes)`,
  );
}

async function readMarker(
  marker: ReturnType<ContainerClient['getBlockBlobClient']>,
): Promise<Marker | undefined> {
  let response: Awaited<ReturnType<typeof marker.download>>;
  try {
    response = await marker.download();
  } catch (error) {
    if (error instanceof RestError && error.statusCode === 404) return undefined;
    throw error;
  }
  const message = JSON.parse((await readStream(response.readableStreamBody)).toString('utf8')) as ChatMessage;
  const state = (response.metadata?.state ?? 'pending') as MarkerState;
  const now = response.date?.getTime() ?? Date.now();
  const modified = response.lastModified?.getTime() ?? now;
  return { message, state, etag: response.etag ?? '*', ageMs: Math.max(0, now - modified) };
}

function errorCode(error: unknown): string | undefined {
  if (!(error instanceof RestError)) return undefined;
  return error.code ?? (error.details as { errorCode?: string } | undefined)?.errorCode;
}

/** A create with `If-None-Match: *` on an existing blob: 409 BlobAlreadyExists (Azure) or 412 (some emulators). */
function isAlreadyExists(error: unknown): boolean {
  return error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412);
}

function integerOption(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `The history store option ${name} must be a whole number from ${min} to ${max}; got ${value}`,
    );
  }
  return value;
}
