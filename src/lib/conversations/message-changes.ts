/**
 * Editing and deleting a message: a record appended to the conversation's history after the author is checked
 * against the stored message (docs/architecture.md, "Edit and delete"). The caller is the user the realtime
 * service vouches for; readers fold the records (src/lib/history/fold.ts).
 */
import type { AppendResult, ChatMessage, NewMessage, RecordKind } from '../history/index.js';

/** What a change needs of the history store. */
export interface ChangeHistory {
  find(conversation: string, id: string): Promise<ChatMessage | undefined>;
  append(message: NewMessage): Promise<AppendResult>;
}

/** One edit or delete, as the chat asks for it. */
export interface MessageChange {
  readonly kind: RecordKind;
  readonly conversation: string;
  /** The id of the message to change. */
  readonly target: string;
  /** The user asking, as the service names the connection. */
  readonly from: string;
  readonly fromName?: string;
  /** The new text of an edit. */
  readonly text?: string;
  readonly clientMessageId?: string;
}

/** Why a change was refused: the codes of the chat's catalogue. */
export type ChangeRefusal = 'message-not-found' | 'not-author' | 'not-a-message';

export type ChangeOutcome =
  /** `original`: the message changed (for a delete, what it carried, such as its attachment). */
  | { readonly ok: true; readonly stored: AppendResult; readonly original?: ChatMessage }
  | { readonly ok: false; readonly code: ChangeRefusal };

/**
 * Stores the change as a record of the target's conversation, addressed as the target was, when `from` wrote
 * the target. One search for the target and one append: the cost of a message, whatever the history's length.
 */
export async function appendChange(history: ChangeHistory, change: MessageChange): Promise<ChangeOutcome> {
  const original = await history.find(change.conversation, change.target);
  if (original === undefined) return { ok: false, code: 'message-not-found' };
  if (original.kind !== undefined) return { ok: false, code: 'not-a-message' };
  if (original.from !== change.from) return { ok: false, code: 'not-author' };
  const stored = await history.append({
    conversation: change.conversation,
    from: change.from,
    ...(change.fromName !== undefined ? { fromName: change.fromName } : {}),
    ...(original.to !== undefined ? { to: original.to } : {}),
    ...(original.group !== undefined ? { group: original.group } : {}),
    text: change.kind === 'edit' ? (change.text ?? '') : '',
    kind: change.kind,
    target: change.target,
    ...(change.clientMessageId !== undefined ? { clientMessageId: change.clientMessageId } : {}),
  });
  return { ok: true, stored, original };
}
