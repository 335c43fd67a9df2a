/**
 * The Functions layer's one error catalogue: every refusal of home, negotiate, assets and the upstream
 * adapter, each listed once with its code (lowercase kebab-case), HTTP status and a message that says what
 * to fix. JSON error bodies are `{"code":"…","message":"…"}` (see {@link errorBody}).
 * See docs/architecture.md, "Errors".
 */

import type { ErrorSpec } from '../lib/error-catalogue.js';

export const APP_ERRORS = {
  'invalid-name': {
    status: 400,
    message:
      'The name is not a valid chat name: use 1–32 letters, digits, spaces, "_", "-" or ".", without outer spaces',
  },
  'no-user': {
    status: 400,
    message: 'No user: sign in, or pass ?name=<your name> (1–32 letters, digits, " _-.")',
  },
  'not-signed-in': {
    status: 401,
    message: 'Not signed in: open the chat page to sign in (/.auth/login/aad), then negotiate again',
  },
  'invalid-principal': {
    status: 401,
    message: 'The signed-in principal cannot be read: sign out (/.auth/logout) and sign in again',
  },
  'dialect-retired': {
    status: 400,
    message:
      'dialect is retired with the 2020 raw-WebSocket preview: the raw-WebSocket chat is service=webpubsub (Azure Web PubSub)',
  },
  'invalid-service': {
    status: 400,
    message: 'service must be "signalr" (the default) or "webpubsub"',
  },
  'webpubsub-not-configured': {
    status: 400,
    message:
      'This app has no Azure Web PubSub service: set REALTIME_SERVICE=webpubsub with WebPubSubConnectionString or WEBPUBSUB_ENDPOINT, or use the SignalR chat (no service= parameter)',
  },
  'invalid-transport': {
    status: 400,
    message:
      'transport must be "websockets", "sse" or "longpolling", and Web PubSub has only "websockets"; leave it out to let the client choose',
  },
  'invalid-protocol': {
    status: 400,
    message:
      'protocol must be "json" (the default) or "messagepack"; messagepack needs SignalR and a binary transport (not "sse")',
  },
  'asset-not-found': {
    status: 404,
    message: 'No asset by that name; the page requests only the files in static/',
  },
  'too-many-negotiates': {
    status: 429,
    message: 'Too many connection attempts: wait for the time in Retry-After, then connect again',
  },
  banned: {
    status: 403,
    message:
      'A moderator has banned you from the chat: you cannot connect until an admin or moderator lifts the ban',
  },
  muted: {
    status: 403,
    message:
      'A moderator has muted you: you can read, but not send messages or attach files, until the mute ends',
  },
  'attachments-off': {
    status: 404,
    message: 'Attachments are off on this server (CHAT_ATTACHMENTS_STORAGE=off): send text only',
  },
  'invalid-attachment': {
    status: 400,
    message:
      'Ask with JSON { conversation, name, type, size } (uploads) or ?conversation=…&blob=… (attachments), as the page does',
  },
  'attachment-too-large': {
    status: 413,
    message: 'The file is larger than this server accepts (CHAT_ATTACHMENT_MAX_BYTES): send a smaller one',
  },
  'attachment-type-refused': {
    status: 415,
    message:
      'This type of file cannot be attached: send an image (PNG, JPEG, GIF, WebP) or a document, archive, audio or video file; never HTML, SVG or scripts',
  },
  'too-many-uploads': {
    status: 429,
    message: 'Too many files at once: wait for the time in Retry-After, then attach again',
  },
  'too-many-attachment-reads': {
    status: 429,
    message: 'Too many files opened at once: wait for the time in Retry-After, then open them again',
  },
  'not-a-member': {
    status: 403,
    message: 'Join the group before sending files to it or opening its files',
  },
  'forbidden-conversation': {
    status: 403,
    message: 'You can only send or open files of private conversations you take part in',
  },
  'attachment-not-found': {
    status: 404,
    message: 'No such attachment in this conversation: it may not be uploaded yet',
  },
  'attachment-removed': {
    status: 410,
    message:
      'This file was larger than the server accepts (CHAT_ATTACHMENT_MAX_BYTES) and has been deleted: ask its sender to attach a smaller one',
  },
  'no-valid-user': {
    status: 401,
    message:
      'The connection has no valid user: connect with the URL and token from /api/negotiate (the token carries the user)',
  },
} as const satisfies Record<string, ErrorSpec>;

export type AppErrorCode = keyof typeof APP_ERRORS;

/** The JSON body of a refusal; `message` replaces the catalogue's when the case has a more precise one. */
export function errorBody(code: AppErrorCode, message?: string): { code: AppErrorCode; message: string } {
  return { code, message: message ?? APP_ERRORS[code].message };
}
