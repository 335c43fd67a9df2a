/**
 * The typed upstream dispatcher: guards first (the bearer token in identity mode, then the connection id, the
 * signature in key mode, the hub and the size), then the body is read once and parsed into an event, then
 * exactly one handler is awaited and its answer returned. A call carrying CloudEvents headers is Azure Web
 * PubSub's and goes through its own guards and parser (cloud-events.ts) into the same events; an `OPTIONS`
 * request is Web PubSub's abuse-protection handshake.
 * See docs/architecture.md, "The upstream contract".
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { describeError } from '../error-message.js';
import {
  ATTRIBUTES,
  chatMetrics,
  countFailure,
  type FailureStage,
  failActiveSpan,
  inSpan,
  SPANS,
  SpanKind,
} from '../observability.js';
import { DEFAULT_MAX_MESSAGEPACK_DEPTH, UPSTREAM_HEADERS } from '../signalr/index.js';
import { CLOUD_EVENTS_HEADERS, isCloudEventsRequest, WebPubSubError } from '../webpubsub/index.js';
import {
  abuseProtectionResponse,
  cloudEventsConnectResponse,
  cloudEventsMessageResponse,
  guardCloudEvent,
  readCloudEvent,
} from './cloud-events.js';
import { quoteValue, UpstreamError } from './errors.js';
import {
  DEFAULT_MAX_BODY_BYTES,
  type UpstreamContext,
  type UpstreamEvent,
  type UpstreamHandlerOptions,
  type UpstreamHandlers,
  type UpstreamRequest,
} from './events.js';
import { parseContext, parseEvent, resolveRoute } from './parse.js';
import { type Answerable, emptyResponse, invocationResponse } from './response.js';
import { checkDeclaredLength, readBodyWithin, verifyCall } from './verify.js';

/** The Functions HTTP handler that {@link createUpstreamHandler} returns. */
export type UpstreamHttpHandler = (
  request: HttpRequest,
  context: InvocationContext,
) => Promise<HttpResponseInit>;

/**
 * Creates the HTTP handler for the upstream endpoint. Calls that fail a guard are answered with their
 * catalogued status (see `errors.ts`) and logged as warnings; a handler that throws, or returns without
 * answering a blocking event, is logged with `context.error` and answered 500 without details.
 *
 * @throws RangeError when `maxBodyBytes` or `maxMessagePackDepth` is not a positive integer or `hub` is empty.
 */
export function createUpstreamHandler(
  handlers: UpstreamHandlers,
  options: UpstreamHandlerOptions,
): UpstreamHttpHandler {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new RangeError(`maxBodyBytes must be a positive integer; got ${String(options.maxBodyBytes)}`);
  }
  const maxMessagePackDepth = options.maxMessagePackDepth ?? DEFAULT_MAX_MESSAGEPACK_DEPTH;
  if (!Number.isSafeInteger(maxMessagePackDepth) || maxMessagePackDepth <= 0) {
    throw new RangeError(
      `maxMessagePackDepth must be a positive integer; got ${String(options.maxMessagePackDepth)}`,
    );
  }
  const expectedHub = options.hub;
  if (expectedHub !== undefined && expectedHub.trim() === '') {
    throw new RangeError('hub must be a non-empty hub name when set');
  }
  const { accessKeys, bearer, webPubSubHosts = [], webPubSubAccessKeys = [] } = options;
  const currentKeys = typeof accessKeys === 'function' ? accessKeys : () => accessKeys;
  const currentWebPubSubKeys =
    typeof webPubSubAccessKeys === 'function' ? webPubSubAccessKeys : () => webPubSubAccessKeys;
  const currentHosts = typeof webPubSubHosts === 'function' ? webPubSubHosts : () => webPubSubHosts;

  // One span per upstream call, the root of the event's trace (docs/observability.md); the checks are its
  // `upstream verify` child, and the handler's Blob and REST calls nest under it.
  return (request, invocationContext) => {
    if (request.method === 'OPTIONS')
      return Promise.resolve(abuseProtectionResponse(request, currentHosts()));
    return inSpan(
      SPANS.upstream,
      {},
      async (span) => {
        const started = performance.now();
        const finish = (answer: HttpResponseInit, eventKind: string): HttpResponseInit => {
          const status = answer.status ?? 200;
          span.setAttribute(ATTRIBUTES.status, status);
          chatMetrics().upstreamDuration.record(performance.now() - started, {
            [ATTRIBUTES.upstreamEvent]: eventKind,
            [ATTRIBUTES.status]: status,
          });
          return answer;
        };
        let parsed: { event: UpstreamEvent; context: UpstreamContext };
        try {
          parsed = await inSpan(SPANS.verify, {}, async () => {
            // Identity mode: the caller proves who it is first; nothing else of the request is looked at before.
            if (bearer) await bearer.validate(request.headers.get('authorization'));
            if (isCloudEventsRequest(request.headers)) {
              // Azure Web PubSub: its own keys, guards (before the body) and parser, into the same events.
              const call = guardCloudEvent(
                request,
                bearer ? null : currentWebPubSubKeys(),
                expectedHub?.trim(),
              );
              checkDeclaredLength(request, maxBodyBytes);
              return readCloudEvent(call, await readBodyWithin(request, maxBodyBytes), request);
            }
            const verified = verifyCall(request, bearer ? null : currentKeys(), expectedHub?.trim());
            const route = resolveRoute(request);
            checkDeclaredLength(request, maxBodyBytes);
            const body = await readBodyWithin(request, maxBodyBytes);
            return {
              event: parseEvent(route, body, request, maxMessagePackDepth),
              context: parseContext(request, route, verified),
            };
          });
        } catch (error) {
          return finish(rejectCall(error, request, invocationContext), 'unknown');
        }
        const { kind } = parsed.event;
        span.updateName(`${SPANS.upstream} ${kind}`);
        span.setAttributes({
          [ATTRIBUTES.upstreamEvent]: kind,
          [ATTRIBUTES.hub]: parsed.context.hub,
          [ATTRIBUTES.connectionId]: parsed.context.connectionId,
        });
        return finish(await dispatch(handlers, { ...parsed, httpRequest: request, invocationContext }), kind);
      },
      SpanKind.SERVER,
    );
  };
}

