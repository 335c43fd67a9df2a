/**
 * Reading a conversation back in the history tests: through the store's public paging, and straight from the
 * segment blobs (every stored line and each segment's block count), so a test can see what was written.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { ulid } from 'ulid';
import { type ChatMessage, type HistoryStore, segmentBlobName } from '../../src/lib/history/index.js';

/** The whole conversation, paged backwards through the public API. */
export async function readAll(store: HistoryStore, conversation: string): Promise<ChatMessage[]> {
  const all: ChatMessage[] = [];
  let page = await store.read(conversation, { limit: 100 });
  all.unshift(...page.messages);
  while (page.hasMore) {
    page = await store.read(conversation, { limit: 100, before: (page.messages[0] as ChatMessage).id });
    all.unshift(...page.messages);
  }
  return all;
}

/** Every stored line of every segment, straight from the blobs, with each segment's name and block count. */
export async function rawSegments(container: ContainerClient, conversation: string) {
  const segments: { name: string; blocks: number; lines: ChatMessage[] }[] = [];
  for (let segment = 1; ; segment++) {
    const blob = container.getAppendBlobClient(segmentBlobName(conversation, segment));
    if (!(await blob.exists())) break;
    const properties = await blob.getProperties();
    const text = (await blob.downloadToBuffer()).toString('utf8');
    const lines = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as ChatMessage);
    segments.push({ name: blob.name, blocks: properties.blobCommittedBlockCount ?? 0, lines });
  }
  return segments;
}

/**
 * Writes a conversation's segments directly (many lines per block, to build a long history quickly), in the
 * exact line format the store writes. `times[s][i]` is the id time of line i of segment s+1; `textOf` its text.
 */
export async function writeSegments(
  container: ContainerClient,
  conversation: string,
  times: number[][],
  textOf: (segment: number, line: number) => string = (s, i) => `s${s + 1}-${i} ${'x'.repeat(150)}`,
): Promise<ChatMessage[][]> {
  await container.createIfNotExists();
  const segments: ChatMessage[][] = [];
  for (const [index, segmentTimes] of times.entries()) {
    const messages = segmentTimes.map(
      (time, i): ChatMessage => ({
        id: ulid(time),
        conversation,
        from: 'ann',
        text: textOf(index, i),
        sentAt: new Date(time).toISOString(),
      }),
    );
    const blob = container.getAppendBlobClient(segmentBlobName(conversation, index + 1));
    await blob.create();
    // Blocks of at most 100 lines (an append block holds at most 4 MiB).
    for (let start = 0; start < messages.length; start += 100) {
      const body = messages
        .slice(start, start + 100)
        .map((m) => `${JSON.stringify(m)}\n`)
        .join('');
      await blob.appendBlock(body, Buffer.byteLength(body));
    }
    segments.push(messages);
  }
  return segments;
}
