/**
 * Reading a conversation back in the history tests: through the store's public paging, and straight from the
 * segment blobs (every stored line and each segment's block count), so a test can see what was written.
 */
import type { ContainerClient } from '@azure/storage-blob';
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
