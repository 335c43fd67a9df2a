/**
 * SignalR JSON hub protocol framing: records are JSON texts each terminated by the record separator `\x1e`.
 * The connection opens with a handshake (`{"protocol":"json","version":1}\x1e` → `{}\x1e` or
 * `{"error":"…"}\x1e`); then messages of type 1 (Invocation), 3 (Completion), 6 (Ping) and 7 (Close) flow.
 *
 * Message parsing and writing are delegated to `@microsoft/signalr`'s `JsonHubProtocol` (the implementation
 * the official clients use), wrapped in our own types, and every failure becomes a {@link HubProtocolError}
 * so that malformed input from a client can never crash the caller.
 * See docs/architecture.md, "Two services".
 */
import { JsonHubProtocol, type HubMessage as LibraryHubMessage, NullLogger } from '@microsoft/signalr';
import { messageOf } from '../error-message.js';
import { isRecord } from '../is-record.js';
import { type SIGNALR_ERRORS, SignalRError, type SignalRErrorCode } from './errors.js';

/** The record separator that terminates every JSON hub protocol record. */
export const RECORD_SEPARATOR = '\x1e';
/** The JSON hub protocol's name in a handshake request. */
export const JSON_PROTOCOL_NAME = 'json';
/** The handshake version clients send without stateful reconnect. */
export const JSON_PROTOCOL_VERSION = 1;
/** The highest handshake version accepted: 2 is what a client sends when it uses stateful reconnect. */
export const MAX_JSON_PROTOCOL_VERSION = 2;

/** The MessagePack hub protocol's name in a handshake request (its framing lives in `messagepack.ts`). */
export const MESSAGEPACK_PROTOCOL_NAME = 'messagepack';

/** The hub protocols a connection may speak: both that Azure SignalR offers. */
export type HubProtocolName = typeof JSON_PROTOCOL_NAME | typeof MESSAGEPACK_PROTOCOL_NAME;
export const HUB_PROTOCOL_NAMES: readonly HubProtocolName[] = [JSON_PROTOCOL_NAME, MESSAGEPACK_PROTOCOL_NAME];

/** Whether `value` names a supported hub protocol (exactly, as handshakes spell them). */
export function isHubProtocolName(value: unknown): value is HubProtocolName {
  return value === JSON_PROTOCOL_NAME || value === MESSAGEPACK_PROTOCOL_NAME;
}

/** Message types of the hub protocol (the numbers on the wire). */
export const HubMessageType = {
  Invocation: 1,
  StreamItem: 2,
  Completion: 3,
  StreamInvocation: 4,
  CancelInvocation: 5,
  Ping: 6,
  Close: 7,
  Ack: 8,
  Sequence: 9,
} as const;

/** A call of `target` with `arguments`; with an `invocationId` the caller expects a {@link CompletionMessage}. */
export interface InvocationMessage {
  readonly type: typeof HubMessageType.Invocation;
  readonly target: string;
  readonly arguments: readonly unknown[];
  readonly invocationId?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly streamIds?: readonly string[];
}

/** The answer to an invocation: `result` on success, `error` on failure (never both). */
export interface CompletionMessage {
  readonly type: typeof HubMessageType.Completion;
  readonly invocationId: string;
  readonly result?: unknown;
  readonly error?: string;
}

/** A keep-alive. */
export interface PingMessage {
  readonly type: typeof HubMessageType.Ping;
}

/** The end of the connection, with the reason when it was not a normal close. */
export interface CloseMessage {
  readonly type: typeof HubMessageType.Close;
  readonly error?: string;
  readonly allowReconnect?: boolean;
}

/** A well-formed message of a type this project does not act on (streaming, acks, sequences). */
export interface OtherHubMessage {
  readonly type:
    | typeof HubMessageType.StreamItem
    | typeof HubMessageType.StreamInvocation
    | typeof HubMessageType.CancelInvocation
    | typeof HubMessageType.Ack
    | typeof HubMessageType.Sequence;
  readonly invocationId?: string;
  readonly [field: string]: unknown;
}

export type HubMessage = InvocationMessage | CompletionMessage | PingMessage | CloseMessage | OtherHubMessage;

/** A handshake request as the client sent it. */
export interface HandshakeRequest {
  readonly protocol: HubProtocolName;
  readonly version: number;
}

/** The hub protocol codes of {@link SIGNALR_ERRORS}. */
export type HubProtocolErrorCode = Extract<
  SignalRErrorCode,
  'incomplete' | 'invalid-json' | 'invalid-message' | 'invalid-handshake' | 'unsupported-protocol'
>;

/** Malformed or unsupported input; `message` says what was wrong and is safe to send back to the peer. */
export class HubProtocolError extends SignalRError<HubProtocolErrorCode> {
  override readonly name = 'HubProtocolError';
  constructor(
    code: HubProtocolErrorCode,
    message: string,
    /** What to fix, when `message` is a fixed text of the protocol's own (ASP.NET Core's handshake errors). */
    readonly hint?: string,
  ) {
    super(code, message);
  }
}

/** ASP.NET Core's handshake answer when the handshake did not arrive in time or was too large. */
export const HANDSHAKE_CANCELED = 'Handshake was canceled.';

const protocol = new JsonHubProtocol();

/** The result of parsing a handshake request: the request and any records that followed it in the same frame. */
export interface ParsedHandshakeRequest {
  readonly request: HandshakeRequest;
  /** Text after the handshake record (further messages), possibly empty. */
  readonly rest: string;
}

/**
 * Parses the client's handshake request, the first record of a connection (JSON + `\x1e` whatever the hub
 * protocol; a MessagePack client sends it in a binary frame). Throws {@link HubProtocolError}
 * when it is incomplete or not JSON (`incomplete`, `invalid-json`, `invalid-handshake`), or names another
 * protocol or version (`unsupported-protocol`, whose message says what the service speaks instead).
 */
