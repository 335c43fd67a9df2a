/**
 * Azure SignalR's billing arithmetic, as Microsoft's "How messages are counted for billing" states it
 * (https://learn.microsoft.com/azure/azure-signalr/signalr-concept-messages-and-connections): only messages
 * going out of the service count, Ping messages do not, and a message larger than 2 KB counts as several
 * messages of 2 KB, so a message of b bytes is ceil(b / 2048) units for each recipient.
 */

/** The size in bytes of one billed message. */
export const BILLING_UNIT_BYTES = 2048;

/** Billed units of one message of `bytes` bytes to one recipient. */
export function billedUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / BILLING_UNIT_BYTES));
}

const RECORD_SEPARATOR = 0x1e;
const PING = '{"type":6}';

/**
 * The sizes of the billed messages in one frame a client received: a raw frame (or a binary one) is one
 * message; a JSON hub-protocol frame holds records each ended by the record separator (counted with it),
 * of which Pings are not billed.
 */
export function billedMessages(data: Buffer, isBinary: boolean, dialect: 'raw' | 'signalr'): number[] {
  if (dialect === 'raw' || isBinary) return [data.length];
  const sizes: number[] = [];
  let start = 0;
  for (let end = data.indexOf(RECORD_SEPARATOR); end >= 0; end = data.indexOf(RECORD_SEPARATOR, start)) {
    const isPing =
      end - start <= PING.length + 4 && data.subarray(start, end).toString().replace(/\s/g, '') === PING;
    if (!isPing) sizes.push(end - start + 1);
    start = end + 1;
  }
  return sizes;
}

/** log(c₂ / c₁) / log(N₂ / N₁): 1 is linear in N. Null when a cost is not positive or N₂ ≤ N₁. */
export function growthExponent(n1: number, c1: number, n2: number, c2: number): number | null {
  if (c1 <= 0 || c2 <= 0 || n1 <= 0 || n2 <= n1) return null;
  return Math.log(c2 / c1) / Math.log(n2 / n1);
}
