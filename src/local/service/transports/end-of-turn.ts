/**
 * One flush per event-loop turn for every connection that sent something during it. A REST broadcast reaches
 * many connections, and a burst of them reaches each connection several times in one turn; writing each
 * message as it comes costs one socket write (one `writev` system call) per recipient per message. Transports
 * instead hold what they send in a turn (or cork their socket) and are flushed here, all of them by one
 * `setImmediate`: it runs after the I/O callbacks of the turn (every REST request read in it), and before the
 * loop waits for more I/O, so it delays nothing by more than the turn itself.
 */

/** A transport with writes held for the end of the turn. */
export interface TurnFlushable {
  /** Writes out what was held. Must not throw: a failure costs its own connection only. */
  flushTurn(): void;
}

let dirty: TurnFlushable[] = [];
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  const flushing = dirty;
  dirty = [];
  for (const transport of flushing) transport.flushTurn();
}

/**
 * Flushes `transport` at the end of this turn. The caller registers once per turn (it keeps a flag of its
 * own), so a transport is never listed twice.
 */
export function flushAtEndOfTurn(transport: TurnFlushable): void {
  dirty.push(transport);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}
