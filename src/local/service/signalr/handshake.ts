/**
 * The first record of a SignalR connection: the handshake request, read and checked as ASP.NET Core's
 * HubConnectionContext.HandshakeAsync does, with its answers' words (docs/local-service.md, "The SignalR wing").
 */
import { HUB_CODECS, type HubCodec } from '../../../lib/signalr/hub-codec.js';
import {
  HANDSHAKE_CANCELED,
  HubProtocolError,
  parseHandshakeRequest,
  RECORD_SEPARATOR,
} from '../../../lib/signalr/hub-protocol.js';
import { type RecordReader, RecordTooLargeError } from './record-reader.js';

/** Where reading the handshake stands after a frame. */
export type HandshakeStep =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'done'; readonly codec: HubCodec; readonly version: number; readonly rest: Buffer }
  /** `answer` is the handshake response's error (ASP.NET Core's text), `reason` what to fix. */
  | { readonly kind: 'refused'; readonly answer: string; readonly reason: string };

/** Reads handshake bytes (they may span frames, and further records may follow in the same frame). */
export function readHandshake(
  records: RecordReader,
  data: Buffer,
  transportKind: string | undefined,
  maxMessageBytes: number,
): HandshakeStep {
  let first: { record: Buffer; rest: Buffer } | undefined;
  try {
    first = records.pushFirst(data);
  } catch (error) {
    if (!(error instanceof RecordTooLargeError)) throw error;
    const reason = `The handshake is larger than ${maxMessageBytes} bytes (maxMessageBytes)`;
    return { kind: 'refused', answer: HANDSHAKE_CANCELED, reason };
  }
  if (first === undefined) return { kind: 'incomplete' };
  try {
    // The handshake is JSON text whatever the protocol; a MessagePack client sends it in a binary frame.
    const { request } = parseHandshakeRequest(`${first.record.toString('utf8')}${RECORD_SEPARATOR}`);
    const codec = HUB_CODECS[request.protocol];
    if (codec.binary && transportKind === 'ServerSentEvents') {
      // ASP.NET Core's words: Server-Sent Events carry text only.
      const text = `Cannot use the '${codec.name}' protocol on the current transport. The transport does not support 'Binary' transfer format.`;
      return { kind: 'refused', answer: text, reason: text };
    }
    return { kind: 'done', codec, version: request.version, rest: first.rest };
  } catch (error) {
    if (!(error instanceof HubProtocolError)) throw error;
    return { kind: 'refused', answer: error.message, reason: error.hint ?? error.message };
  }
}
