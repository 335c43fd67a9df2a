/**
 * The group commit of `SegmentAppender` against a scripted container, where each Append Block answers only when
 * the test says so: what goes out when, and what state stays behind. The behaviour against real storage
 * (faults, rollover, dedupe) is in test/integration/history-group-commit.test.ts.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { SegmentAppender } from '../../src/lib/history/append.js';
import { type ChatMessage, newMessageId } from '../../src/lib/history/message.js';

interface Call {
  blob: string;
  lines: string[];
  answer(blocks?: number): void;
  fail(error: unknown): void;
}

/** A container with one existing segment per conversation whose appends wait for the test to answer them. */
function scriptedContainer() {
  const calls: Call[] = [];
  let blocks = 0;
  const container = {
    getAppendBlobClient: (blob: string) => ({
      appendBlock: (body: Buffer) =>
        new Promise((resolve, reject) => {
          calls.push({
            blob,
            lines: body.toString('utf8').split('\n').filter(Boolean),
            answer: (count = ++blocks) => resolve({ blobCommittedBlockCount: count }),
            fail: reject,
          });
        }),
    }),
    // Every conversation has its segment 1 already.
    listBlobsByHierarchy: (_delimiter: string, { prefix }: { prefix: string }) =>
      (async function* () {
        yield { kind: 'blob', name: `${prefix}0000000001.jsonl`, properties: { contentLength: 0 } };
      })(),
  } as unknown as ContainerClient;
  return { container, calls };
}

const options = {
  segmentBlockLimit: 49_000,
  maxCachedConversations: 100,
  maxMessagesPerBlock: 100,
  maxBlockBytes: 1024 * 1024,
  maxQueuedAppends: 1_000,
};

const message = (text: string, conversation = 'room'): ChatMessage => ({
  ...newMessageId(),
  conversation,
  from: 'ann',
  text,
});

/** Lets pending promise callbacks and the listing's async iteration run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('SegmentAppender group commit', () => {
  it('sends an append at once when idle, queues the ones made meanwhile and sends them as one block', async () => {
    const { container, calls } = scriptedContainer();
    const appender = new SegmentAppender(container, options);
    let done = 0;
    const first = appender.append(message('a')).then(() => done++);
    await settle();
    expect(calls.map((c) => c.lines.length)).toEqual([1]);
    const rest = ['b', 'c', 'd'].map((t) => appender.append(message(t)).then(() => done++));
    await settle();
    // Nothing more goes out while the first is in flight, and nobody is answered before their block.
    expect(calls).toHaveLength(1);
    expect(done).toBe(0);
    calls[0]?.answer();
    await first;
    await settle();
    expect(done).toBe(1);
    expect(calls.map((c) => c.lines.map((l) => (JSON.parse(l) as ChatMessage).text))).toEqual([
      ['a'],
      ['b', 'c', 'd'],
    ]);
    calls[1]?.answer();
    await Promise.all(rest);
    expect(done).toBe(4);
    expect(appender.conversationsUnderWay).toBe(0);
    // Idle again: the next append goes out at once, alone.
    const next = appender.append(message('e'));
    await settle();
    expect(calls[2]?.lines).toHaveLength(1);
    calls[2]?.answer();
    await next;
  });

  it('keeps conversations apart: each has its own block in flight', async () => {
    const { container, calls } = scriptedContainer();
    const appender = new SegmentAppender(container, options);
    const sends = ['room', 'group:a', 'group:b'].map((c) => appender.append(message('x', c)));
    await settle();
    expect(calls.map((c) => c.blob).sort()).toEqual([
      'group%3Aa/0000000001.jsonl',
      'group%3Ab/0000000001.jsonl',
      'room/0000000001.jsonl',
    ]);
    expect(appender.conversationsUnderWay).toBe(3);
    for (const call of calls) call.answer();
    await Promise.all(sends);
    expect(appender.conversationsUnderWay).toBe(0);
  });

  it('rejects every message of a failed block, and goes on with the next block', async () => {
    const { container, calls } = scriptedContainer();
    const appender = new SegmentAppender(container, options);
    const first = appender.append(message('a'));
    await settle();
    const batch = ['b', 'c'].map((t) => appender.append(message(t)));
    const outcomes = Promise.allSettled(batch);
    calls[0]?.answer();
    await first;
    await settle();
    const third = appender.append(message('d'));
    const failure = Object.assign(new Error('timed out'), { name: 'AbortError' });
    calls[1]?.fail(failure);
    expect((await outcomes).map((o) => o.status === 'rejected' && o.reason)).toEqual([failure, failure]);
    await settle();
    expect(calls[2]?.lines).toHaveLength(1);
    calls[2]?.answer();
    await third;
    expect(appender.conversationsUnderWay).toBe(0);
  });

  it('holds at most maxQueuedAppends lines; the callers beyond wait and go out later, in order', async () => {
    const { container, calls } = scriptedContainer();
    const appender = new SegmentAppender(container, { ...options, maxQueuedAppends: 3 });
    const sends = Array.from({ length: 10 }, (_, i) => appender.append(message(`${i}`)));
    // Answer each block once it has gone out (more rounds than blocks needed, so a wrong split cannot hang).
    for (let i = 0; i < 20; i++) {
      await settle();
      calls[i]?.answer();
    }
    await Promise.all(sends);
    const texts = calls.map((c) => c.lines.map((l) => (JSON.parse(l) as ChatMessage).text));
    expect(texts).toEqual([['0'], ['1', '2', '3'], ['4', '5', '6'], ['7', '8', '9']]);
    expect(appender.conversationsUnderWay).toBe(0);
  });

  it('keeps no state for the thousands of conversations it has appended to once they are idle', async () => {
    const { container, calls } = scriptedContainer();
    const appender = new SegmentAppender(container, options);
    const sends = Array.from({ length: 5_000 }, (_, i) => appender.append(message('x', `group:g${i}`)));
    await settle();
    expect(appender.conversationsUnderWay).toBe(5_000);
    for (const call of calls) call.answer(1);
    await Promise.all(sends);
    expect(appender.conversationsUnderWay).toBe(0);
  });
});
