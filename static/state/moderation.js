/**
 * Moderation on the page (docs/architecture.md, "Moderation"): whether it is on and my roles (from the
 * `welcome`), my mute, and for moderators the open reports and the audit log. The server checks every
 * action against the roles it vouches for; this only decides what the page offers.
 */

/** How long a moderator's mute from a message's menu lasts, in minutes. */
export const MENU_MUTE_MINUTES = 60;

/** How long the answer to an action of mine ("Reported: …") stays shown, in milliseconds. */
export const NOTICE_SHOWN_MS = 10_000;

/** A fresh moderation state. */
export function createModerationState() {
  return {
    /** True once a `welcome` said whether moderation is on. */
    known: false,
    /** False without sign-in: no roles exist, and nothing can be reported. */
    enabled: false,
    /** @type {string[]} */
    roles: [],
    /** When my mute ends (ISO 8601), while I am muted. */
    mutedUntil: /** @type {string | null} */ (null),
    /** Open reports, newest message first (moderators), the pages loaded so far. @type {any[]} */
    reports: [],
    reportsMore: false,
    /** The `after` of the next page of open reports, while there are more. */
    reportsNext: /** @type {string | null} */ (null),
    /** The audit log pages loaded so far, newest first, and the cursor of the next. @type {any[]} */
    audit: [],
    auditNext: /** @type {string | null} */ (null),
    auditLoaded: false,
    /** Who is muted or banned now, latest first (`listSanctions`, kept up to date by `audited`). @type {Sanctioned[]} */
    sanctions: [],
    sanctionsLoaded: false,
    /** More are muted or banned than the list holds. */
    sanctionsMore: false,
    /** The last answer to an action of mine, for a status line. */
    notice: '',
    /** The message the action was taken from, where the answer shows (null: the action was not a message's). */
    noticeAt: /** @type {string | null} */ (null),
  };
}

/**
 * @typedef {{ user: string, mute?: { until: string, at: string }, ban?: { at: string } }} Sanctioned A person
 *   muted or banned now: when each began, and when the mute ends.
 * @typedef {ReturnType<typeof createModerationState>} ModerationState
 */

/** @param {ModerationState} mod */
export const isModerator = (mod) => mod.enabled && mod.roles.length > 0;

const DONE = {
  reported: 'Reported: the moderators will look at it.',
  removeMessage: 'Message deleted.',
  muteUser: 'Muted.',
  unmuteUser: 'Mute lifted.',
  banUser: 'Banned: their connections are closed.',
  unbanUser: 'Ban lifted.',
  removeFromChannel: 'Removed from the channel.',
  resolveReport: 'Report resolved.',
};

/**
 * Takes in a server event for moderation: the `welcome`'s status, reports, the audit log, notices and the
 * refusals that concern it. Other events pass by.
 * @param {ModerationState} mod @param {string} me @param {string} type @param {any} payload
 */
