/**
 * Validation of the moderation commands (docs/architecture.md, "Moderation"): commands.ts hands them here.
 * Who may run them is checked on the server against the caller's roles (handlers.ts), never against the
 * payload.
 */
import { isValidName, nameProblem, parseConversation } from '../../conversation.js';
import { cleanLine } from '../../display-name.js';
import { isMessageId } from '../../history/index.js';
import type { ChatErrorCode } from '../errors.js';

export const MODERATION_COMMAND_NAMES = [
  'reportMessage',
  'removeMessage',
  'muteUser',
  'unmuteUser',
  'banUser',
  'unbanUser',
  'removeFromChannel',
  'listReports',
  'resolveReport',
  'listAudit',
  'listSanctions',
] as const;
export type ModerationCommandName = (typeof MODERATION_COMMAND_NAMES)[number];

/** Longest reason of a report or a moderator's action, in characters. */
export const MAX_REASON_LENGTH = 500;
/** Longest mute, in minutes (a week). */
export const MAX_MUTE_MINUTES = 7 * 24 * 60;
/** Entries of the audit log, open reports or people muted or banned now per page when the client does not say. */
export const DEFAULT_MODERATION_PAGE_SIZE = 50;
/** The most entries one page of the audit log, of open reports or of people muted or banned may hold. */
export const MAX_MODERATION_PAGE_SIZE = 200;
/** Longest page cursor of the audit log (`before`). */
export const MAX_CURSOR_LENGTH = 64;
/** Longest page cursor of the open reports (`after`: a Blob listing's continuation token). */
export const MAX_REPORTS_CURSOR_LENGTH = 1024;

type Reason = { readonly reason?: string };
export type ModerationCommand =
  | ({ readonly type: 'reportMessage'; readonly conversation: string; readonly messageId: string } & Reason)
  | ({ readonly type: 'removeMessage'; readonly conversation: string; readonly messageId: string } & Reason)
  | ({ readonly type: 'muteUser'; readonly user: string; readonly minutes: number } & Reason)
  | ({ readonly type: 'unmuteUser' | 'banUser' | 'unbanUser'; readonly user: string } & Reason)
  | ({ readonly type: 'removeFromChannel'; readonly group: string; readonly user: string } & Reason)
  | { readonly type: 'listReports'; readonly limit: number; readonly after?: string }
  | ({ readonly type: 'resolveReport'; readonly report: string } & Reason)
  | { readonly type: 'listAudit'; readonly before?: string; readonly limit: number }
  | { readonly type: 'listSanctions'; readonly limit: number };

export function isModerationCommandName(name: string): name is ModerationCommandName {
  return (MODERATION_COMMAND_NAMES as readonly string[]).includes(name);
}

/** Whether a validated command is a moderation command. */
export function isModerationCommand<C extends { readonly type: string }>(
  command: C | ModerationCommand,
): command is ModerationCommand {
  return isModerationCommandName(command.type);
}

type Parsed = { ok: true; command: ModerationCommand } | { ok: false; code: ChatErrorCode; detail?: string };

const refuse = (code: ChatErrorCode, detail?: string): Parsed =>
  detail === undefined ? { ok: false, code } : { ok: false, code, detail };

/**
 * The audit log's page cursor, `<yyyy-mm-dd>:<line>` (the day a real one of the calendar, UTC), as the `next` of
 * a page gives it; `undefined` when it is not one.
 */
export function parseAuditCursor(value: string): { day: string; index: number } | undefined {
  const match = /^((\d{4})-(\d{2})-(\d{2})):(\d{1,9})$/.exec(value);
  if (!match) return undefined;
  const [, day, year, month, date, line] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const at = new Date(Date.UTC(Number(year), Number(month) - 1, Number(date)));
  if (Number.isNaN(at.getTime()) || at.toISOString().slice(0, 10) !== day) return undefined;
  return { day, index: Number(line) };
}

