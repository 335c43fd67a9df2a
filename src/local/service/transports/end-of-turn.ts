/**
 * One flush per event-loop turn for every connection that sent something during it (docs/local-service.md,
 * "Transports").
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