export function applyModerationEvent(mod, me, type, payload) {
  switch (type) {
    case 'welcome': {
      const status = payload?.moderation;
      mod.known = true;
      mod.enabled = status?.enabled === true;
      mod.roles = Array.isArray(status?.roles)
        ? status.roles.filter((/** @type {unknown} */ r) => typeof r === 'string')
        : [];
      mod.mutedUntil = typeof status?.mutedUntil === 'string' ? status.mutedUntil : null;
      break;
    }
    case 'reports': {
      const page = Array.isArray(payload.reports) ? payload.reports : [];
      // A later page ("More reports") adds to what is shown; a first page (arrival, a reload) replaces it.
      if (typeof payload.after === 'string') {
        const shown = new Set(mod.reports.map((r) => r.id));
        mod.reports = [...mod.reports, ...page.filter((/** @type {any} */ r) => !shown.has(r.id))];
      } else {
        mod.reports = page;
      }
      mod.reportsMore = payload.more === true;
      mod.reportsNext = payload.more === true && typeof payload.next === 'string' ? payload.next : null;
      break;
    }
    case 'report':
      // A report someone else joined comes again under its id: it replaces the copy shown. A new one is the
      // newest: it goes first.
      mod.reports = mod.reports.some((r) => r.id === payload.id)
        ? mod.reports.map((r) => (r.id === payload.id ? payload : r))
        : [payload, ...mod.reports];
      break;
    case 'reportResolved':
      mod.reports = mod.reports.filter((r) => r.id !== payload.id);
      break;
    case 'audit': {
      const entries = Array.isArray(payload.entries) ? payload.entries : [];
      // An older page ("Older entries") adds to what is shown; a first page (the panel opened) replaces it.
      mod.audit = typeof payload.before === 'string' ? [...mod.audit, ...entries] : entries;
      mod.auditNext = typeof payload.next === 'string' ? payload.next : null;
      mod.auditLoaded = true;
      break;
    }
    case 'audited':
      // Any moderator's action, as it is logged: first in the log, and in who is muted or banned now.
      if (mod.auditLoaded) mod.audit = [payload.entry, ...mod.audit];
      mod.sanctions = sanctionsAfter(mod.sanctions, payload.entry);
      break;
    case 'sanctions':
      mod.sanctions = Array.isArray(payload.sanctions) ? payload.sanctions : [];
      mod.sanctionsMore = payload.more === true;
      mod.sanctionsLoaded = true;
      break;
    case 'moderation':
      if (payload.target === me && payload.by !== me) {
        if (payload.action === 'muteUser') mod.mutedUntil = payload.until ?? null;
        if (payload.action === 'unmuteUser') mod.mutedUntil = null;
        break;
      }
      mod.notice = DONE[/** @type {keyof typeof DONE} */ (payload.action)] ?? '';
      break;
    case 'error':
      if (payload.code === 'muted' && typeof payload.until === 'string') mod.mutedUntil = payload.until;
      else if (
        /^(not-a-moderator|moderation-off|already-reported|report-contended|report-not-found|not-a-channel|banned|message-deleted|too-many-reports)$/.test(
          payload.code,
        )
      )
        mod.notice = String(payload.message ?? '');
      break;
    default:
      break;
  }
}

/**
 * Who is muted or banned after the logged action `entry` (a mute, a ban or a lift; anything else changes
 * nothing): the person changed goes first, and leaves the list once neither is left.
 * @param {Sanctioned[]} list @param {any} entry
 * @returns {Sanctioned[]}
 */
export function sanctionsAfter(list, entry) {
  const { action, target: user, at, until } = entry ?? {};
  if (!/^(mute|unmute|ban|unban)User$/.test(action)) return list;
  const { mute, ban } = list.find((s) => s.user === user) ?? {};
  /** @type {Sanctioned} */
  const next = { user };
  const muted = action === 'muteUser' ? { until, at } : action === 'unmuteUser' ? undefined : mute;
  const banned = action === 'banUser' ? { at } : action === 'unbanUser' ? undefined : ban;
  if (muted) next.mute = muted;
  if (banned) next.ban = banned;
  const others = list.filter((s) => s.user !== user);
  return next.mute || next.ban ? [next, ...others] : others;
}

/**
 * Who of `list` is muted or banned at `now`: a mute that has ended is left out.
 * @param {Sanctioned[]} list @param {number} now
 * @returns {Sanctioned[]}
 */
export function sanctionedAt(list, now) {
  return list.flatMap((s) => {
    const muted = s.mute !== undefined && Date.parse(s.mute.until) > now;
    if (!muted && !s.ban) return [];
    return [muted ? s : { user: s.user, ...(s.ban ? { ban: s.ban } : {}) }];
  });
}

/**
 * The `listReports` payload of "More reports": the page after the last one shown; `null` when none is left.
 * @param {ModerationState} mod
 */
export const moreReportsPayload = (mod) =>
  mod.reportsMore && mod.reportsNext !== null ? { after: mod.reportsNext } : null;

/** Whether my mute still lasts at `now`. @param {ModerationState} mod @param {number} now */
export const isMuted = (mod, now) => mod.mutedUntil !== null && Date.parse(mod.mutedUntil) > now;
