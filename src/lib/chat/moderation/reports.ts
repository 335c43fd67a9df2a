/**
 * Open reports of messages: one small blob per reported message that everyone who reports the message joins,
 * deleted when a moderator resolves it (docs/architecture.md, "Moderation"). A message id is a ULID the server
 * assigned, unique across conversations; the blob is named by it with every character mirrored in the ULID
 * alphabet, `_moderation/reports/-<mirrored id>`, so a listing is newest message first. Reports opened before
 * that naming (`_moderation/reports/<message id>`) list after them, oldest first, and resolve as before.
 * Each reporter's open reports are counted by an empty marker blob per report,
 * `_moderation/reporters/<user>/<message id>`, to bound them ({@link DEFAULT_MAX_OPEN_REPORTS_PER_USER}).
 */
import { type ContainerClient, RestError } from '@azure/storage-blob';
import { blobNameSegment } from '../../blob-names.js';
import type { GroupKind } from '../../conversations/index.js';
import { streamText } from '../../stream-text.js';
import { MODERATION_PREFIX } from './store.js';

const REPORTS_PREFIX = `${MODERATION_PREFIX}reports/`;
/** Before every ULID character, so reports named by their mirrored id list before those of the older naming. */
const NEWEST_FIRST = '-';
const REPORTERS_PREFIX = `${MODERATION_PREFIX}reporters/`;
const ULID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** How many people one report keeps (the first reporter included); more reports of the message change nothing. */
export const DEFAULT_MAX_REPORTERS = 50;
/** Conditional writes tried for one report: its creation, then joins after concurrent changes by other reporters. */
export const DEFAULT_REPORT_WRITE_ATTEMPTS = 5;
/** Open reports one person may have made (opened or joined); one more is refused until moderators resolve some. */
export const DEFAULT_MAX_OPEN_REPORTS_PER_USER = 20;

/** Someone who reported a message after the first, and when and why. */
export interface ReportedBy {
  readonly user: string;
  readonly name?: string;
  readonly reason?: string;
  /** ISO 8601. */
  readonly at: string;
}

/** A report as moderators see it: what was reported, by whom, and a copy of the message as it was. */
export interface MessageReport {
  /** The report's id, for `resolveReport`: the reported message's id. */
  readonly id: string;
  readonly conversation: string;
  /**
   * A group's message: the group's title and kind when it was first reported, as its members saw them, for
   * moderators who are not in it (they cannot read its record).
   */
  readonly groupTitle?: string;
  readonly groupKind?: GroupKind;
  readonly messageId: string;
  /** The message's author, and its text as readers saw it when it was first reported (edits folded in). */
  readonly author: string;
  readonly authorName?: string;
  readonly text: string;
  /** When the text above was last edited (ISO 8601): the message was edited before it was reported. */
  readonly editedAt?: string;
  /** The text as first sent, when an edit changed it. */
  readonly originalText?: string;
  /** The first reporter, their reason and when (ISO 8601). */
  readonly reporter: string;
  readonly reporterName?: string;
  readonly reason?: string;
  readonly at: string;
  /** Everyone who reported it since, oldest first (at most {@link DEFAULT_MAX_REPORTERS} people in all). */
  readonly alsoReportedBy?: readonly ReportedBy[];
}

/** What one person's report of a message gives the store. */
export type NewReport = Omit<MessageReport, 'id' | 'at' | 'alsoReportedBy'>;

/**
 * What became of a report: `opened` a new report, `joined` an open one (both changed what moderators see);
 * `repeat`: this reporter had reported it already; `full`: the report keeps no more reporters; `contended`:
 * other reporters changed it at every attempt; `too-many`: this reporter has `limit` open reports already.
 * `at` is when this reporter reported it.
 */
export type ReportOutcome =
  | {
      readonly status: 'opened' | 'joined' | 'repeat' | 'full';
      readonly report: MessageReport;
      readonly at: string;
    }
  | { readonly status: 'contended' }
  | { readonly status: 'too-many'; readonly limit: number };

/** One page of open reports, newest message first; `next` continues it (a listing's continuation token). */
export interface ReportPage {
  readonly reports: MessageReport[];
  readonly more: boolean;
  readonly next?: string;
}

