/**
 * Bench payloads carry their own sequence number and send time (machine-wide monotonic microseconds) in a
 * fixed prefix, `"<seq> <micros> "`, padded to the requested size. Receivers read the prefix without
 * parsing the whole message, so a thousand receivers in one process stay cheap.
 */
import { monotonicMicros } from './stats.js';

/** A payload of exactly `bytes` ASCII characters (at least the prefix). */
export function makePayload(seq: number, bytes: number): string {
  const prefix = `${seq} ${monotonicMicros()} `;
  return prefix + 'x'.repeat(Math.max(0, bytes - prefix.length));
}

/** The sequence number and send time of a bench payload, or undefined for anything else. */
export function readPayload(text: string): { seq: number; sentMicros: number } | undefined {
  const [seqText, sentText] = text.slice(0, 40).split(' ', 2);
  const seq = Number(seqText);
  const sentMicros = Number(sentText);
  if (!Number.isInteger(seq) || !Number.isFinite(sentMicros) || seqText === '' || sentText === undefined)
    return undefined;
  return { seq, sentMicros };
}
