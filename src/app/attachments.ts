/**
 * The two routes of attachments (docs/architecture.md, "Attachments"), each limited per user and minute. Neither carries a file: the browser
 * uploads to Blob Storage and reads from it with short-lived SAS URLs these routes issue after checking the
 * caller, who is decided as negotiate decides it (identity.ts), never by what the request says, and who must not
 * be banned (nor, to upload, muted).
 *
 * - `POST /api/uploads` `{ conversation, name, type, size }`: the caller may write to the conversation (the room;
 *   a group they are a member of; a private conversation they take part in), the size and type are within the
 *   rules; answers `{ blob, uploadUrl, expiresOn, headers }`: a create-only SAS for the pending blob of one blob
 *   the server names, which the message that sends it claims (store.ts).
 * - `GET /api/attachments?conversation=…&blob=…&type=…`: the caller may read the conversation, the blob is one of
 *   its files and is stored within the limit with that type (one HEAD: no SAS can cap what was PUT, so a blob
 *   larger than the limit is refused and deleted); answers 302 to a read SAS of that blob that fixes the
 *   response's type (`rsct`) and, for files, `Content-Disposition: attachment` (`rscd`).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import {
  type AttachmentProblem,
  checkUploadRequest,
  contentDisposition,
  fileNameOfBlob,
  isAllowedType,
  newAttachmentBlobName,
  safeFileName,
} from '../lib/attachments/index.js';
import { readStreamWithin } from '../lib/capped-read.js';
import { type ChatErrorPayload, readRefusal } from '../lib/chat/index.js';
import { parseConversation } from '../lib/conversation.js';
import {
  attachmentReadLimiterFor,
  clientAddress,
  uploadAddressLimiterFor,
  uploadLimiterFor,
} from './command-limits.js';
import { APP_ERRORS, type AppErrorCode, errorBody } from './errors.js';
import { identify } from './identity.js';
import { moderationFor } from './moderation.js';
import { NOSNIFF } from './page-security.js';
import { type ChatServices, chatServices } from './services.js';

/** The largest request body `POST /api/uploads` reads: a few short fields. */
export const MAX_UPLOAD_REQUEST_BYTES = 4096;
/** Seconds a browser may reuse a read redirect (well within the read SAS's lifetime). */
export const READ_REDIRECT_MAX_AGE_SECONDS = 60;

const JSON_HEADERS = { 'cache-control': 'no-store', ...NOSNIFF };

function refuse(code: AppErrorCode, detail?: string): HttpResponseInit {
  const message = detail ? `${APP_ERRORS[code].message} (${detail})` : undefined;
  return { status: APP_ERRORS[code].status, headers: JSON_HEADERS, jsonBody: errorBody(code, message) };
}

/** A 429 with `Retry-After` when a limiter asks to wait `waitMs` (> 0), else nothing. */
function tooMany(waitMs: number, code: AppErrorCode): HttpResponseInit | undefined {
  if (waitMs <= 0) return undefined;
  const seconds = Math.ceil(waitMs / 1000);
  const refusal = refuse(code, `${seconds} s`);
  return { ...refusal, headers: { ...JSON_HEADERS, 'retry-after': String(seconds) } };
}

/** The caller's user id, or the refusal negotiate would give. */
function callerOf(req: HttpRequest): { user: string } | { refusal: HttpResponseInit } {
  const identity = identify(req);
  if (!identity.ok) return { refusal: refuse(identity.code, identity.message) };
  if (identity.user === null)
    return { refusal: refuse(identity.mode === 'entra' ? 'not-signed-in' : 'no-user') };
  return { user: identity.user.id };
}

/** The chat's rule for reading and writing a conversation (memberships.ts), as an HTTP refusal. */
function fromChatRefusal(refusal: ChatErrorPayload): HttpResponseInit {
  if (refusal.code === 'not-a-member' || refusal.code === 'forbidden-conversation')
    return refuse(refusal.code);
  return refuse('invalid-attachment', refusal.message);
}

/**
 * A ban refuses both routes and a mute refuses uploads (a muted user cannot send the file), as negotiate and
 * `sendMessage` refuse them (docs/architecture.md, "Moderation"); from the per-instance cache of the user's state.
 */
async function sanctionRefusal(
  services: ChatServices,
  user: string,
  action: 'upload' | 'read',
): Promise<HttpResponseInit | undefined> {
  const moderation = moderationFor(services);
  if (!moderation.enabled) return undefined;
  const { ban, mute } = await moderation.store.sanctionsOf(user);
  if (ban !== undefined) return refuse('banned', ban.reason);
  if (mute !== undefined && action === 'upload') {
    return refuse('muted', `it ends at ${mute.until}${mute.reason ? `: ${mute.reason}` : ''}`);
  }
  return undefined;
}

