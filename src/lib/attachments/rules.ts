/**
 * What an attachment may be and where it lives (docs/architecture.md, "Attachments"): the allowed types (images
 * shown inline, other files only as downloads), the size limit, the file name made safe, the blob name the server
 * chooses (`<conversation>/<ULID>/<file name>`, each part a blob-name segment so no name can change the URL's
 * meaning; uploaded under {@link PENDING_UPLOADS_FOLDER} until a message claims it), and the checks of an upload
 * request and of the attachment reference a message carries.
 */
import { ulid } from 'ulid';
import { blobNameSegment } from '../blob-names.js';
import { parseConversation } from '../conversation.js';
import { isRecord } from '../is-record.js';

/** Types shown inline as images: raster formats a browser decodes without running anything (no SVG). */
export const INLINE_IMAGE_TYPES: readonly string[] = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

/**
 * Types accepted as downloads: always read with `Content-Disposition: attachment`, so the browser saves them and
 * never renders them in the app's context. HTML, SVG, XML and scripts are not among them.
 */
export const DOWNLOAD_TYPES: readonly string[] = [
  'application/pdf',
  'text/plain',
  'text/csv',
  'application/zip',
  'application/gzip',
  'application/json',
  'audio/mpeg',
  'audio/ogg',
  'video/mp4',
  'video/webm',
  'application/msword',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.ms-excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.ms-powerpoint',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
];

/** Limits of attachments, each with its default. */
export const ATTACHMENT_LIMITS = {
  /** The largest file, in bytes (`CHAT_ATTACHMENT_MAX_BYTES`). */
  maxBytes: 10 * 1024 * 1024,
  /** Upper bound of that setting: one Put Blob of a block blob (Azure's limit is 5000 MiB; kept modest). */
  maxBytesCeiling: 256 * 1024 * 1024,
  /** Longest file name kept, in characters (code points); longer ones are shortened before the extension. */
  maxFileNameLength: 120,
  /** Largest image width or height a reference may declare, in pixels. */
  maxImageSide: 20_000,
  /** Seconds an upload SAS is valid. */
  uploadSasSeconds: 5 * 60,
  /** Seconds a read SAS is valid. */
  readSasSeconds: 5 * 60,
} as const;

/** The attachment a message carries, as stored in history and delivered. */
export interface Attachment {
  /** The blob name in the attachments container, chosen by the server. */
  readonly blob: string;
  /** The file name (the last part of the blob name, decoded). */
  readonly name: string;
  /** One of {@link INLINE_IMAGE_TYPES} or {@link DOWNLOAD_TYPES}. */
  readonly type: string;
  /** Bytes. */
  readonly size: number;
  /** Images: their size in pixels, when the sender knew it (the page sets it so nothing jumps). */
  readonly width?: number;
  readonly height?: number;
}

/** What the page asks an upload URL for. */
export interface UploadRequest {
  readonly conversation: string;
  readonly name: string;
  readonly type: string;
  readonly size: number;
}

/** A refusal, by the code both catalogues use for it, with a detail. */
export interface AttachmentProblem {
  readonly code: 'invalid-attachment' | 'attachment-too-large' | 'attachment-type-refused';
  readonly detail: string;
}

/** True when `type` may be attached; `isInline` says whether it is shown as an image. */
export function isAllowedType(type: string): boolean {
  return INLINE_IMAGE_TYPES.includes(type) || DOWNLOAD_TYPES.includes(type);
}

export function isInline(type: string): boolean {
  return INLINE_IMAGE_TYPES.includes(type);
}

const INVISIBLE_OR_CONTROL = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;

/**
 * A file name that is safe to show and to put in a blob name and a `Content-Disposition`: no folder part, no
 * control, format or invisible characters, no quotes or backslashes, no leading dots, NFC, at most
 * {@link ATTACHMENT_LIMITS.maxFileNameLength} characters (the extension kept); `file` when nothing is left.
 */
