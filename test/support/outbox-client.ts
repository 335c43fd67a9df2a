/**
 * A chat client that sends the way the page does: through the page's own outbox (static/link/outbox.js), resent
 * until acknowledged, one message in flight per conversation, reconnecting whenever its connection ends. For
 * fault tests: it records what it was told was sent and every message it received.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type ChatClient, type ChatDialect, openChat, type ReceivedEvent } from './chat-clients.js';

export interface StoredMessage {
  readonly id: string;
  readonly conversation: string;
  readonly from: string;
  readonly text: string;
  readonly sentAt: string;
  readonly clientMessageId?: string;
}

interface OutboxEntry {
  readonly clientMessageId: string;
  readonly conversation: string;
  readonly payload: Record<string, unknown>;
  readonly status: 'sending' | 'sent' | 'failed' | 'discarded';
  readonly attempts: number;
  readonly error: string | null;
  readonly message: StoredMessage | null;
}

interface Outbox {
  add(conversation: string, payload: object): OutboxEntry;
  acknowledge(clientMessageId: string, message: unknown): boolean;
  refuse(clientMessageId: string, error: object): void;
  setConnected(up: boolean): void;
  pending(): OutboxEntry[];
  stop(): void;
}

const { createOutbox } = (await import(new URL('../../static/link/outbox.js', import.meta.url).href)) as {
  createOutbox(options: object): Outbox;
};

/** Pause between two connection attempts of one client. */
export const RECONNECT_DELAY_MS = 300;

export interface OutboxClient {
  readonly user: string;
  readonly dialect: ChatDialect;
  /** Queues a room message (the page's Enter). */
  send(text: string): void;
  /** Messages the client was told are stored (its page would show them as sent), in the order acknowledged. */
  readonly sent: StoredMessage[];
  /** Every message received (live, in history and in acks), by id. */
  readonly seen: Map<string, StoredMessage>;
  /** Entries not sent yet (sending or failed). */
  pending(): OutboxEntry[];
  /** Sends that repeated an earlier send of the same message (resends after no answer or a refusal). */
  readonly resends: number;
  /** Connections opened so far. */
  readonly connections: number;
  /** The live connection, when there is one. */
  current(): ChatClient | undefined;
  stop(): Promise<void>;
}

export function startOutboxClient(functionsUrl: string, user: string, dialect: ChatDialect): OutboxClient {
  let client: ChatClient | undefined;
  let stopped = false;
  let connections = 0;
  let resends = 0;
  const sent: StoredMessage[] = [];
  const seen = new Map<string, StoredMessage>();
  const outbox = createOutbox({
    send: (command: string, payload: object) => {
      if (!client) throw new Error('Not connected.');
      return client.send(command, payload);
    },
    onChange: (entry: OutboxEntry) => {
      if (entry.status === 'sending' && entry.attempts > 1) resends += 1;
      if (entry.status === 'sent' && entry.message) sent.push(entry.message);
    },
  });
  const see = (m: StoredMessage) => {
    seen.set(m.id, m);
    if (m.from === user && m.clientMessageId) outbox.acknowledge(m.clientMessageId, m);
  };

  function handle(event: ReceivedEvent) {
    // biome-ignore lint/suspicious/noExplicitAny: event payloads are the chat protocol's JSON, checked by the test
    const p = event.payload as Record<string, any>;
    switch (event.type) {
      case 'welcome':
        for (const m of p.history?.messages ?? []) see(m);
        break;
      case 'history':
        for (const m of p.messages ?? []) see(m);
        break;
      case 'message':
        see(p as StoredMessage);
        break;
      case 'ack':
        seen.set(p.message.id, p.message);
        outbox.acknowledge(p.clientMessageId, p.message);
        break;
      case 'error':
        if (typeof p.clientMessageId === 'string') outbox.refuse(p.clientMessageId, p);
        break;
    }
  }

  const running = (async () => {
    while (!stopped) {
      let next: ChatClient;
      try {
        next = await openChat(functionsUrl, user, dialect);
      } catch {
        await sleep(RECONNECT_DELAY_MS);
        continue;
      }
      if (stopped) {
        await next.close();
        break;
      }
      connections += 1;
      client = next;
      next.onEvent(handle);
      outbox.setConnected(true);
      await next.closed;
      client = undefined;
      outbox.setConnected(false);
      if (!stopped) await sleep(RECONNECT_DELAY_MS);
    }
  })();

  return {
    user,
    dialect,
    send: (text) => void outbox.add('room', { text }),
    sent,
    seen,
    pending: () => outbox.pending(),
    get connections() {
      return connections;
    },
    get resends() {
      return resends;
    },
    current: () => client,
    async stop() {
      stopped = true;
      outbox.stop();
      await client?.close();
      await running;
    },
  };
}
