/**
 * The conversation list's, people directory's and group records' failures, by stable code (docs/architecture.md, "Errors").
 * The chat turns each into an `error` event of the same code.
 */

export const CONVERSATION_ERRORS = {
  'list-full': 'The list of conversations is full of groups: leave one before joining another',
  'list-contended': 'The list of conversations changed too often meanwhile to be updated: try again',
  'group-exists':
    'A group or channel of this name exists already, or did and was deleted (a name is never used twice): choose another name',
  'group-deleted':
    'This group was deleted, with its messages and files: nobody can join it, and its name is not used again',
  'unknown-group': 'No private group or channel of this name was created: create it first',
  'private-group': 'This group is private: only its owners can add you',
  'not-private': 'A channel has no member list: anyone may join it, and nobody is added or removed',
  'not-an-owner': 'Only an owner of the group can do this',
  'group-full': 'The group has as many members as allowed: remove one before adding another',
  'too-many-groups': 'This user is in as many groups as allowed: leave one first',
  'too-many-groups-created':
    'You have created as many groups and channels as allowed in 24 hours (leaving one does not give it back): create the next one after the time given',
  'too-many-added-groups':
    'Others have added this user to as many groups as allowed: they must leave one before anyone adds them to another',
  'too-many-adds':
    'You have added this user to as many groups as allowed: remove them from one of those first',
  'too-many-owners': 'The group has as many owners as allowed: remove an owner before making another one',
  'last-member':
    'The last member cannot leave a private group, which nobody could then join again: delete the group instead (its messages and files go with it), or add someone first',
  'not-deletable': 'Only a private group can be deleted: a channel stays open to anyone who joins it',
  'last-owner':
    'The last owner cannot leave or be removed while the group has other members: make someone else an owner first',
  'group-contended': 'The group changed too often meanwhile to be updated: try again',
} as const satisfies Record<string, string>;

export type ConversationErrorCode = keyof typeof CONVERSATION_ERRORS;

export class ConversationListError extends Error {
  override readonly name = 'ConversationListError';
  constructor(
    readonly code: ConversationErrorCode,
    detail?: string,
    /** For `too-many-groups-created`: when the next creation is possible (ISO 8601). */
    readonly until?: string,
  ) {
    super(detail ? `${CONVERSATION_ERRORS[code]}: ${detail}` : CONVERSATION_ERRORS[code]);
  }
}
