/**
 * The one catalogue of rejections of Web PubSub event handler calls: each listed once with its stable code, HTTP
 * status and a message that says what to fix. The answer body is the message (and detail) as plain text, as the
 * service relays a refusal to the client.
 */
import { CataloguedError, type ErrorSpec } from '../error-catalogue.js';
import { CLOUD_EVENTS_HEADERS as CE, WEBHOOK_HEADERS } from './protocol.js';

export const WEBPUBSUB_ERRORS = {
  'missing-connection-id': {
    status: 400,
    message: `The ${CE.connectionId} header is required on every Web PubSub event handler call`,
  },
  'missing-signature': {
    status: 401,
    message: `The ${CE.signature} header is missing; event handler calls must be signed by a Web PubSub service that holds one of this app's access keys`,
  },
  'bad-signature': {
    status: 401,
    message: `${CE.signature} matches none of the configured access keys; check that the app has the Web PubSub service's current key`,
  },
  'no-access-keys': {
    status: 500,
    message:
      'No access keys are configured to verify ce-signature; set the Web PubSub connection string (or access key) of the app',
  },
  'missing-hub': {
    status: 400,
    message: `The ${CE.hub} header is required on every Web PubSub event handler call`,
  },
  'wrong-hub': {
    status: 400,
    message: "This endpoint does not serve that hub; point the hub's event handler at its own endpoint",
  },
  'spec-version': {
    status: 400,
    message: `${CE.specversion} must be 1.0, the CloudEvents version Web PubSub sends`,
  },
  'unknown-event-type': {
    status: 400,
    message: `${CE.type} must be azure.webpubsub.sys.connect, .connected, .disconnected or azure.webpubsub.user.<event>`,
  },
  'unsupported-media-type': {
    status: 415,
    message:
      'A user event carries text/plain, application/json or application/octet-stream data; send one of those Content-Types',
  },
  'malformed-body': {
    status: 400,
    message: 'The event handler call does not have the body its event requires',
  },
  'missing-request-origin': {
    status: 400,
    message: `The abuse-protection request needs a ${WEBHOOK_HEADERS.requestOrigin} header naming the service host`,
  },
  'origin-not-allowed': {
    status: 403,
    message:
      "This app accepts event deliveries only from its own Web PubSub service; point the hub's event handler of that service here, or configure this app with that service's endpoint",
  },
} as const satisfies Record<string, ErrorSpec>;

/** The stable code of a catalogued rejection. */
export type WebPubSubErrorCode = keyof typeof WEBPUBSUB_ERRORS;

/** A catalogued rejection; `detail` adds what was found (never a secret). */
export class WebPubSubError extends CataloguedError<WebPubSubErrorCode> {
  override readonly name = 'WebPubSubError';

  constructor(code: WebPubSubErrorCode, detail?: string) {
    super(WEBPUBSUB_ERRORS, code, detail);
  }
}
