/**
 * A message's attachment in the chat (docs/architecture.md, "Attachments"): the check of a `sendMessage`'s
 * reference before the message is stored (its shape and blob name for the conversation it is sent to, rules.ts),
 * then the store claims the upload: it must be stored with the size and type the reference declares, and becomes
 * the sender's file of the conversation. And the delete of the file once its message is deleted or removed.
 */
import { type Attachment, checkAttachmentRef } from '../attachments/index.js';
import type { ChatMessage } from '../history/index.js';
import { type ChatErrorCode, type ChatErrorPayload, chatError } from './errors.js';

/** What the chat needs of the attachment store (src/lib/attachments/store.ts). */
export interface AttachmentCheck {
  readonly maxBytes: number;
  /**
   * Whether the upload is stored as declared, after making it `sender`'s file of the conversation, or is already
   * their file (store.ts `claim`).
   */
  claim(attachment: Attachment, sender: string): Promise<boolean>;
  /** Deletes a file if it exists. */
  remove(blob: string): Promise<void>;
  /** Deletes every file of a conversation, and its uploads not sent yet (a deleted group's). */
  removeConversation?(conversation: string): Promise<number>;
}

export type AttachmentOutcome =
  | { readonly ok: true; readonly attachment: Attachment | undefined }
  | { readonly ok: false; readonly error: ChatErrorPayload };

/**
 * The checked attachment of a message to `conversation` (`undefined` without one), or the refusal (naming the
 * send's `clientMessageId`, so the sender knows which message).
 */
export async function checkAttachment(
  store: AttachmentCheck | undefined,
  conversation: string,
  sender: string,
  command: { readonly attachment?: unknown; readonly clientMessageId?: string },
): Promise<AttachmentOutcome> {
  const { attachment, clientMessageId } = command;
  if (attachment === undefined) return { ok: true, attachment: undefined };
  const fail = (code: ChatErrorCode, detail?: string): AttachmentOutcome => ({
    ok: false,
    error: {
      ...chatError(code, 'sendMessage', detail),
      ...(clientMessageId !== undefined ? { clientMessageId } : {}),
    },
  });
  if (store === undefined) return fail('attachments-off');
  const checked = checkAttachmentRef(attachment, conversation, store.maxBytes);
  if (!checked.ok) return fail('invalid-attachment', checked.problem.detail);
  if (!(await store.claim(checked.attachment, sender))) return fail('attachment-not-stored');
  return { ok: true, attachment: checked.attachment };
}

/**
 * Deletes the file of `original` once `record`, its author's delete or a moderator's removal, is stored: never
 * before, so a failed store never loses the file of a message that still shows (a retried delete, stored once,
 * deletes again). Its blob name stays in history, and a read of it answers 404 from then on. Nothing for another
 * record, a message without an attachment, or without a store.
 */
export async function removeAttachmentOf(
  store: Pick<AttachmentCheck, 'remove'> | undefined,
  record: Pick<ChatMessage, 'kind'>,
  original: Pick<ChatMessage, 'attachment'> | undefined,
): Promise<void> {
  const blob = original?.attachment?.blob;
  if (store === undefined || blob === undefined) return;
  if (record.kind === 'delete' || record.kind === 'remove') await store.remove(blob);
}
