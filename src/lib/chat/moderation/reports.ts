/**
 * Open reports of messages: one small blob per reported message, `_moderation/reports/<message id>`, that
 * everyone who reports the message joins, deleted when a moderator resolves it (docs/architecture.md,
 * "Moderation"). A message id is a ULID the server assigned, unique across conversations, so a listing is in the
 * order the reported messages were sent, oldest first.
 */
import { type ContainerClient, RestError } from '@azure/storage-blob';
import { streamText } from '../../stream-text.js';
import { MODERATION_PREFIX } from './store.js';

const REPORTS_PREFIX = `${MODERATION_PREFIX}reports/`;

/** How many people one report keeps (the first reporter included); more reports of the message change nothing. */
export const DEFAULT_MAX_REPORTERS = 50;
/** Conditional writes tried for one report: its creation, then joins after concurrent changes by other reporters. */
export const DEFAULT_REPORT_WRITE_ATTEMPTS = 5;

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
  readonly messageId: string;
  /** The message's author and text when it was first reported. */
  readonly author: string;
  readonly authorName?: string;
  readonly text: string;
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
 * other reporters changed it at every attempt. `at` is when this reporter reported it.
 */
export type ReportOutcome =
  | {
      readonly status: 'opened' | 'joined' | 'repeat' | 'full';
      readonly report: MessageReport;
      readonly at: string;
    }
  | { readonly status: 'contended' };

export interface ReportStoreOptions {
  /** See {@link DEFAULT_MAX_REPORTERS}. */
  maxReporters?: number;
  /** See {@link DEFAULT_REPORT_WRITE_ATTEMPTS}. */
  writeAttempts?: number;
  now?: () => number;
}

export class ReportStore {
  readonly #container: ContainerClient;
  readonly #maxReporters: number;
  readonly #attempts: number;
  readonly #now: () => number;

  constructor(container: ContainerClient, options: ReportStoreOptions = {}) {
    this.#container = container;
    this.#maxReporters = options.maxReporters ?? DEFAULT_MAX_REPORTERS;
    this.#attempts = options.writeAttempts ?? DEFAULT_REPORT_WRITE_ATTEMPTS;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Opens a report of the message, or adds the reporter to its open report. One write for a message nobody
   * has reported; a failed creation, a read and a conditional write to join a report; a failed creation and a
   * read for a repeat.
   */
  async add(report: NewReport): Promise<ReportOutcome> {
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
      known = await this.#load(report.messageId);
    }
    return { status: 'contended' };
  }

  /** The oldest `limit` open reports, and how many more are open beyond them (as far as one listing shows). */
  async open(limit: number): Promise<{ reports: MessageReport[]; more: boolean }> {
    const ids: string[] = [];
    let more = false;
    for await (const item of this.#container.listBlobsFlat({ prefix: REPORTS_PREFIX })) {
      if (ids.length >= limit) {
        more = true;
        break;
      }
      ids.push(item.name.slice(REPORTS_PREFIX.length));
    }
    const found = await Promise.all(ids.map((id) => this.read(id)));
    return { reports: found.filter((r): r is MessageReport => r !== undefined), more };
  }

  async read(id: string): Promise<MessageReport | undefined> {
    return (await this.#load(id))?.report;
  }

  /** Resolves (deletes) an open report; `false` when there was none. */
  async resolve(id: string): Promise<boolean> {
    const response = await this.#blob(id).deleteIfExists();
    return response.succeeded;
  }

  /** The report and its ETag; `undefined` when there is none, no `report` when its blob is not one. */
  async #load(id: string): Promise<{ report?: MessageReport; etag: string } | undefined> {
    try {
      const response = await this.#blob(id).download();
      const report = parseReport(await streamText(response.readableStreamBody));
      const etag = response.etag ?? '*';
      return report === undefined ? { etag } : { report, etag };
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  #blob(id: string) {
    return this.#container.getBlockBlobClient(`${REPORTS_PREFIX}${id}`);
  }
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