export interface ReportStoreOptions {
  /** See {@link DEFAULT_MAX_REPORTERS}. */
  maxReporters?: number;
  /** See {@link DEFAULT_REPORT_WRITE_ATTEMPTS}. */
  writeAttempts?: number;
  /** See {@link DEFAULT_MAX_OPEN_REPORTS_PER_USER}. */
  maxOpenPerUser?: number;
  now?: () => number;
}

export class ReportStore {
  readonly #container: ContainerClient;
  readonly #maxReporters: number;
  readonly #attempts: number;
  readonly #maxOpen: number;
  readonly #now: () => number;

  constructor(container: ContainerClient, options: ReportStoreOptions = {}) {
    this.#container = container;
    this.#maxReporters = options.maxReporters ?? DEFAULT_MAX_REPORTERS;
    this.#attempts = options.writeAttempts ?? DEFAULT_REPORT_WRITE_ATTEMPTS;
    this.#maxOpen = options.maxOpenPerUser ?? DEFAULT_MAX_OPEN_REPORTS_PER_USER;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Opens a report of the message, or adds the reporter to its open report. Each first lists the reporter's
   * markers (one listing call), then: one write for a message nobody has reported; a failed creation, a read
   * and a conditional write to join a report; a failed creation and a read for a repeat; opening or joining
   * writes the reporter's marker too. A reporter at the bound has their markers checked against the reports
   * (one read each, and a delete of each marker whose report was resolved), and the report read, before a
   * refusal.
   */
  async add(report: NewReport): Promise<ReportOutcome> {
    if ((await this.#openBy(report.reporter)) >= this.#maxOpen) {
      // A repeat is still answered as one: the reporter learns the report stands.
      const open = await this.read(report.messageId);
      const before = open === undefined ? undefined : reporterAt(open, report.reporter);
      if (open !== undefined && before !== undefined) return { status: 'repeat', report: open, at: before };
      return { status: 'too-many', limit: this.#maxOpen };
    }
    const outcome = await this.#write(report);
    if (outcome.status === 'opened' || outcome.status === 'joined') {
      await this.#marker(report.reporter, report.messageId).upload('', 0);
    }
    return outcome;
  }

  async #write(report: NewReport): Promise<ReportOutcome> {
    const blob = this.#blob(report.messageId);
    // Believed absent until a creation fails: most reported messages are reported once.
    let known: { report?: MessageReport; etag: string } | undefined;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      const at = new Date(this.#now()).toISOString();
      const open = known?.report;
      const before = open === undefined ? undefined : reporterAt(open, report.reporter);
      if (open !== undefined && before !== undefined) return { status: 'repeat', report: open, at: before };
      const others = open?.alsoReportedBy ?? [];
      if (open !== undefined && 1 + others.length >= this.#maxReporters) {
        return { status: 'full', report: open, at };
      }
      const next: MessageReport =
        open === undefined
          ? { id: report.messageId, ...report, at }
          : { ...open, alsoReportedBy: [...others, reportedBy(report, at)] };
      const body = JSON.stringify(next);
      try {
        await blob.upload(body, Buffer.byteLength(body), {
          blobHTTPHeaders: { blobContentType: 'application/json' },
          conditions: known === undefined ? { ifNoneMatch: '*' } : { ifMatch: known.etag },
        });
        return { status: open === undefined ? 'opened' : 'joined', report: next, at };
      } catch (error) {
        // 409: it exists; 412: it changed; 404: it was resolved meanwhile. Read it again and decide again.
        const status = error instanceof RestError ? error.statusCode : undefined;
        if (status !== 409 && status !== 412 && status !== 404) throw error;
      }
      known = await this.#load(this.#name(report.messageId));
    }
    return { status: 'contended' };
  }

  /**
   * One page of at most `limit` open reports, newest message first (those of the older naming after them),
   * after the page whose `next` is `after`: one listing call and a read per report. Throws a `RangeError`
   * for an `after` the storage does not recognise.
   */
  async open(limit: number, after?: string): Promise<ReportPage> {
    let page: { names: string[]; next?: string };
    try {
      const pages = this.#container
        .listBlobsFlat({ prefix: REPORTS_PREFIX })
        .byPage({ maxPageSize: limit, ...(after !== undefined ? { continuationToken: after } : {}) });
      const first = await pages.next();
      const next = first.done ? undefined : first.value.continuationToken || undefined;
      const names = first.done ? [] : first.value.segment.blobItems.map((item) => item.name);
      page = next === undefined ? { names } : { names, next };
    } catch (error) {
      if (after !== undefined && error instanceof RestError && error.statusCode === 400) {
        throw new RangeError('not a page cursor of the open reports');
      }
      throw error;
    }
    const found = await Promise.all(page.names.map(async (name) => (await this.#load(name))?.report));
    const reports = found.filter((r): r is MessageReport => r !== undefined);
    return page.next === undefined ? { reports, more: false } : { reports, more: true, next: page.next };
  }

  async read(id: string): Promise<MessageReport | undefined> {
    return (await this.#load(this.#name(id)))?.report ?? (await this.#load(legacyName(id)))?.report;
  }

  /** Resolves (deletes) an open report; `false` when there was none. */
  async resolve(id: string): Promise<boolean> {
    if ((await this.#blob(id).deleteIfExists()).succeeded) return true;
    const legacy = this.#container.getBlockBlobClient(legacyName(id));
    return (await legacy.deleteIfExists()).succeeded;
  }

  /**
   * How many open reports `user` made, as far as the bound needs: one listing of their markers; at the bound,
   * each marker's report is read, and markers of reports since resolved (or opened again without them) deleted.
   */
  async #openBy(user: string): Promise<number> {
    const prefix = `${REPORTERS_PREFIX}${blobNameSegment(user)}/`;
    const pages = this.#container.listBlobsFlat({ prefix }).byPage({ maxPageSize: this.#maxOpen });
    const first = await pages.next();
    const ids = first.done ? [] : first.value.segment.blobItems.map((b) => b.name.slice(prefix.length));
    if (ids.length < this.#maxOpen) return ids.length;
    const stands = await Promise.all(
      ids.map(async (id) => {
        const report = await this.read(id);
        if (report !== undefined && reporterAt(report, user) !== undefined) return true;
        await this.#marker(user, id).deleteIfExists();
        return false;
      }),
    );
    return stands.filter(Boolean).length;
  }

  /** The report in blob `name` and its ETag; `undefined` when there is none, no `report` when it is not one. */
  async #load(name: string): Promise<{ report?: MessageReport; etag: string } | undefined> {
    try {
      const response = await this.#container.getBlockBlobClient(name).download();
      const report = parseReport(await streamText(response.readableStreamBody));
      const etag = response.etag ?? '*';
      return report === undefined ? { etag } : { report, etag };
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  #name(id: string): string {
    return `${REPORTS_PREFIX}${NEWEST_FIRST}${mirrored(id)}`;
  }

  #blob(id: string) {
    return this.#container.getBlockBlobClient(this.#name(id));
  }

  #marker(user: string, id: string) {
    return this.#container.getBlockBlobClient(`${REPORTERS_PREFIX}${blobNameSegment(user)}/${id}`);
  }
}

/** A ULID with every character mirrored in its alphabet: a later id gives a name that sorts earlier. */
function mirrored(id: string): string {
  return [...id].map((c) => ULID_ALPHABET[31 - ULID_ALPHABET.indexOf(c)] ?? c).join('');
}

/** The name a report had before reports were listed newest first. */
function legacyName(id: string): string {
  return `${REPORTS_PREFIX}${id}`;
}

/** When `user` reported it, if they did. */
function reporterAt(report: MessageReport, user: string): string | undefined {
  if (report.reporter === user) return report.at;
  return report.alsoReportedBy?.find((r) => r.user === user)?.at;
}

function reportedBy(report: NewReport, at: string): ReportedBy {
  return {
    user: report.reporter,
    ...(report.reporterName !== undefined ? { name: report.reporterName } : {}),
    ...(report.reason !== undefined ? { reason: report.reason } : {}),
    at,
  };
}

function parseReport(text: string): MessageReport | undefined {
  try {
    const value = JSON.parse(text) as MessageReport;
    return typeof value === 'object' && value !== null && typeof value.id === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