/** A report id: a ULID, as the store names reports. */
const REPORT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Validates one moderation command's payload. */
export function parseModerationCommand(
  name: ModerationCommandName,
  payload: Record<string, unknown>,
): Parsed {
  const { reason } = payload;
  if (
    reason !== undefined &&
    (typeof reason !== 'string' || [...reason].length > MAX_REASON_LENGTH || /[\r\n]/.test(reason))
  ) {
    return refuse('invalid-reason', `one line of at most ${MAX_REASON_LENGTH} characters`);
  }
  // Cleaned as a title is: control and format characters (NUL, ESC, a right-to-left override) would reorder
  // or hide what moderators and a banned person's refusal show.
  const cleaned = typeof reason === 'string' ? cleanLine(reason) : '';
  const why = cleaned !== '' ? { reason: cleaned } : {};
  switch (name) {
    case 'reportMessage':
    case 'removeMessage': {
      const { conversation, messageId } = payload;
      if (typeof conversation !== 'string' || parseConversation(conversation) === undefined) {
        return refuse('invalid-conversation');
      }
      if (!isMessageId(messageId)) return refuse('invalid-message-id');
      return { ok: true, command: { type: name, conversation, messageId, ...why } };
    }
    case 'listReports':
    case 'listAudit':
    case 'listSanctions': {
      const { limit, before, after } = payload;
      if (
        limit !== undefined &&
        !(
          typeof limit === 'number' &&
          Number.isInteger(limit) &&
          limit >= 1 &&
          limit <= MAX_MODERATION_PAGE_SIZE
        )
      ) {
        return refuse('invalid-limit', `from 1 to ${MAX_MODERATION_PAGE_SIZE}`);
      }
      const size = (limit as number | undefined) ?? DEFAULT_MODERATION_PAGE_SIZE;
      if (name === 'listSanctions') return { ok: true, command: { type: name, limit: size } };
      if (name === 'listReports') {
        if (after === undefined) return { ok: true, command: { type: name, limit: size } };
        if (typeof after !== 'string' || after === '' || after.length > MAX_REPORTS_CURSOR_LENGTH) {
          return refuse('invalid-cursor', 'give the "next" of the previous reports page as "after"');
        }
        return { ok: true, command: { type: name, limit: size, after } };
      }
      if (
        before !== undefined &&
        (typeof before !== 'string' || before.length > MAX_CURSOR_LENGTH || !parseAuditCursor(before))
      ) {
        return refuse('invalid-cursor', '"<yyyy-mm-dd>:<line>", a day of the calendar');
      }
      return {
        ok: true,
        command: { type: name, limit: size, ...(before !== undefined ? { before: before as string } : {}) },
      };
    }
    case 'resolveReport': {
      const { report } = payload;
      if (typeof report !== 'string' || !REPORT_ID.test(report)) return refuse('invalid-report');
      return { ok: true, command: { type: name, report, ...why } };
    }
    default: {
      const { user } = payload;
      if (!isValidName(user)) {
        return refuse('invalid-user', typeof user === 'string' ? nameProblem(user) : 'give "user"');
      }
      if (name === 'removeFromChannel') {
        const { group } = payload;
        if (!isValidName(group)) {
          return refuse(
            'invalid-group',
            typeof group === 'string' ? nameProblem(group, 'group') : 'give "group"',
          );
        }
        return { ok: true, command: { type: name, group, user, ...why } };
      }
      if (name === 'muteUser') {
        const { minutes } = payload;
        if (
          !(
            typeof minutes === 'number' &&
            Number.isInteger(minutes) &&
            minutes >= 1 &&
            minutes <= MAX_MUTE_MINUTES
          )
        ) {
          return refuse('invalid-duration', `from 1 to ${MAX_MUTE_MINUTES} (a week)`);
        }
        return { ok: true, command: { type: name, user, minutes, ...why } };
      }
      return { ok: true, command: { type: name, user, ...why } };
    }
  }
}
