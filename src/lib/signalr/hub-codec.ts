/**
 * One interface over both hub protocols, for code that writes messages in whatever protocol a connection
 * chose: the local service (Completions, Pings, Close, REST messages) and the app (the Completion that
 * answers an invocation, which Azure forwards to the client as it is).
 * See docs/architecture.md, "Two services".
 */
import {
  type CompletionMessage,
  type HubMessage,
  HubMessageType,
  type HubProtocolName,
  JSON_PROTOCOL_NAME,
  MESSAGEPACK_PROTOCOL_NAME,
  writeHubMessage,
} from './hub-protocol.js';
import { MESSAGEPACK_CONTENT_TYPE, writeMessagePackMessage } from './messagepack.js';

/** How one hub protocol frames messages. */
export interface HubCodec {
  readonly name: HubProtocolName;
  /** The transfer format: binary (WebSocket binary frames) for MessagePack, text for JSON. */
  readonly binary: boolean;
  /** The `Content-Type` of an invocation's upstream body for a connection of this protocol. */
  readonly upstreamContentType: string;
  /** Writes one message framed as the connection carries it (JSON + `\x1e`; length prefix + MessagePack). */
  write(message: HubMessage): Buffer;
}

const jsonCodec: HubCodec = {
  name: JSON_PROTOCOL_NAME,
  binary: false,
  upstreamContentType: 'application/json',
  write: (message) => Buffer.from(writeHubMessage(message), 'utf8'),
};

const messagePackCodec: HubCodec = {
  name: MESSAGEPACK_PROTOCOL_NAME,
  binary: true,
  upstreamContentType: MESSAGEPACK_CONTENT_TYPE,
  write: (message) => {
    const bytes = writeMessagePackMessage(message);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  },
};

/** The codec of each hub protocol. */
export const HUB_CODECS: Readonly<Record<HubProtocolName, HubCodec>> = {
  json: jsonCodec,
  messagepack: messagePackCodec,
};

/**
 * The framed Completion that answers an invocation, in the caller's protocol: with `error` when it failed,
 * else with `result` (none when `result` is undefined). What the Functions SignalR extension answers with.
 */
export function writeCompletion(
  protocol: HubProtocolName,
  invocationId: string,
  outcome: { readonly result?: unknown } | { readonly error: string },
): Buffer {
  const completion: CompletionMessage =
    'error' in outcome
      ? { type: HubMessageType.Completion, invocationId, error: outcome.error }
      : outcome.result === undefined
        ? { type: HubMessageType.Completion, invocationId }
        : { type: HubMessageType.Completion, invocationId, result: outcome.result };
  return HUB_CODECS[protocol].write(completion);
}
