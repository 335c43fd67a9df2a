/**
 * The check of a `sendMessage`'s attachment reference before the message is stored (docs/architecture.md,
 * "Attachments"): its shape and blob name for the conversation it is sent to (rules.ts), then the store claims the
 * upload: it must be stored with the size and type the reference declares, and becomes the conversation's file.
 */
import { type Attachment, checkAttachmentRef } from '../attachments/index.js';
import { type ChatErrorCode, type ChatErrorPayload, chatError } from './errors.js';

/** What the chat needs of the attachment store (src/lib/attachments/store.ts). */
export interface AttachmentCheck {
  readonly maxBytes: number;
  /** Whether the upload is stored as declared, after making it the conversation's file (store.ts `claim`). */
  claim(attachment: Attachment): Promise<boolean>;
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
  if (!(await store.claim(checked.attachment))) return fail('attachment-not-stored');
  return { ok: true, attachment: checked.attachment };
}
