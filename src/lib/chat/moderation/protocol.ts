/** The moderation events' payloads (docs/architecture.md, "Moderation"); protocol.ts lists them among the chat's events. */
import type { AuditedPayload, AuditPage, AuditPayload } from './audit.js';
import type { MessageReport } from './reports.js';
import type { ChatRole } from './roles.js';
import type { SanctionsPage } from './store.js';

/** What the welcome says of moderation: whether it is on (sign-in) and the caller's roles. */
export interface ModerationStatus {
  /** `false` without sign-in (`CHAT_AUTH=none`): no roles exist, moderation commands are refused. */
  readonly enabled: boolean;
  readonly roles: readonly ChatRole[];
  /** The caller's mute, while it lasts: when it ends (ISO 8601). */
  readonly mutedUntil?: string;
}

/** A moderator's action, as the moderator (the answer) and the user it concerns (mute, unmute, removal) hear it. */
export interface ModerationNotice {
  readonly action:
    | 'reported'
    | 'removeMessage'
    | 'muteUser'
    | 'unmuteUser'
    | 'banUser'
    | 'unbanUser'
    | 'removeFromChannel'
    | 'resolveReport';
  /** The user, `<conversation> <message id>`, or report id acted on. */
  readonly target: string;
  readonly by: string;
  readonly at: string;
  readonly until?: string;
  readonly reason?: string;
  readonly group?: string;
}

/**
 * A page of open reports, newest message first: the answer to `listReports`, and what a moderator gets on
 * arrival (the first page).
 */
export interface ReportsPayload {
  readonly reports: readonly MessageReport[];
  /** More are open than this page holds. */
  readonly more: boolean;
  /** The `after` of the next page, while `more`. */
  readonly next?: string;
  /** The `after` this page answers: absent on a first page. */
  readonly after?: string;
}

/** A report was resolved: to every connected moderator. */
export interface ReportResolvedPayload {
  readonly id: string;
  readonly by: string;
  readonly at: string;
}

/** The answer to `listSanctions`: who is muted or banned now, with their recorded display names. */
export interface SanctionsPayload extends SanctionsPage {
  readonly names?: Readonly<Record<string, string>>;
}

export type { AuditedPayload, AuditPage, AuditPayload, MessageReport };
