/**
 * The MessagePack hub protocol (`"messagepack"`, binary transfer format): each message is a MessagePack
 * array, framed on the connection by a varint length prefix (7 bits a byte, least significant first, at most
 * 5 bytes; dotnet/aspnetcore `src/SignalR/docs/specs/HubProtocol.md`, "Binary encoding").
 *
 * Encoding and decoding are `@microsoft/signalr-protocol-msgpack`'s `MessagePackHubProtocol` (the
 * implementation the official clients use); this module only adds the length prefix handling Azure needs on
 * the upstream side, where an invocation travels as the array alone, without its prefix
 * (`Content-Type: application/x-msgpack`), checks what each message declares before the package decodes it
 * (messagepack-bounds.ts), and turns every failure into a {@link HubProtocolError}.
 */

import { type HubMessage as LibraryHubMessage, NullLogger } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { encode } from '@msgpack/msgpack';
import { messageOf } from '../error-message.js';
import {
  type HubMessage,
  HubMessageType,
  HubProtocolError,
  MESSAGEPACK_PROTOCOL_NAME,
} from './hub-protocol.js';
import { checkMessagePackBounds, DEFAULT_MAX_MESSAGEPACK_DEPTH } from './messagepack-bounds.js';

export { DEFAULT_MAX_MESSAGEPACK_DEPTH, MESSAGEPACK_PROTOCOL_NAME };

/** Options of {@link parseMessagePackMessages}. */
export interface MessagePackReadOptions {
  /**
   * How deep arrays and maps may nest within one argument, result or stream item; deeper messages are refused.
   * Default {@link DEFAULT_MAX_MESSAGEPACK_DEPTH}.
   */
  readonly maxDepth?: number;
}

/** The media type of a MessagePack upstream body (an invocation array without length prefix). */
export const MESSAGEPACK_CONTENT_TYPE = 'application/x-msgpack';

/** The largest length a prefix may carry: the format's 5 bytes hold at most 2^31 - 1 (a .NET int). */
const MAX_PREFIXED_LENGTH = 0x7fffffff;

const protocol = new MessagePackHubProtocol();

/** Writes one message, framed with its length prefix, as the connection carries it. */
export function writeMessagePackMessage(message: HubMessage): Uint8Array {
  if (message.type === HubMessageType.Close) {
    // MessagePackHubProtocol is a client's writer: its Close is always `[7, nil]`, as clients send it. A
    // server's Close carries its error and allowReconnect (`[7, error|nil, allowReconnect]`, HubProtocol.md),
    // so it is encoded with the MessagePack library the protocol package itself uses.
    return withLengthPrefix(
      encode([HubMessageType.Close, message.error ?? null, message.allowReconnect === true]),
    );
  }
  const written: ArrayBuffer | string = protocol.writeMessage(message as unknown as LibraryHubMessage);
  if (typeof written === 'string') throw new TypeError('MessagePackHubProtocol wrote text output');
  return new Uint8Array(written);
}

/**
 * Parses one or more complete framed messages. Unknown message types are skipped, as the protocol requires.
 * Throws {@link HubProtocolError} on anything malformed (a truncated frame, bad MessagePack, a message that
 * declares more than it holds or nests too deep, a message whose fields have the wrong types).
 */
export function parseMessagePackMessages(
  bytes: Uint8Array,
  options: MessagePackReadOptions = {},
): HubMessage[] {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_MESSAGEPACK_DEPTH;
  // Each complete message is checked before any is decoded; a cut-off one at the end is refused by the package
  // as incomplete before it decodes anything.
  for (const frame of splitFrames(bytes).frames) checkMessagePackBounds(withoutLengthPrefix(frame), maxDepth);
  let parsed: LibraryHubMessage[];
  try {
    // The library wants an ArrayBuffer of exactly the input. (A Buffer's slice() is a view into a shared
    // pool, so the copy is made with the Uint8Array constructor.)
    const copy = new Uint8Array(bytes).buffer;
    parsed = protocol.parseMessages(copy, NullLogger.instance);
  } catch (error) {
    const reason = messageOf(error);
    if (/incomplete/i.test(reason))
      throw new HubProtocolError('incomplete', `Incomplete MessagePack frame: ${reason}`);
    throw new HubProtocolError('invalid-message', `Invalid MessagePack hub message: ${reason}`);
  }
  return parsed.map(checkMessage);
}