export function parseHandshakeRequest(text: string): ParsedHandshakeRequest {
  const end = text.indexOf(RECORD_SEPARATOR);
  if (end < 0) throw new HubProtocolError('incomplete', 'The handshake request is not terminated by \\x1e');
  // The answers' words are ASP.NET Core's (HubConnectionContext.HandshakeAsync); the hints say what to fix.
  let value: unknown;
  try {
    value = JSON.parse(text.slice(0, end));
  } catch {
    value = undefined;
  }
  if (!isRecord(value) || typeof value.protocol !== 'string' || typeof value.version !== 'number') {
    throw new HubProtocolError(
      value === undefined ? 'invalid-json' : 'invalid-handshake',
      'An unexpected error occurred during connection handshake.',
      'The handshake request must be {"protocol":"json","version":1} followed by \\x1e',
    );
  }
  if (!isHubProtocolName(value.protocol)) {
    throw new HubProtocolError(
      'unsupported-protocol',
      `The protocol '${value.protocol}' is not supported.`,
      `The protocol '${value.protocol}' is not supported: this service speaks the "json" and "messagepack" hub protocols`,
    );
  }
  if (value.version !== JSON_PROTOCOL_VERSION && value.version !== MAX_JSON_PROTOCOL_VERSION) {
    throw new HubProtocolError(
      'unsupported-protocol',
      `The server does not support version ${value.version} of the '${value.protocol}' protocol.`,
      `The ${value.protocol} hub protocol version ${value.version} is not supported: use version ${JSON_PROTOCOL_VERSION} (${MAX_JSON_PROTOCOL_VERSION} with stateful reconnect)`,
    );
  }
  return {
    request: { protocol: value.protocol, version: value.version },
    rest: text.slice(end + 1),
  };
}

/** Writes the handshake request a client sends. */
export function writeHandshakeRequest(
  request: { readonly protocol: string; readonly version: number } = {
    protocol: JSON_PROTOCOL_NAME,
    version: JSON_PROTOCOL_VERSION,
  },
): string {
  return `${JSON.stringify({ protocol: request.protocol, version: request.version })}${RECORD_SEPARATOR}`;
}

/** Writes the server's handshake response: `{}\x1e` on success, `{"error":"…"}\x1e` on failure. */
export function writeHandshakeResponse(error?: string): string {
  return `${JSON.stringify(error === undefined ? {} : { error })}${RECORD_SEPARATOR}`;
}

/** The parsed handshake response: the error when the server refused, and any records after it. */
export interface ParsedHandshakeResponse {
  readonly error?: string;
  readonly rest: string;
}

/** Parses the server's handshake response (what a client reads first). */
export function parseHandshakeResponse(text: string): ParsedHandshakeResponse {
  const end = text.indexOf(RECORD_SEPARATOR);
  if (end < 0) throw new HubProtocolError('incomplete', 'The handshake response is not terminated by \\x1e');
  const value = parseJson(text.slice(0, end), 'handshake response');
  if (!isRecord(value) || 'type' in value) {
    throw new HubProtocolError('invalid-handshake', 'Expected a handshake response object');
  }
  if (value.error !== undefined && typeof value.error !== 'string') {
    throw new HubProtocolError('invalid-handshake', 'The handshake response error must be a string');
  }
  const rest = text.slice(end + 1);
  return typeof value.error === 'string' ? { error: value.error, rest } : { rest };
}

/**
 * Parses one or more complete records (a text frame). Unknown message types are skipped, as the protocol
 * requires for forward compatibility. Throws {@link HubProtocolError} on anything malformed.
 */
export function parseHubMessages(text: string): HubMessage[] {
  if (text.length > 0 && !text.endsWith(RECORD_SEPARATOR)) {
    throw new HubProtocolError('incomplete', 'The message is not terminated by \\x1e');
  }
  let parsed: LibraryHubMessage[];
  try {
    parsed = protocol.parseMessages(text, NullLogger.instance);
  } catch (error) {
    // JsonHubProtocol throws SyntaxError for bad JSON, TypeError for `null`, and Error for invalid payloads.
    if (error instanceof SyntaxError) {
      throw new HubProtocolError('invalid-json', 'A hub protocol record is not valid JSON');
    }
    throw new HubProtocolError('invalid-message', `Invalid hub protocol message: ${messageOf(error)}`);
  }
  return parsed.map(checkMessage);
}

/** Writes one message as a record (JSON + `\x1e`). */
export function writeHubMessage(message: HubMessage): string {
  const written = protocol.writeMessage(message as unknown as LibraryHubMessage);
  // JsonHubProtocol always writes text; the check keeps our return type honest.
  if (typeof written !== 'string') throw new TypeError('JsonHubProtocol wrote binary output');
  return written;
}

// JsonHubProtocol validates targets and ids but not the shape of `arguments`; the upstream needs an array.
function checkMessage(message: LibraryHubMessage): HubMessage {
  const value = message as unknown as Record<string, unknown>;
  if (!isRecord(value)) throw new HubProtocolError('invalid-message', 'A hub message must be a JSON object');
  if (value.type === HubMessageType.Invocation && !Array.isArray(value.arguments)) {
    throw new HubProtocolError('invalid-message', 'An Invocation message must carry an "arguments" array');
  }
  if (value.type === HubMessageType.Close && value.error !== undefined && typeof value.error !== 'string') {
    throw new HubProtocolError('invalid-message', 'A Close message error must be a string');
  }
  return value as unknown as HubMessage;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HubProtocolError('invalid-json', `The ${what} is not valid JSON`);
  }
}
