/**
 * WebSocket frames written once for every recipient of a message. A server's frames are not masked (RFC 6455,
 * 5.1), so a message that many connections receive has the same bytes on every one of them: its header and
 * payload are put together once, and each connection writes that one buffer (docs/local-service.md,
 * "Transports").
 */

/** Payloads that a wing sends to many connections as they are (see {@link markShared}). */
const shared = new WeakSet<Buffer>();
/** The whole frame of a shared payload, by kind (text, binary), written on first use. */
const framed = new WeakMap<Buffer, { text?: Buffer; binary?: Buffer }>();

/**
 * Marks `payload` as one that many connections receive unchanged (a wing's shared frame): a WebSocket
 * transport then writes its whole frame, put together once. The payload must not change afterwards.
 */
export function markShared(payload: Buffer): Buffer {
  shared.add(payload);
  return payload;
}

/** The whole WebSocket frame of a shared payload; undefined for a payload not marked. */
export function sharedFrame(payload: Buffer, binary: boolean): Buffer | undefined {
  if (!shared.has(payload)) return undefined;
  let frames = framed.get(payload);
  if (frames === undefined) {
    frames = {};
    framed.set(payload, frames);
  }
  const kind = binary ? 'binary' : 'text';
  let frame = frames[kind];
  if (frame === undefined) {
    frame = unmaskedFrame(payload, binary);
    frames[kind] = frame;
  }
  return frame;
}

/** The bytes of the header of an unmasked frame with a payload of `length` bytes (RFC 6455, 5.2). */
export function frameHeaderBytes(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

/**
 * Writes the header of a final, unmasked, uncompressed frame at the start of `frame` (FIN and the opcode, the
 * payload length), which holds {@link frameHeaderBytes} and `length` bytes of payload after them.
 */
export function writeFrameHeader(frame: Buffer, length: number, binary: boolean): void {
  const header = frameHeaderBytes(length);
  frame[0] = binary ? 0x82 : 0x81;
  if (header === 2) {
    frame[1] = length;
  } else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
}

/** A final, unmasked, uncompressed frame: FIN and the opcode, the payload length, the payload. */
export function unmaskedFrame(payload: Buffer, binary: boolean): Buffer {
  const length = payload.length;
  const header = frameHeaderBytes(length);
  const frame = Buffer.allocUnsafe(header + length);
  writeFrameHeader(frame, length, binary);
  payload.copy(frame, header);
  return frame;
}

/**
 * A frame a wing put together in parts, for a transport that writes whole WebSocket frames as they are: `parts`
 * one after the other are the frame, header first (parts may be shared with other frames, such as the
 * message every recipient gets, while one part is the connection's own). `length` is the payload's size.
 */
export class FrameParts {
  constructor(
    readonly parts: readonly Buffer[],
    readonly length: number,
  ) {}

  /** The payload alone, for a transport that frames messages itself. */
  payload(): Buffer {
    const whole = Buffer.concat(this.parts);
    return whole.subarray(whole.length - this.length);
  }
}