function fromProblem(problem: AttachmentProblem): HttpResponseInit {
  return refuse(problem.code, problem.detail);
}

export async function uploads(req: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const caller = callerOf(req);
  if ('refusal' in caller) return caller.refusal;
  const services = chatServices();
  const store = services.attachments;
  if (store === undefined) return refuse('attachments-off');
  // Per user and per address: names are free without sign-in, and each upload can store a file for a day.
  const waitMs = Math.max(
    uploadLimiterFor(services).take(caller.user),
    uploadAddressLimiterFor(services).take(clientAddress(req)),
  );
  const limited = tooMany(waitMs, 'too-many-uploads');
  if (limited !== undefined) return limited;
  const body = await readStreamWithin(req.body, MAX_UPLOAD_REQUEST_BYTES);
  if (body === undefined) return refuse('invalid-attachment', `at most ${MAX_UPLOAD_REQUEST_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return refuse('invalid-attachment', 'the body is not JSON');
  }
  const checked = checkUploadRequest(value, store.maxBytes);
  if (!checked.ok) return fromProblem(checked.problem);
  const sanctioned = await sanctionRefusal(services, caller.user, 'upload');
  if (sanctioned !== undefined) return sanctioned;
  const { conversation, name, type, size } = checked.request;
  const refusal = await readRefusal(
    services.members,
    caller.user,
    'upload',
    conversation,
    services.groups.records,
  );
  if (refusal !== undefined) return fromChatRefusal(refusal);
  const blob = newAttachmentBlobName(conversation, name);
  const { url, expiresOn } = await store.uploadUrl(blob);
  const disposition = contentDisposition({ name: safeFileName(name), type });
  return {
    status: 200,
    headers: JSON_HEADERS,
    jsonBody: {
      blob,
      name: safeFileName(name),
      type,
      size,
      uploadUrl: url,
      expiresOn,
      // What the PUT must carry: a block blob, its type, and for a file its download name.
      headers: {
        'x-ms-blob-type': 'BlockBlob',
        'x-ms-blob-content-type': type,
        ...(disposition !== undefined ? { 'x-ms-blob-content-disposition': disposition } : {}),
      },
    },
  };
}

export async function attachments(req: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const caller = callerOf(req);
  if ('refusal' in caller) return caller.refusal;
  const services = chatServices();
  const store = services.attachments;
  if (store === undefined) return refuse('attachments-off');
  // Before any request of its own: each read costs a membership check and a Blob HEAD.
  const limited = tooMany(attachmentReadLimiterFor(services).take(caller.user), 'too-many-attachment-reads');
  if (limited !== undefined) return limited;
  const conversation = req.query.get('conversation') ?? '';
  const blob = req.query.get('blob') ?? '';
  if (parseConversation(conversation) === undefined) return refuse('invalid-attachment', 'conversation');
  const sanctioned = await sanctionRefusal(services, caller.user, 'read');
  if (sanctioned !== undefined) return sanctioned;
  // Membership first: a non-member learns nothing about what the conversation holds.
  const refusal = await readRefusal(
    services.members,
    caller.user,
    'attachment',
    conversation,
    services.groups.records,
  );
  if (refusal !== undefined) return fromChatRefusal(refusal);
  const name = fileNameOfBlob(conversation, blob);
  if (name === undefined) return refuse('attachment-not-found');
  // The type the message declares (checked against the blob when it was sent) is what the SAS makes the
  // response say (`rsct`), whatever the blob was uploaded with: no read can turn a file into a page.
  const type = req.query.get('type') ?? '';
  if (!isAllowedType(type)) return refuse('attachment-type-refused', `type "${type.slice(0, 80)}"`);
  // What is stored, not what was declared: a SAS cannot cap the length of a PUT, so the limit is checked here
  // before anyone can read a byte, and a blob over it is deleted.
  const stored = await store.head(blob);
  if (stored === undefined) return refuse('attachment-not-found');
  if (stored.size > store.maxBytes) {
    await store.remove(blob);
    return refuse('attachment-removed', `${stored.size} bytes; at most ${store.maxBytes}`);
  }
  if (stored.type !== type) {
    return refuse('invalid-attachment', `type must be the file's own, as its message says, not "${type}"`);
  }
  const { url } = await store.readUrl({ blob, name, type });
  return {
    status: 302,
    headers: {
      location: url,
      'cache-control': `private, max-age=${READ_REDIRECT_MAX_AGE_SECONDS}`,
      'referrer-policy': 'no-referrer',
      ...NOSNIFF,
    },
  };
}
