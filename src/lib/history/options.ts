/**
 * How a history store is configured: every limit declared once with its default and range, the checks that turn
 * the options into the numbers the store works with, the container client a `CHAT_HISTORY_STORAGE` value names, and
 * the options the app's settings give.
 * See docs/architecture.md, "History in Blob Storage".
 */
import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { MAX_TEXT_LENGTH } from '../conversation.js';
import { readSetting, requireSetting, SETTINGS } from '../settings.js';

/** Azure's limit of blocks in one append blob. */
export const MAX_APPEND_BLOB_BLOCKS = 50_000;
/** Azure's limit of bytes in one Append Block. */
export const MAX_APPEND_BLOCK_BYTES = 4 * 1024 * 1024;

/** One limit of a history store: a whole number from `min` to `max`, and its default. */
export interface HistoryLimitSpec {
  readonly default: number;
  readonly min: number;
  readonly max?: number;
}

/** Every limit of a history store, declared once; {@link storeLimits} checks them in this order. */
export const HISTORY_LIMITS = {
  /**
   * Blocks per segment before writers move to the next one (49 000; Azure's hard limit is 50 000, margin: see
   * `append.ts`). The default of the setting `CHAT_HISTORY_SEGMENT_BLOCK_LIMIT`, defined in the settings catalogue.
   */
  segmentBlockLimit: {
    default: Number(SETTINGS.historySegmentBlockLimit.default),
    min: 1,
    max: MAX_APPEND_BLOB_BLOCKS,
  },
  /** Bytes fetched per ranged download when reading backwards. */
  readChunkBytes: { default: 64 * 1024, min: 1 },
  /** Longest text in characters: the chat's. */
  maxTextLength: { default: MAX_TEXT_LENGTH, min: 1 },
  /**
   * The dedupe window: a send repeating a (sender, clientMessageId) whose first copy was stored less than this
   * long ago is not stored again. Each instance keeps the clientMessageIds of this window of each conversation it
   * appends to in memory, and reads it back (within `dedupeTailBytes`) for a conversation it does not know yet.
   */
  dedupeWindowMs: { default: 60 * 60_000, min: 0 },
  /** Bytes read back at most for a conversation an instance does not know yet: the window's bound in bytes. */
  dedupeTailBytes: { default: 1024 * 1024, min: 0 },
  /**
   * clientMessageIds an instance keeps in memory across all conversations (the least recently used conversations
   * are forgotten first, and read again when next appended to).
   */
  maxDedupeIds: { default: 100_000, min: 1 },
  /**
   * The most a message's id time and the moment it lands in storage may differ (clock skew between instances
   * plus append latency). `before` searches and crash recovery use it to bound what they read; a message outside
   * it is still found, by a slower full scan.
   */
  reorderWindowMs: { default: 5 * 60_000, min: 0 },
  /** Conversations an instance knows the tail of (oldest forgotten first; read again when next appended to). */
  maxCachedConversations: { default: 10_000, min: 1 },
  /**
   * Messages per block at most when appends queued behind one in flight go out together (group commit, see
   * `append.ts`). 1 turns group commit off: every message is then a block of its own.
   */
  maxMessagesPerBlock: { default: 100, min: 1 },
  /** Bytes per block at most when queued appends go out together (a single larger message still goes, alone). */
  maxBlockBytes: { default: 1024 * 1024, min: 1, max: MAX_APPEND_BLOCK_BYTES },
  /**
   * Messages queued per conversation and instance at most while a block of that conversation is in flight;
   * further appends wait for room, in the order they came, so a burst cannot queue without bound.
   */
  maxQueuedAppends: { default: 1_000, min: 1 },
  /**
   * The spacing in ms of an instance's blocks of a conversation that other instances append to at the same time
   * (it found their lines before its own within the last second): each block starts this long after its previous
   * one at the earliest, jittered from three quarters to five quarters, and reads what the others appended just
   * before it goes out. The lines queued meanwhile go out together, so a hot conversation on N instances costs
   * about N blocks per interval whatever the rate. 0 never waits (see `append.ts`).
   */
  contendedBlockIntervalMs: { default: 100, min: 0, max: 1_000 },
} as const satisfies Record<string, HistoryLimitSpec>;

export type HistoryLimitName = keyof typeof HISTORY_LIMITS;

/** The limits of a store, checked, with every default filled in. */
export type StoreLimits = { readonly [K in HistoryLimitName]: number };

