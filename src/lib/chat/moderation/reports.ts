/**
 * Open reports of messages: one small blob per report, `_moderation/reports/<id>` (a ULID, so a listing is
 * oldest first), deleted when a moderator resolves it (docs/architecture.md, "Moderation").
 */
import { type ContainerClient, RestError } from '@azure/storage-blob';
import { newMessageId } from '../../history/index.js';
import { MODERATION_PREFIX } from './store.js';

const REPORTS_PREFIX = `${MODERATION_PREFIX}reports/`;

/** A report as moderators see it: what was reported, by whom, and a copy of the message as it was. */
export interface MessageReport {
  readonly id: string;
  readonly conversation: string;
  readonly messageId: string;
  /** The message's author and text when it was reported. */
  readonly author: string;
  readonly authorName?: string;
  readonly text: string;
  readonly reporter: string;
  readonly reporterName?: string;
  readonly reason?: string;
  /** ISO 8601. */
  readonly at: string;
}

export class ReportStore {
  readonly #container: ContainerClient;

  constructor(container: ContainerClient) {
    this.#container = container;
  }

  /** Stores a new open report and returns it with its id and time. */
  async add(report: Omit<MessageReport, 'id' | 'at'>): Promise<MessageReport> {
    const { id, sentAt } = newMessageId();
    const stored: MessageReport = { id, ...report, at: sentAt };
    const body = JSON.stringify(stored);
    await this.#blob(id).upload(body, Buffer.byteLength(body), {
      blobHTTPHeaders: { blobContentType: 'application/json' },
    });
    return stored;
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
    try {
      return JSON.parse((await this.#blob(id).downloadToBuffer()).toString('utf8')) as MessageReport;
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      if (error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  /** Resolves (deletes) an open report; `false` when there was none. */
  async resolve(id: string): Promise<boolean> {
    const response = await this.#blob(id).deleteIfExists();
    return response.succeeded;
  }

  #blob(id: string) {
    return this.#container.getBlockBlobClient(`${REPORTS_PREFIX}${id}`);
  }
}