export function safeFileName(raw: string): string {
  const base = raw.split(/[/\\]/).pop() ?? '';
  let name = base
    .normalize('NFC')
    .replace(INVISIBLE_OR_CONTROL, '')
    .replace(/["*:<>?|]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+/, '');
  const chars = [...name];
  const max = ATTACHMENT_LIMITS.maxFileNameLength;
  if (chars.length > max) {
    const dot = name.lastIndexOf('.');
    const ext = dot > 0 ? [...name.slice(dot)].slice(0, 16) : [];
    name = [...chars.slice(0, max - ext.length), ...ext].join('');
  }
  return name === '' ? 'file' : name;
}

/**
 * Where the browser uploads a file (`_pending/<the blob name>`) until a message claims it: the send copies it to
 * its blob name and deletes this one, and a lifecycle rule deletes what is left here (an upload never sent) after
 * a day (docs/architecture.md, "Attachments"). Conversation folders never start with `_`.
 */
export const PENDING_UPLOADS_FOLDER = '_pending/';

/** The name `blob` is uploaded under, before a message claims it. */
export function pendingBlobName(blob: string): string {
  return `${PENDING_UPLOADS_FOLDER}${blob}`;
}

/** The folder of a conversation's attachments (a blob-name prefix, with its trailing `/`). */
export function attachmentFolder(conversation: string): string {
  return `${blobNameSegment(conversation)}/`;
}

/** A new blob name for a file of `conversation`: `<conversation>/<ULID>/<safe file name>`. */
export function newAttachmentBlobName(conversation: string, fileName: string): string {
  return `${attachmentFolder(conversation)}${ulid()}/${blobNameSegment(safeFileName(fileName))}`;
}

const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

/**
 * The file name of a blob name of `conversation`'s folder, or `undefined` when the name is not
 * `<that folder>/<ULID>/<one segment>` as {@link newAttachmentBlobName} makes them.
 */
export function fileNameOfBlob(conversation: string, blob: string): string | undefined {
  const folder = attachmentFolder(conversation);
  if (!blob.startsWith(folder)) return undefined;
  const parts = blob.slice(folder.length).split('/');
  if (parts.length !== 2 || !ULID.test(parts[0] as string)) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(parts[1] as string);
  } catch {
    return undefined;
  }
  return blobNameSegment(name) === parts[1] && safeFileName(name) === name ? name : undefined;
}

/** Checks what the page asks an upload URL for; the problem, or the request. */
export function checkUploadRequest(
  value: unknown,
  maxBytes: number,
): { ok: true; request: UploadRequest } | { ok: false; problem: AttachmentProblem } {
  const fail = (code: AttachmentProblem['code'], detail: string) => ({
    ok: false as const,
    problem: { code, detail },
  });
  if (!isRecord(value))
    return fail('invalid-attachment', 'send a JSON object { conversation, name, type, size }');
  const { conversation, name, type, size } = value;
  if (typeof conversation !== 'string' || parseConversation(conversation) === undefined) {
    return fail('invalid-attachment', 'conversation must be room, group:<name> or dm:<a>:<b>');
  }
  if (typeof name !== 'string' || name.length === 0 || name.length > 1024) {
    return fail('invalid-attachment', 'name must be the file name (1–1024 characters)');
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
    return fail('invalid-attachment', 'size must be the file size in bytes (1 or more)');
  }
  if (size > maxBytes) return fail('attachment-too-large', `${size} bytes; at most ${maxBytes}`);
  if (typeof type !== 'string' || !isAllowedType(type)) {
    return fail('attachment-type-refused', `"${String(type).slice(0, 80)}"`);
  }
  return { ok: true, request: { conversation, name, type, size } };
}

/**
 * Checks the attachment reference of a `sendMessage` for `conversation` (its shape, its blob name in that
 * conversation's folder, its type and size within the rules); the stored blob is checked separately.
 */
export function checkAttachmentRef(
  value: unknown,
  conversation: string,
  maxBytes: number,
): { ok: true; attachment: Attachment } | { ok: false; problem: AttachmentProblem } {
  const fail = (detail: string) => ({
    ok: false as const,
    problem: { code: 'invalid-attachment' as const, detail },
  });
  if (!isRecord(value)) return fail('attachment must be { blob, name, type, size, width?, height? }');
  const { blob, name, type, size, width, height } = value;
  if (typeof blob !== 'string' || blob.length > 1024)
    return fail('blob must be the name the upload URL gave');
  const fileName = fileNameOfBlob(conversation, blob);
  if (fileName === undefined) return fail(`blob is not an upload of ${conversation}`);
  if (name !== fileName) return fail('name must be the file name of the blob');
  if (typeof type !== 'string' || !isAllowedType(type)) return fail('type is not an allowed type');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1 || size > maxBytes) {
    return fail(`size must be the file size in bytes (1–${maxBytes})`);
  }
  const side = (v: unknown) =>
    v === undefined ||
    (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= ATTACHMENT_LIMITS.maxImageSide);
  if (!side(width) || !side(height) || (width === undefined) !== (height === undefined)) {
    return fail(`width and height are both absent or whole numbers 1–${ATTACHMENT_LIMITS.maxImageSide}`);
  }
  if (width !== undefined && !isInline(type)) return fail('only an image has a width and height');
  return {
    ok: true,
    attachment: {
      blob,
      name: fileName,
      type,
      size,
      ...(width !== undefined ? { width: width as number, height: height as number } : {}),
    },
  };
}

/** The `Content-Disposition` a file is read (and uploaded) with; images have none. */
export function contentDisposition(attachment: Pick<Attachment, 'name' | 'type'>): string | undefined {
  if (isInline(attachment.type)) return undefined;
  const ascii = attachment.name.replace(/[^\x20-\x7e]/g, '_').replace(/[\\"%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${blobNameSegment(attachment.name)}`;
}