// The defaults under the names the store's modules import.
export const DEFAULT_SEGMENT_BLOCK_LIMIT = HISTORY_LIMITS.segmentBlockLimit.default;
export const DEFAULT_READ_CHUNK_BYTES = HISTORY_LIMITS.readChunkBytes.default;
export const DEFAULT_DEDUPE_WINDOW_MS = HISTORY_LIMITS.dedupeWindowMs.default;
export const DEFAULT_DEDUPE_TAIL_BYTES = HISTORY_LIMITS.dedupeTailBytes.default;
export const DEFAULT_MAX_DEDUPE_IDS = HISTORY_LIMITS.maxDedupeIds.default;
export const DEFAULT_REORDER_WINDOW_MS = HISTORY_LIMITS.reorderWindowMs.default;
export const DEFAULT_MAX_CACHED_CONVERSATIONS = HISTORY_LIMITS.maxCachedConversations.default;
export const DEFAULT_MAX_MESSAGES_PER_BLOCK = HISTORY_LIMITS.maxMessagesPerBlock.default;
export const DEFAULT_MAX_BLOCK_BYTES = HISTORY_LIMITS.maxBlockBytes.default;
export const DEFAULT_MAX_QUEUED_APPENDS = HISTORY_LIMITS.maxQueuedAppends.default;
export const DEFAULT_CONTENDED_BLOCK_INTERVAL_MS = HISTORY_LIMITS.contendedBlockIntervalMs.default;

/** The limits as options: each optional. */
export type HistoryLimitOptions = { [K in HistoryLimitName]?: number };

/** Options of {@link createHistoryStore}: where the history is, and any limit of {@link HISTORY_LIMITS}. */
export interface HistoryStoreOptions extends HistoryLimitOptions {
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
}

/** The container client the options name: a ready one, or one built from `storage`. */
export function containerClientOf(options: HistoryStoreOptions): ContainerClient {
  if (options.containerClient) return options.containerClient;
  if (options.storage !== undefined && options.storage.trim() !== '') {
    return containerClientFor(
      options.storage.trim(),
      options.container ?? SETTINGS.historyContainer.default,
      options.managedIdentityClientId,
    );
  }
  throw new Error(
    'createHistoryStore needs `storage` (CHAT_HISTORY_STORAGE: a connection string or a Blob service URI) or `containerClient`',
  );
}

/** Checks the limits in the options and fills in their defaults; a `RangeError` names the first one out of range. */
export function storeLimits(options: HistoryStoreOptions): StoreLimits {
  const limits = {} as Record<HistoryLimitName, number>;
  for (const name of Object.keys(HISTORY_LIMITS) as HistoryLimitName[]) {
    const spec: HistoryLimitSpec = HISTORY_LIMITS[name];
    limits[name] = integerOption(name, options[name] ?? spec.default, spec.min, spec.max);
  }
  return limits;
}

/**
 * The options the app's settings give: `CHAT_HISTORY_STORAGE`, `CHAT_HISTORY_CONTAINER`,
 * `CHAT_HISTORY_SEGMENT_BLOCK_LIMIT` and `AZURE_CLIENT_ID`.
 */
export function historyStoreOptionsFromSettings(env: NodeJS.ProcessEnv): HistoryStoreOptions {
  const storage = requireSetting('historyStorage', env);
  const container = readSetting('historyContainer', env);
  const managedIdentityClientId = readSetting('managedIdentityClientId', env);
  const limit = readSetting('historySegmentBlockLimit', env) ?? SETTINGS.historySegmentBlockLimit.default;
  const segmentBlockLimit = Number(limit);
  const { min, max } = HISTORY_LIMITS.segmentBlockLimit;
  if (!Number.isInteger(segmentBlockLimit) || segmentBlockLimit < min || segmentBlockLimit > max) {
    throw new Error(
      `The app setting CHAT_HISTORY_SEGMENT_BLOCK_LIMIT must be a whole number from ${min} to ${max}, not "${limit}"`,
    );
  }
  return {
    storage,
    segmentBlockLimit,
    ...(container === undefined ? {} : { container }),
    ...(managedIdentityClientId === undefined ? {} : { managedIdentityClientId }),
  };
}

/**
 * Retries of every Blob call: a few quick ones, each try bounded, so that when storage is down a command fails
 * with a clear error well within the service's 20 s upstream timeout (the SDK's defaults wait about 30 s and
 * more, and the sender would hear nothing). The sender's resend covers a longer outage.
 */
export const BLOB_RETRY_OPTIONS = {
  maxTries: 3,
  retryDelayInMs: 250,
  maxRetryDelayInMs: 2000,
  tryTimeoutInMs: 5000,
} as const;

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
    return new BlobServiceClient(storage, credential, {
      retryOptions: BLOB_RETRY_OPTIONS,
    }).getContainerClient(container);
  }
  return BlobServiceClient.fromConnectionString(storage, {
    retryOptions: BLOB_RETRY_OPTIONS,
  }).getContainerClient(container);
}

function integerOption(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `The history store option ${name} must be a whole number from ${min} to ${max}; got ${value}`,
    );
  }
  return value;
}
