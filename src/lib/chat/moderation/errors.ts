/**
 * The moderation refusals of the chat's error catalogue (spread into `CHAT_ERRORS`, errors.ts), each with a
 * message that says what to do (docs/architecture.md, "Moderation").
 */
export const MODERATION_ERRORS = {
  'moderation-off':
    'Moderation is off: the chat runs without sign-in (CHAT_AUTH=none), so nobody has a moderator role and nothing can be reported',
  'not-a-moderator':
    'Only a moderator or an admin may do this: ask an admin of the app registration to assign you the Chat.Moderator role, then sign in again',
  muted:
    "A moderator has muted you: until the mute ends you can read, leave, delete your messages, take back your reactions and remove members from a group you own, but not send, edit, react, report, create a group or channel, add members, or change a group's title or topic",
  banned: 'A moderator has banned you from the chat',
  'invalid-reason': '"reason" must be a line of text',
  'invalid-duration': '"minutes" must be a whole number of minutes',
  'invalid-report': '"report" must be the id of an open report',
  'already-reported':
    'You have reported this message already: your report stays open until a moderator resolves it, so there is nothing to send again',
  'report-contended':
    'Many people reported this message at the same moment and yours could not be added: report it again',
  'message-deleted':
    'This message was deleted, by its author or by a moderator: nobody sees it any more, so there is nothing to report',
  'too-many-reports':
    'You have as many open reports as one person may have: report more once moderators have resolved some of yours',
  'report-not-found': 'No open report with this id: another moderator may have resolved it',
  'not-a-channel':
    "Only people in a public channel can be removed by a moderator; private groups are their owners'",
  'invalid-cursor': '"before" (listAudit) or "after" (listReports) must be the "next" of the previous page',
} as const satisfies Record<string, string>;
