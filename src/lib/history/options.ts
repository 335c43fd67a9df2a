/**
 * How a history store is configured: every limit as a named option with its default, the checks that turn the
 * options into the numbers the store works with, the container client a `CHAT_HISTORY_STORAGE` value names, and
 * the options the app's settings give.
 * See docs/architecture.md, "History in Blob Storage".
 */
import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { MAX_TEXT_LENGTH } from '../conversation.js';
import { readSetting, requireSetting, SETTINGS } from '../settings.js';

/**
 * Blocks per segment before writers move to the next one (49 000; Azure's hard limit is 50 000, margin: see
 * `append.ts`). The default of the setting `CHAT_HISTORY_SEGMENT_BLOCK_LIMIT`, defined once in the settings catalogue.
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
/**
 * Messages per block at most when appends queued behind one in flight go out together (group commit, see
 * `append.ts`). 1 turns group commit off: every message is then a block of its own.
 */
export const DEFAULT_MAX_MESSAGES_PER_BLOCK = 100;
/** Azure's limit of bytes in one Append Block. */
export const MAX_APPEND_BLOCK_BYTES = 4 * 1024 * 1024;
/**
 * Bytes per block at most when queued appends go out together (a single message larger than this still goes,
 * alone). At most {@link MAX_APPEND_BLOCK_BYTES}.
 */
export const DEFAULT_MAX_BLOCK_BYTES = 1024 * 1024;
/**
 * Messages queued per conversation and instance at most while a block of that conversation is in flight; further
 * appends wait for room, in the order they came, so a burst cannot queue without bound.
 */
export const DEFAULT_MAX_QUEUED_APPENDS = 1_000;

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
  /** See {@link DEFAULT_MAX_MESSAGES_PER_BLOCK}. At least 1. */
  maxMessagesPerBlock?: number;
  /** See {@link DEFAULT_MAX_BLOCK_BYTES}. 1 … {@link MAX_APPEND_BLOCK_BYTES}. */
  maxBlockBytes?: number;
  /** See {@link DEFAULT_MAX_QUEUED_APPENDS}. At least 1. */
  maxQueuedAppends?: number;
}

/** The limits of a store, checked, with every default filled in. */
export interface StoreLimits {
  readonly segmentBlockLimit: number;
  readonly readChunkBytes: number;
  readonly maxTextLength: number;
  readonly pendingClaimTimeoutMs: number;
  readonly pendingPollMs: number;
  readonly reorderWindowMs: number;
  readonly maxCachedConversations: number;
  readonly maxMessagesPerBlock: number;
  readonly maxBlockBytes: number;
  readonly maxQueuedAppends: number;
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
  return {
    segmentBlockLimit: integerOption(
      'segmentBlockLimit',
      options.segmentBlockLimit ?? DEFAULT_SEGMENT_BLOCK_LIMIT,
      1,
      MAX_APPEND_BLOB_BLOCKS,
    ),
    readChunkBytes: integerOption('readChunkBytes', options.readChunkBytes ?? DEFAULT_READ_CHUNK_BYTES, 1),
    maxTextLength: integerOption('maxTextLength', options.maxTextLength ?? MAX_TEXT_LENGTH, 1),
    pendingClaimTimeoutMs: integerOption(
      'pendingClaimTimeoutMs',
      options.pendingClaimTimeoutMs ?? DEFAULT_PENDING_CLAIM_TIMEOUT_MS,
      0,
    ),
    pendingPollMs: integerOption('pendingPollMs', options.pendingPollMs ?? DEFAULT_PENDING_POLL_MS, 1),
    reorderWindowMs: integerOption(
      'reorderWindowMs',
      options.reorderWindowMs ?? DEFAULT_REORDER_WINDOW_MS,
      0,
    ),
    maxCachedConversations: integerOption(
      'maxCachedConversations',
      options.maxCachedConversations ?? DEFAULT_MAX_CACHED_CONVERSATIONS,
      1,
    ),
    maxMessagesPerBlock: integerOption(
      'maxMessagesPerBlock',
      options.maxMessagesPerBlock ?? DEFAULT_MAX_MESSAGES_PER_BLOCK,
      1,
    ),
    maxBlockBytes: integerOption(
      'maxBlockBytes',
      options.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES,
      1,
      MAX_APPEND_BLOCK_BYTES,
    ),
    maxQueuedAppends: integerOption(
      'maxQueuedAppends',
      options.maxQueuedAppends ?? DEFAULT_MAX_QUEUED_APPENDS,
      1,
    ),
  };
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
  if (
    !Number.isInteger(segmentBlockLimit) ||
    segmentBlockLimit < 1 ||
    segmentBlockLimit > MAX_APPEND_BLOB_BLOCKS
  ) {
    throw new Error(
      `The app setting CHAT_HISTORY_SEGMENT_BLOCK_LIMIT must be a whole number from 1 to ${MAX_APPEND_BLOB_BLOCKS}, not "${limit}"`,
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
