/**
 * The page's outbox (static/link/outbox.js), run in Node with a hand-driven clock: it is a plain ES module, the same
 * one the page and the fault test's clients use.
 */
import { describe, expect, it } from 'vitest';

interface Entry {
  clientMessageId: string;
  conversation: string;
  payload: Record<string, unknown>;
  status: string;
  attempts: number;
  error: string | null;
}
interface Outbox {
  add(conversation: string, payload: object): Entry;
  acknowledge(clientMessageId: string, message: unknown): boolean;
  refuse(clientMessageId: string, error: object): void;
  retry(clientMessageId: string): void;
  discard(clientMessageId: string): void;
  setConnected(up: boolean): void;
  pending(): Entry[];
  stop(): void;
}
const outboxModule: {
  createOutbox(options: object): Outbox;
  resendDelay(attempt: number, options?: object): number;
  MAX_UNANSWERED_SENDS: number;
} = await import(new URL('../../static/link/outbox.js', import.meta.url).href);

/** A clock and timers the test moves by hand. */
function manualTimers() {
  let now = 0;
  let next = 1;
  const due = new Map<number, { at: number; fn: () => void }>();
  return {
    setTimeout: (fn: () => void, ms: number) => {
      const id = next++;
      due.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (id: number) => void due.delete(id),
    /** Moves the clock on, firing what falls due in order. */
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const [id, first] = [...due.entries()].sort((a, b) => a[1].at - b[1].at)[0] ?? [];
        if (id === undefined || !first || first.at > until) break;
        due.delete(id);
        now = first.at;
        first.fn();
      }
      now = until;
    },
  };
}

function setup(options: { up?: boolean; failSend?: () => boolean } = {}) {
  const timers = manualTimers();
  const sent: Record<string, unknown>[] = [];
  let n = 0;
  const outbox = outboxModule.createOutbox({
    send: (_command: string, payload: Record<string, unknown>) => {
      if (options.failSend?.()) throw new Error('Not connected.');
      sent.push(payload);
    },
    newId: () => `c-${++n}`,
    random: () => 0.5, // no jitter: delays are exactly base × 2^(attempt-1)
    baseMs: 1000,
    maxMs: 8000,
    timers,
  });
  if (options.up !== false) outbox.setConnected(true);
  const ids = () => sent.map((p) => p.clientMessageId);
  return { outbox, timers, sent, ids };
}

describe('outbox', () => {
  it('waits for the backoff with exponential, capped delays', () => {
    const delays = [1, 2, 3, 4, 5].map((a) =>
      outboxModule.resendDelay(a, { baseMs: 1000, maxMs: 8000, random: () => 0.5 }),
    );
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
  });

  it('keeps one message in flight per conversation and sends the next when the first is acknowledged', () => {
    const { outbox, ids } = setup();
    outbox.add('room', { text: 'one' });
    outbox.add('room', { text: 'two' });
    outbox.add('group:team', { text: 'three', group: 'team' });
    expect(ids()).toEqual(['c-1', 'c-3']);
    expect(outbox.acknowledge('c-1', { id: 'm1' })).toBe(true);
    expect(ids()).toEqual(['c-1', 'c-3', 'c-2']);
    // A second acknowledgement of the same message is no news.
    expect(outbox.acknowledge('c-1', { id: 'm1' })).toBe(false);
  });

  it('queues a message kept from an earlier page with its own clientMessageId, once however often it is given', () => {
    const { outbox, ids } = setup();
    outbox.add('room', { text: 'kept', clientMessageId: 'kept-1' });
    outbox.add('room', { text: 'kept', clientMessageId: 'kept-1' });
    outbox.add('room', { text: 'new' });
    expect(outbox.pending().map((e) => e.clientMessageId)).toEqual(['kept-1', 'c-1']);
    expect(ids()).toEqual(['kept-1']);
    outbox.acknowledge('kept-1', { id: 'm1' });
    expect(ids()).toEqual(['kept-1', 'c-1']);
  });

  it('resends an unanswered message with the same clientMessageId, then marks it failed and holds the rest', () => {
    const { outbox, timers, sent, ids } = setup();
    outbox.add('room', { text: 'one' });
    outbox.add('room', { text: 'two' });
    timers.advance(1000);
    timers.advance(2000);
    expect(ids()).toEqual(['c-1', 'c-1', 'c-1']);
    expect(sent.every((p) => p.text === 'one')).toBe(true);
    timers.advance(60_000);
    const [first, second] = outbox.pending();
    expect(first).toMatchObject({
      clientMessageId: 'c-1',
      status: 'failed',
      error: 'No answer from the server',
    });
    expect(sent).toHaveLength(outboxModule.MAX_UNANSWERED_SENDS);
    // The first may yet be stored, so the second waits behind it until it is retried.
    expect(second).toMatchObject({ clientMessageId: 'c-2', status: 'sending', attempts: 0 });
    outbox.retry('c-1');
    expect(ids().at(-1)).toBe('c-1');
    outbox.acknowledge('c-1', {});
    expect(ids().at(-1)).toBe('c-2');
  });

  it('retries a transient refusal and moves on past a permanent one', () => {
    const { outbox, timers, ids } = setup();
    outbox.add('room', { text: 'one' });
    outbox.add('room', { text: 'two' });
    outbox.refuse('c-1', { code: 'storage-unavailable', message: 'not stored' });
    expect(outbox.pending()[0]).toMatchObject({ status: 'sending', error: 'not stored' });
    timers.advance(999);
    expect(ids()).toEqual(['c-1']);
    timers.advance(1);
    expect(ids()).toEqual(['c-1', 'c-1']);
    // rate-limited: the server's wait wins when it is longer than the backoff.
    outbox.refuse('c-1', { code: 'rate-limited', retryAfterMs: 5000 });
    timers.advance(4999);
    expect(ids()).toEqual(['c-1', 'c-1']);
    timers.advance(1);
    expect(ids()).toEqual(['c-1', 'c-1', 'c-1']);
    outbox.refuse('c-1', { code: 'not-a-member', message: 'Join the group first' });
    expect(outbox.pending()[0]).toMatchObject({ status: 'failed', error: 'Join the group first' });
    expect(ids().at(-1)).toBe('c-2');
    outbox.discard('c-1');
    expect(outbox.pending().map((e) => e.clientMessageId)).toEqual(['c-2']);
  });

  it('sends nothing while the link is down, and every waiting head at once when it is back', () => {
    let down = true;
    const { outbox, timers, ids } = setup({ up: false, failSend: () => down });
    outbox.add('room', { text: 'one' });
    outbox.add('dm:ann:bob', { text: 'two', to: 'bob' });
    timers.advance(60_000);
    expect(ids()).toEqual([]);
    // A link that says it is up but fails the send: the try does not count, and nothing is resent until it is back.
    outbox.setConnected(true);
    timers.advance(60_000);
    expect(outbox.pending().map((e) => [e.status, e.attempts])).toEqual([
      ['sending', 0],
      ['sending', 0],
    ]);
    down = false;
    outbox.setConnected(true);
    expect(ids()).toEqual(['c-1', 'c-2']);
  });
});
