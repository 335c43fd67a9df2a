/**
 * The load generator's read-state runs of the cost scenario: read-marker updates (client 0 marks the room
 * read up to each message the cost sends stored, one after another, then waits out the server's write
 * interval so the coalesced Blob write is counted) and typing events (clients 1…n each type once in the room).
 */
import type { BenchMessage } from '../processes.js';
import { sentIds } from './chat-runs.js';
import { eventOf, room, sleep } from './room.js';

export interface CostMarksRequest extends BenchMessage {
  /** Marks to send (at most the messages the last cost sends stored). */
  count: number;
  /** How long to wait after the last mark: the server's write interval and some, so its one write is counted. */
  settleMs: number;
  quietMs: number;
}

/** Client 0 marks the room read up to each stored message in turn, each once its `read` came back. */
export async function costMarks(request: CostMarksRequest): Promise<BenchMessage> {
  let reads = 0;
  let lastEvent = Date.now();
  room.listen((client, message) => {
    lastEvent = Date.now();
    if (client === 0 && eventOf(message) === 'read') reads += 1;
  });
  const ids = sentIds.slice(-request.count);
  for (const messageId of ids) {
    const before = reads;
    room.connections[0]?.command('markRead', { conversation: 'room', messageId });
    const deadline = Date.now() + 5_000;
    while (reads === before && Date.now() < deadline) await sleep(2);
  }
  await sleep(request.settleMs);
  while (Date.now() - lastEvent < request.quietMs) await sleep(20);
  room.stop();
  return { type: 'marked', sent: ids.length, reads };
}

export interface CostTypingRequest extends BenchMessage {
  /** Clients that type once each (1…count, so no throttle interval is shared). */
  count: number;
  quietMs: number;
}

/** Clients 1…count each send one `typing` to the room; counts the `typing` events everyone received. */
export async function costTyping(request: CostTypingRequest): Promise<BenchMessage> {
  let receipts = 0;
  let lastEvent = Date.now();
  room.listen((_client, message) => {
    lastEvent = Date.now();
    if (eventOf(message) === 'typing') receipts += 1;
  });
  const typists = room.connections.slice(1, 1 + request.count);
  for (const connection of typists) connection.command('typing', { conversation: 'room' });
  await sleep(request.quietMs);
  while (Date.now() - lastEvent < request.quietMs) await sleep(20);
  room.stop();
  return { type: 'typed', sent: typists.length, receipts };
}
