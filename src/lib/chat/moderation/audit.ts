/**
 * The audit log of moderators' actions: one append blob per day (UTC), `_audit/<yyyy-mm-dd>.jsonl`, one JSON
 * line per action, read newest first a page at a time (docs/architecture.md, "Moderation").
 */
import { type ContainerClient, RestError } from '@azure/storage-blob';
import { parseConversation } from '../../conversation.js';
import { parseAuditCursor } from './commands.js';

/** The blob name prefix of the audit log. */
export const AUDIT_PREFIX = '_audit/';

/** What a moderator did, to whom, when and why. */
export interface AuditEntry {
  /** ISO 8601. */
  readonly at: string;
  /** The moderator's user id, and display name when it differs. */
  readonly by: string;
  readonly byName?: string;
  readonly action: string;
  /** The user acted on, or the message (`<conversation> <message id>`) or report. */
  readonly target: string;
  readonly reason?: string;
  /** For a mute: when it ends. */
  readonly until?: string;
  /** For a removal from a channel: the channel's group name. */
  readonly group?: string;
  /** For a deleted message: its author. */
  readonly author?: string;
}

export interface AuditPage {
  /** Newest first. */
  readonly entries: readonly AuditEntry[];
  /** The `before` of the next (older) page; absent on the last one. */
  readonly next?: string;
}

/**
 * The answer to `listAudit`: a page, the `before` it answers (absent on a first page, which replaces what the
 * page shows), and the recorded display names of the people its entries name.
 */
export interface AuditPayload extends AuditPage {
  readonly before?: string;
  readonly names?: Readonly<Record<string, string>>;
}

/** One action, live to every connected moderator as it is logged, with the names of the people it names. */
export interface AuditedPayload {
  readonly entry: AuditEntry;
  readonly names?: Readonly<Record<string, string>>;
}

/** The people an entry names: who acted, the person acted on, a deleted message's author and a private conversation's two people. */
export function peopleOf(entry: AuditEntry): string[] {
  const ids = new Set([entry.by]);
  if (entry.author !== undefined) ids.add(entry.author);
  if (ON_A_PERSON.has(entry.action)) ids.add(entry.target);
  const where =
    entry.action === 'removeMessage' ? parseConversation(entry.target.split(' ')[0] ?? '') : undefined;
  if (where?.kind === 'dm') for (const id of where.users) ids.add(id);
  return [...ids];
}

/** The actions whose `target` is a user id. */
const ON_A_PERSON = new Set(['muteUser', 'unmuteUser', 'banUser', 'unbanUser', 'removeFromChannel']);

const DAY_BLOB = /^_audit\/(\d{4}-\d{2}-\d{2})\.jsonl$/;

export class AuditLog {
  readonly #container: ContainerClient;
  /** Days whose blob this instance has created (or found), so an append is one call. */
  readonly #created = new Set<string>();

  constructor(container: ContainerClient) {
    this.#container = container;
  }

  /** Appends one entry to the day's blob of its `at`. */
  async append(entry: AuditEntry): Promise<void> {
    const day = entry.at.slice(0, 10);
    const blob = this.#container.getAppendBlobClient(`${AUDIT_PREFIX}${day}.jsonl`);
    if (!this.#created.has(day)) {
      await blob.createIfNotExists({ blobHTTPHeaders: { blobContentType: 'application/x-ndjson' } });
      if (this.#created.size > 31) this.#created.clear();
      this.#created.add(day);
    }
    const line = `${JSON.stringify(entry)}\n`;
    await blob.appendBlock(line, Buffer.byteLength(line));
  }

  /**
   * A page of entries older than `before` (a cursor of an earlier page), newest first. Reads the days it
   * needs, each whole: a page costs the size of the days it spans.
   */
  async page(limit: number, before?: string): Promise<AuditPage> {
    const cursor = before === undefined ? undefined : parseAuditCursor(before);
    if (before !== undefined && cursor === undefined) throw new RangeError('invalid cursor');
    const days: string[] = [];
    for await (const item of this.#container.listBlobsFlat({ prefix: AUDIT_PREFIX })) {
      const day = DAY_BLOB.exec(item.name)?.[1];
      if (day !== undefined && (cursor === undefined || day <= cursor.day)) days.push(day);
    }
    days.sort().reverse();
    const entries: AuditEntry[] = [];
    for (const [i, day] of days.entries()) {
      const lines = await this.#read(day);
      let index = cursor?.day === day ? Math.min(cursor.index, lines.length) : lines.length;
      while (index > 0 && entries.length < limit) {
        index--;
        const entry = lines[index];
        if (entry !== undefined) entries.push(entry);
      }
      if (entries.length >= limit) {
        const more = index > 0 || i < days.length - 1;
        return more ? { entries, next: `${day}:${index}` } : { entries };
      }
    }
    return { entries };
  }

  async #read(day: string): Promise<AuditEntry[]> {
    try {
      const buffer = await this.#container
        .getAppendBlobClient(`${AUDIT_PREFIX}${day}.jsonl`)
        .downloadToBuffer();
      return buffer
        .toString('utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as AuditEntry];
          } catch {
            return [];
          }
        });
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return [];
      throw error;
    }
  }
}
