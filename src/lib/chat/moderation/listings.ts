/**
 * What moderators list (docs/architecture.md, "Moderation"): open reports, the audit log, and who is muted or
 * banned now; the last two with the recorded display names of the people they name, since a moderator's page
 * knows the names of those it has met only.
 */

import { chatError } from '../errors.js';
import type { UserDirectory } from '../people/directory.js';
import type { ChatEvent } from '../wire/protocol.js';
import { type AuditEntry, type AuditLog, peopleOf } from './audit.js';
import type { ModerationCommand } from './commands.js';
import type { ReportStore } from './reports.js';
import type { ModerationStore } from './store.js';

/** What the listings read. */
export interface ListingSources {
  readonly store: Pick<ModerationStore, 'current'>;
  readonly reports: Pick<ReportStore, 'open'>;
  readonly audit: Pick<AuditLog, 'page'>;
  /** Display names of signed-in users; without it the answers carry ids only. */
  readonly directory?: Pick<UserDirectory, 'namesOf'> | undefined;
}

type Listing = Extract<ModerationCommand, { type: 'listReports' | 'listAudit' | 'listSanctions' }>;

/** Answers a moderator's `listReports`, `listAudit` or `listSanctions`; a cursor that is not one is `invalid-cursor`. */
export async function list(sources: ListingSources, command: Listing): Promise<ChatEvent> {
  try {
    switch (command.type) {
      case 'listReports': {
        const page = await sources.reports.open(command.limit, command.after);
        return { event: 'reports', payload: { ...page, ...(command.after ? { after: command.after } : {}) } };
      }
      case 'listAudit': {
        const page = await sources.audit.page(command.limit, command.before);
        const names = await namesIn(sources, page.entries.flatMap(peopleOf));
        return {
          event: 'audit',
          payload: { ...page, ...(command.before ? { before: command.before } : {}), ...names },
        };
      }
      case 'listSanctions': {
        const page = await sources.store.current(command.limit);
        const names = await namesIn(
          sources,
          page.sanctions.map((s) => s.user),
        );
        return { event: 'sanctions', payload: { ...page, ...names } };
      }
    }
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    const detail =
      command.type === 'listReports' ? 'give the "next" of the previous page as "after"' : undefined;
    return { event: 'error', payload: chatError('invalid-cursor', command.type, detail) };
  }
}

/** The `audited` news of `entry`, with the names of the people it names. */
export async function auditedEvent(
  sources: Pick<ListingSources, 'directory'>,
  entry: AuditEntry,
): Promise<ChatEvent> {
  return { event: 'audited', payload: { entry, ...(await namesIn(sources, peopleOf(entry))) } };
}

/** `{ names }` of those of `ids` with a recorded name, or nothing. */
async function namesIn(
  { directory }: Pick<ListingSources, 'directory'>,
  ids: readonly string[],
): Promise<{ names?: Record<string, string> }> {
  if (directory === undefined || ids.length === 0) return {};
  const names = await directory.namesOf([...new Set(ids)]);
  return Object.keys(names).length > 0 ? { names } : {};
}
