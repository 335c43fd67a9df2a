/**
 * The chat's retention rules on the local stack. On Azure a Blob lifecycle policy deletes old history segments and
 * attachments, clientMessageId markers and per-user command-limit buckets (infra/modules/storage.bicep); Azurite has
 * no lifecycle management, so
 * `npm start` runs the same rules itself: one sweep at start, then one every {@link DEFAULT_SWEEP_INTERVAL_MS}.
 * test/infra/modes.test.ts keeps the prefixes and blob types here equal to the Bicep rules.
 *
 * Environment (the same names as the azd variables): HISTORY_RETENTION_DAYS (365; 0 keeps history forever; also the
 * days an attachment is kept after its upload), MARKER_RETENTION_DAYS (2), LIMIT_RETENTION_DAYS (1). An upload no
 * message claimed goes after {@link DEFAULT_PENDING_UPLOAD_RETENTION_DAYS} (not a variable).
 */
import type { ContainerClient } from '@azure/storage-blob';
import { PENDING_UPLOADS_FOLDER } from '../lib/attachments/rules.js';
import { LIMITS_PREFIX } from '../lib/chat/index.js';

/** One lifecycle rule: blobs of `blobType` under one of `prefixes` whose last write is older than `days`. */
export interface RetentionRule {
  readonly name: string;
  /** The container the rule applies to: the history's or the attachments'. */
  readonly container: 'history' | 'attachments';
  /** Blob name prefixes inside that container (`''`: all of it). */
  readonly prefixes: readonly string[];
  readonly blobType: 'AppendBlob' | 'BlockBlob';
  /** Days after the last modification; 0 disables the rule. */
  readonly days: number;
}

/** Days a history segment is kept after its last append (0: forever), as the azd variable's default. */
export const DEFAULT_HISTORY_RETENTION_DAYS = 365;
/** Days a clientMessageId marker is kept: a retry comes seconds or minutes after its send. */
export const DEFAULT_MARKER_RETENTION_DAYS = 2;
/**
 * Days a user's command-limit bucket is kept after its last write: a bucket refills completely within seconds, and
 * a missing one counts as full, so an idle user's bucket is only storage.
 */
export const DEFAULT_LIMIT_RETENTION_DAYS = 1;
/**
 * Days an upload that no message claimed is kept (`_pending/…` in the attachments container): a send comes seconds
 * after its upload, so what is still there a day later was never sent. The lifecycle policy counts whole days.
 */
export const DEFAULT_PENDING_UPLOAD_RETENTION_DAYS = 1;
/** How often the local sweeper runs. */
export const DEFAULT_SWEEP_INTERVAL_MS = 60 * 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Conversation folders start with `room`, `group%3A` or `dm%3A` (src/lib/history/layout.ts); everything starting
 * with `_` (markers, presence, memberships) is not history.
 */
export const HISTORY_PREFIXES: readonly string[] = ['room', 'group%3A', 'dm%3A'];
export const MARKER_PREFIXES: readonly string[] = ['_client-ids/'];
/** The per-user command-limit buckets (src/lib/chat/command-quota.ts). */
export const LIMIT_PREFIXES: readonly string[] = [LIMITS_PREFIX];
/** Uploads no message has claimed yet (src/lib/attachments/rules.ts), in the attachments container. */
export const PENDING_UPLOAD_PREFIXES: readonly string[] = [PENDING_UPLOADS_FOLDER];

/**
 * The five rules, with the retention periods given. Attachments (their own container) go `historyDays` after they
 * were sent: a file lives as long as the history around it would. An upload never sent goes `pendingDays` after
 * it, whatever `historyDays` says.
 */
