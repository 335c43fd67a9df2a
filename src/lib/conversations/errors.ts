/**
 * The conversation list's and people directory's failures, by stable code (docs/architecture.md, "Errors").
 * The chat turns each into an `error` event of the same code.
 */

export const CONVERSATION_ERRORS = {
  'list-full': 'The list of conversations is full of groups: leave one before joining another',
  'list-contended': 'The list of conversations changed too often meanwhile to be updated: try again',
} as const satisfies Record<string, string>;

export type ConversationErrorCode = keyof typeof CONVERSATION_ERRORS;

export class ConversationListError extends Error {
  override readonly name = 'ConversationListError';
  constructor(
    readonly code: ConversationErrorCode,
    detail?: string,
  ) {
    super(detail ? `${CONVERSATION_ERRORS[code]}: ${detail}` : CONVERSATION_ERRORS[code]);
  }
}