/** The result of {@link splitFrames}: the complete framed messages at the front, and the bytes after them. */
export interface SplitFrames {
  /** Each complete message with its prefix, in order. */
  readonly frames: Uint8Array[];
  /** The start of an incomplete message (possibly empty). */
  readonly rest: Uint8Array;
}

/**
 * Splits a byte stream at message boundaries: a message may span several transport frames and a frame may
 * hold several messages. Throws {@link HubProtocolError} when a prefix is longer than 5 bytes or announces
 * more than 2^31 - 1 bytes.
 */
export function splitFrames(bytes: Uint8Array): SplitFrames {
  const frames: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const prefix = readLengthPrefix(bytes, offset);
    if (prefix === undefined) break;
    const end = offset + prefix.bytes + prefix.length;
    if (end > bytes.length) break;
    frames.push(bytes.subarray(offset, end));
    offset = end;
  }
  return { frames, rest: bytes.subarray(offset) };
}

/**
 * How many bytes the next message will need in all, once its prefix is known: lets a reader refuse an
 * oversized message as soon as its prefix arrives. Undefined while the prefix itself is incomplete.
 */
export function announcedFrameLength(bytes: Uint8Array): number | undefined {
  const prefix = readLengthPrefix(bytes, 0);
  return prefix === undefined ? undefined : prefix.bytes + prefix.length;
}

/** A framed message without its length prefix: the MessagePack array alone (what Azure sends upstream). */
export function withoutLengthPrefix(frame: Uint8Array): Uint8Array {
  const prefix = readLengthPrefix(frame, 0);
  if (prefix === undefined || prefix.bytes + prefix.length !== frame.length) {
    throw new HubProtocolError('incomplete', 'Not exactly one length-prefixed MessagePack message');
  }
  return frame.subarray(prefix.bytes);
}

/** A MessagePack array framed with its length prefix (the inverse of {@link withoutLengthPrefix}). */
export function withLengthPrefix(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_PREFIXED_LENGTH) {
    throw new HubProtocolError('invalid-message', 'A MessagePack message is larger than 2^31 - 1 bytes');
  }
  const prefix: number[] = [];
  let length = payload.length;
  do {
    let byte = length & 0x7f;
    length >>>= 7;
    if (length > 0) byte |= 0x80;
    prefix.push(byte);
  } while (length > 0);
  const framed = new Uint8Array(prefix.length + payload.length);
  framed.set(prefix, 0);
  framed.set(payload, prefix.length);
  return framed;
}

/** Reads the varint at `offset`: the message length and how many bytes the prefix took; undefined if cut off. */
function readLengthPrefix(bytes: Uint8Array, offset: number): { length: number; bytes: number } | undefined {
  let length = 0;
  for (let i = 0; i < 5; i++) {
    if (offset + i >= bytes.length) return undefined;
    const byte = bytes[offset + i]!;
    length += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (length > MAX_PREFIXED_LENGTH) {
        throw new HubProtocolError('invalid-message', 'A MessagePack length prefix exceeds 2^31 - 1 bytes');
      }
      return { length, bytes: i + 1 };
    }
  }
  throw new HubProtocolError('invalid-message', 'A MessagePack length prefix is longer than 5 bytes');
}

// MessagePackHubProtocol checks the array lengths but not the types of the fields the service relies on.
function checkMessage(message: LibraryHubMessage): HubMessage {
  const value = message as unknown as Record<string, unknown>;
  if (value.type === HubMessageType.Invocation) {
    if (typeof value.target !== 'string' || value.target === '') {
      throw new HubProtocolError('invalid-message', 'An Invocation message needs a string target');
    }
    if (!Array.isArray(value.arguments)) {
      throw new HubProtocolError('invalid-message', 'An Invocation message must carry an arguments array');
    }
    if (value.invocationId !== undefined && typeof value.invocationId !== 'string') {
      throw new HubProtocolError('invalid-message', 'An Invocation message id must be a string');
    }
  }
  if (value.type === HubMessageType.Close && value.error != null && typeof value.error !== 'string') {
    throw new HubProtocolError('invalid-message', 'A Close message error must be a string');
  }
  return value as unknown as HubMessage;
}