export function retentionRules(
  historyDays: number,
  markerDays: number,
  limitDays: number,
  pendingDays: number = DEFAULT_PENDING_UPLOAD_RETENTION_DAYS,
): RetentionRule[] {
  return [
    {
      name: 'chat-history-age',
      container: 'history',
      prefixes: HISTORY_PREFIXES,
      blobType: 'AppendBlob',
      days: historyDays,
    },
    {
      name: 'attachments-age',
      container: 'attachments',
      prefixes: [''],
      blobType: 'BlockBlob',
      days: historyDays,
    },
    {
      name: 'client-id-markers',
      container: 'history',
      prefixes: MARKER_PREFIXES,
      blobType: 'BlockBlob',
      days: markerDays,
    },
    {
      name: 'command-limit-buckets',
      container: 'history',
      prefixes: LIMIT_PREFIXES,
      blobType: 'BlockBlob',
      days: limitDays,
    },
    {
      name: 'attachments-pending',
      container: 'attachments',
      prefixes: PENDING_UPLOAD_PREFIXES,
      blobType: 'BlockBlob',
      days: pendingDays,
    },
  ];
}

/** The containers the rules apply to; without `attachments` (attachments off) its rule is skipped. */
export interface RetentionContainers {
  readonly history: ContainerClient;
  readonly attachments?: ContainerClient;
}

function readDays(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name}=${raw} is not a number of days: give a whole number of at least ${min}`);
  }
  return value;
}

/** The rules from the environment (see the file's comment); a value that is not a whole number is an error. */
export function readRetentionRules(env: NodeJS.ProcessEnv = process.env): RetentionRule[] {
  return retentionRules(
    readDays(env, 'HISTORY_RETENTION_DAYS', DEFAULT_HISTORY_RETENTION_DAYS, 0),
    readDays(env, 'MARKER_RETENTION_DAYS', DEFAULT_MARKER_RETENTION_DAYS, 1),
    readDays(env, 'LIMIT_RETENTION_DAYS', DEFAULT_LIMIT_RETENTION_DAYS, 1),
  );
}

/**
 * Deletes what the rules say is too old at `now`, and returns the deleted names. A missing container is empty.
 * As on Azure, "older than N days" compares the blob's last-modified time with `now`. A lone container is the
 * history's.
 */
export async function sweepOnce(
  containers: ContainerClient | RetentionContainers,
  rules: readonly RetentionRule[],
  now: number = Date.now(),
): Promise<string[]> {
  const deleted: string[] = [];
  const known: RetentionContainers = 'history' in containers ? containers : { history: containers };
  const present = new Map<ContainerClient, boolean>();
  for (const rule of rules) {
    if (rule.days <= 0) continue;
    const container = known[rule.container];
    if (container === undefined) continue;
    if (!present.has(container)) present.set(container, await container.exists());
    if (!present.get(container)) continue;
    const cutoff = now - rule.days * DAY_MS;
    for (const prefix of rule.prefixes) {
      for await (const blob of container.listBlobsFlat({ prefix })) {
        if (blob.properties.blobType !== rule.blobType) continue;
        if (blob.properties.lastModified.getTime() >= cutoff) continue;
        await container
          .deleteBlob(blob.name, { deleteSnapshots: 'include' })
          .catch((error: { statusCode?: number }) => {
            if (error.statusCode !== 404) throw error; // deleted meanwhile: nothing to do
          });
        deleted.push(blob.name);
      }
    }
  }
  return deleted;
}

/** A running sweeper. */
export interface RetentionSweeper {
  stop(): void;
}

/**
 * Sweeps now and then every `intervalMs`; a failed sweep is logged and the next one tries again (the local
 * stack keeps running: retention is housekeeping).
 */
export function startRetentionSweeper(
  containers: ContainerClient | RetentionContainers,
  rules: readonly RetentionRule[],
  intervalMs: number = DEFAULT_SWEEP_INTERVAL_MS,
  log: (line: string) => void = console.log,
): RetentionSweeper {
  const sweep = () => {
    sweepOnce(containers, rules)
      .then((deleted) => {
        if (deleted.length > 0) log(`[retention] deleted ${deleted.length} expired blob(s)`);
      })
      .catch((error: Error) => log(`[retention] sweep failed (tried again later): ${error.message}`));
  };
  sweep();
  const timer = setInterval(sweep, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
