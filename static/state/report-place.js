/**
 * Where a reported message was, as the moderators' panel names it (docs/architecture.md, "Moderation"): by what
 * people see, never by the conversation's id, and whether the moderator can open it there. The server decides
 * who reads what (a group its members, a private conversation its two people); this follows the same rules to
 * say so before anyone tries.
 */

import { parseConversation } from '../conversation.js';
import { groupKind } from './group-records.js';

/**
 * @typedef {{
 *   conversation: string, author: string, authorName?: string, reporter: string, reporterName?: string,
 *   alsoReportedBy?: { user: string, name?: string }[], groupTitle?: string, groupKind?: 'private' | 'channel',
 * }} PlacedReport What of a report (reports.ts on the server) names its place.
 * @typedef {{ label: string, open: boolean, why: string }} ReportPlace `label`: the place in words ("#standup",
 *   "the private conversation of Ann and Bob"); `open`: whether "Go to message" can show it; `why`: else, why not.
 */

/**
 * The name of `user` as the report knows it (its author and reporters are named in it), else as the page does.
 * @param {PlacedReport} report @param {string} user @param {(id: string) => string} nameOf
 */
function reportedName(report, user, nameOf) {
  if (user === report.author && report.authorName) return report.authorName;
  if (user === report.reporter && report.reporterName) return report.reporterName;
  return report.alsoReportedBy?.find((o) => o.user === user)?.name || nameOf(user);
}

/**
 * Where `report`'s message was, for the moderator `state.me`: a group by its title as the page knows it now,
 * else as its members saw it when reported, else its name; a private conversation by its two people.
 * @param {import('./chat-state.js').ChatState} state @param {PlacedReport} report
 * @param {(id: string) => string} nameOf
 * @returns {ReportPlace}
 */
export function reportPlace(state, report, nameOf) {
  const parsed = parseConversation(report.conversation);
  if (parsed?.kind === 'group') {
    const { group } = parsed;
    const title =
      state.groupRecords.get(group)?.title ?? state.listedTitles.get(group) ?? report.groupTitle ?? group;
    const kind = groupKind(state, group) ?? report.groupKind ?? null;
    const member = state.groups.includes(group);
    return {
      label: kind === 'private' ? `the private group ${title}` : `#${title}`,
      open: member,
      why: member
        ? ''
        : kind === 'channel'
          ? 'Join the channel to see it in place.'
          : 'Only the group’s members can open it.',
    };
  }
  if (parsed?.kind === 'dm') {
    const [a, b] = parsed.users.map((u) => reportedName(report, u, nameOf));
    if (parsed.users.includes(state.me)) {
      const other = parsed.users[0] === state.me ? b : a;
      return { label: `your private conversation with ${other}`, open: true, why: '' };
    }
    return {
      label: `the private conversation of ${a} and ${b}`,
      open: false,
      why: 'Only its two people can open a private conversation.',
    };
  }
  return { label: 'the room', open: true, why: '' };
}