/** Answers a call that failed before any handler ran. */
function rejectCall(error: unknown, request: HttpRequest, log: InvocationContext): HttpResponseInit {
  const header = (name: string) => request.headers.get(name);
  const where = isCloudEventsRequest(request.headers)
    ? describeCall(
        header(CLOUD_EVENTS_HEADERS.hub),
        header(CLOUD_EVENTS_HEADERS.type),
        header(CLOUD_EVENTS_HEADERS.connectionId),
      )
    : describeCall(
        header(UPSTREAM_HEADERS.hub),
        header(UPSTREAM_HEADERS.event) ?? request.query.get('event'),
        header(UPSTREAM_HEADERS.connectionId),
      );
  if (error instanceof UpstreamError || error instanceof WebPubSubError) {
    const line = `upstream call rejected: ${error.code} ${error.status}, ${where}: ${error.message}`;
    if (error.status >= 500) log.error(line);
    else log.warn(line);
    return catalogued(error, 'verify');
  }
  // Not a rejection but a fault (a key provider that throws, a body stream that breaks): never a 4xx.
  log.error(`upstream call failed before dispatch, ${where}: ${describeError(error)}`);
  return catalogued(new UpstreamError('internal-error'), 'verify');
}

/** Runs the one handler of the event, awaited, and returns its answer. */
async function dispatch(handlers: UpstreamHandlers, req: UpstreamRequest): Promise<HttpResponseInit> {
  const { event } = req;
  try {
    switch (event.kind) {
      case 'connect': {
        if (!handlers.handleConnect) return emptyResponse();
        // Only Web PubSub sends a connect (its CloudEvents context is always there).
        const answerable = cloudEventsConnectResponse(
          event.subprotocols,
          req.context.webpubsub?.states ?? {},
        );
        await handlers.handleConnect({ ...req, event }, answerable.response);
        return answered(answerable, req, 'handleConnect');
      }
      case 'message': {
        if (!handlers.handleMessage) return emptyResponse();
        const answerable = cloudEventsMessageResponse(req.context.webpubsub?.states ?? {});
        await handlers.handleMessage({ ...req, event }, answerable.response);
        return answered(answerable, req, 'handleMessage');
      }
      case 'invocation': {
        if (!handlers.handleInvocation) return emptyResponse();
        const answerable = invocationResponse(event.protocol, event.invocationId);
        await handlers.handleInvocation({ ...req, event }, answerable.response);
        return answered(answerable, req, 'handleInvocation');
      }
      case 'connected':
        await handlers.onConnected?.({ ...req, event });
        return emptyResponse();
      case 'disconnect':
      case 'disconnected':
        await handlers.onDisconnected?.({ ...req, event });
        return emptyResponse();
    }
  } catch (error) {
    // The message only: a stack trace or the request's headers could carry what the log must not.
    req.invocationContext.error(`upstream handler failed, ${describeRequest(req)}: ${describeError(error)}`);
    return catalogued(new UpstreamError('handler-failed'), 'handler');
  }
}

/** The handler's recorded answer, or a 500 when it returned without one. */
function answered<R>(answerable: Answerable<R>, req: UpstreamRequest, handlerName: string): HttpResponseInit {
  const answer = answerable.answer();
  if (answer) return answer;
  const error = new UpstreamError('no-answer', `${handlerName} called neither success/accept nor fail`);
  req.invocationContext.error(`upstream handler did not answer, ${describeRequest(req)}: ${error.message}`);
  return catalogued(error, 'handler');
}

/**
 * The rejection as the service expects it: status and plain-text reason (see {@link UpstreamError}). It is
 * counted, and marks the upstream span failed with its code (only: a reason may quote the request's body).
 */
function catalogued(error: UpstreamError | WebPubSubError, stage: FailureStage): HttpResponseInit {
  countFailure(stage, error.code);
  failActiveSpan(error.code);
  return {
    status: error.status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    body: error.message,
  };
}

function describeRequest(req: UpstreamRequest): string {
  return describeCall(req.context.hub, req.context.eventName, req.context.connectionId);
}

function describeCall(hub: string | null, event: string | null, connectionId: string | null): string {
  const show = (value: string | null) => (value === null ? '(none)' : quoteValue(value));
  return `hub=${show(hub)} event=${show(event)} connection=${show(connectionId)}`;
}
