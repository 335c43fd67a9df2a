import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import type { ChatClient } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

/** Small enough that 100 messages in the room roll over several segments. */
const SEGMENT_BLOCK_LIMIT = 10;
const CONNECTIONS = 20;
const MESSAGES_EACH = 5;

const chat = useChatStack({ segmentBlockLimit: SEGMENT_BLOCK_LIMIT });
const clients: ChatClient[] = [];

interface Stored {
  id: string;
  from: string;
  text: string;
  clientMessageId?: string;
}

describe('under concurrent load', () => {
  it('20 connections sending at once: every message in history exactly once, in each sender order, across segment rollovers', async () => {
    const users = Array.from({ length: CONNECTIONS }, (_, i) => `user${String(i + 1).padStart(2, '0')}`);
    for (const [i, user] of users.entries()) {
      clients.push(await chat.connect(user, i % 2 === 0 ? 'signalr' : 'webpubsub'));
    }
    // Everyone sends at once; each connection sends its own messages in order without waiting.
    await Promise.all(
      clients.map(async (client) => {
        for (let n = 1; n <= MESSAGES_EACH; n++) {
          await client.send('sendMessage', {
            text: `${client.user} #${n}`,
            clientMessageId: `${client.user}-${n}`,
          });
        }
      }),
    );
    const total = CONNECTIONS * MESSAGES_EACH;
    const listener = clients[0]!;
    await listener.waitFor(() => listener.events.filter((e) => e.type === 'message').length >= total);

    // Read the whole room back, page by page, newest first.
    const stored: Stored[] = [];
    let before: string | undefined;
    for (;;) {
      const from = listener.events.length;
      await listener.send('loadHistory', { conversation: 'room', limit: 30, ...(before ? { before } : {}) });
      const page = (await listener.waitFor((e) => e.type === 'history', from)).payload as {
        messages: Stored[];
        hasMore: boolean;
      };
      stored.unshift(...page.messages);
      if (!page.hasMore) break;
      before = page.messages[0]!.id;
    }
    expect(stored).toHaveLength(total);
    expect(new Set(stored.map((m) => m.id)).size).toBe(total);
    expect(new Set(stored.map((m) => m.clientMessageId)).size).toBe(total);
    for (const user of users) {
      const own = stored.filter((m) => m.from === user).map((m) => m.text);
      expect(own).toEqual(Array.from({ length: MESSAGES_EACH }, (_, n) => `${user} #${n + 1}`));
    }
    // Every client received every message once.
    for (const client of clients) {
      const ids = client.events.filter((e) => e.type === 'message').map((e) => e.payload.id);
      expect(new Set(ids).size).toBe(ids.length);
    }

    // The room really rolled over: several segments, none above the limit by more than the writes in flight.
    const container = BlobServiceClient.fromConnectionString(
      chat.stack.blob.connectionString,
    ).getContainerClient('chat-history');
    const segments: string[] = [];
    for await (const blob of container.listBlobsFlat({ prefix: 'room/' })) {
      if (blob.name.endsWith('.jsonl')) segments.push(blob.name);
    }
    expect(segments.length).toBeGreaterThanOrEqual(Math.floor(total / (SEGMENT_BLOCK_LIMIT + CONNECTIONS)));
    expect(segments.length).toBeGreaterThan(1);
  });
});
