/**
 * The bench's lean Web PubSub client (bench/webpubsub-client.ts) against the real local service's Web PubSub
 * wing and a real upstream on port 0: what it sends must be what the page and Microsoft's client send, or the
 * bench measures another protocol.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type BenchConnection, connect, type Incoming } from '../../bench/clients.js';
import { webPubSubService } from '../../src/lib/webpubsub/service.js';
import { DEV_WEBPUBSUB_ACCESS_KEY, devWebPubSubConnectionString } from '../../src/local/dev-constants.js';
import { type RunningService, startService } from '../../src/local/service/index.js';
import { recordingLog, startUpstream, type TestUpstream } from '../support/local-service.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The wing with one event handler for every event of hub `chat`, which echoes user events' data. */
async function startWing(): Promise<{ service: RunningService; upstream: TestUpstream }> {
  const upstream = await startUpstream((call) => ({
    // The abuse-protection handshake is allowed; a user event's data comes back with its media type.
    headers: {
      'WebHook-Allowed-Origin': '*',
      ...(String(call.headers['ce-type'] ?? '').startsWith('azure.webpubsub.user.')
        ? { 'content-type': String(call.headers['content-type']) }
        : {}),
    },
    body: String(call.headers['ce-type'] ?? '').startsWith('azure.webpubsub.user.') ? call.body : '',
  }));
  cleanups.push(() => upstream.close());
  const service = await startService({
    port: 0,
    log: recordingLog().log,
    webPubSubHubs: {
      chat: {
        eventHandlers: [
          {
            urlTemplate: `${upstream.url}/events`,
            userEventPattern: '*',
            systemEvents: ['connected'],
            auth: { type: 'None' },
          },
        ],
      },
    },
  });
  cleanups.push(() => service.close());
  return { service, upstream };
}

/** A client of the wing and the messages it receives, with a wait for the next one that matches. */
async function client(
  service: RunningService,
  user: string,
  framing: 'json' | 'reliable' = 'json',
): Promise<{ connection: BenchConnection; next: (match: (m: Incoming) => boolean) => Promise<Incoming> }> {
  const received: Incoming[] = [];
  const waiters: Array<() => void> = [];
  const connection = await connect(
    { kind: 'webpubsub', endpoint: service.url, hub: 'chat', accessKey: DEV_WEBPUBSUB_ACCESS_KEY, framing },
    user,
    (message) => {
      received.push(message);
      for (const wake of waiters.splice(0)) wake();
    },
  );
  cleanups.push(() => connection.close());
  const next = (match: (m: Incoming) => boolean) =>
    new Promise<Incoming>((resolve) => {
      const check = () => {
        const found = received.find(match);
        if (found) resolve(found);
        else waiters.push(check);
      };
      check();
    });
  return { connection, next };
}

const text = (value: string) => (m: Incoming) => m.kind === 'text' && m.text === value;

describe("the bench's Web PubSub client", () => {
  it('is connected once it resolves: a REST broadcast right after reaches it as text', async () => {
    const { service } = await startWing();
    const ann = await client(service, 'ann');
    const bob = await client(service, 'bob');
    const { client: rest } = webPubSubService(
      { kind: 'key', connectionString: devWebPubSubConnectionString(`http://localhost:${service.port}`) },
      { hub: 'chat', maxRetries: 0 },
    );
    await rest.sendToAll('7 123 payload', { contentType: 'text/plain' });
    expect(await ann.next(text('7 123 payload'))).toEqual({ kind: 'text', text: '7 123 payload' });
    expect(await bob.next(text('7 123 payload'))).toEqual({ kind: 'text', text: '7 123 payload' });
  });

  it("sends an echo as the user event 'echo' with text data, whose answer comes back as text", async () => {
    const { service, upstream } = await startWing();
    const ann = await client(service, 'ann');
    ann.connection.send('1 456 round trip', { target: 'echo' });
    expect(await ann.next(text('1 456 round trip'))).toBeDefined();
    const [call] = await upstream.waitFor((c) => c.headers['ce-type'] === 'azure.webpubsub.user.echo');
    expect(call?.headers['ce-userid']).toBe('ann');
    expect(call?.headers['content-type']).toMatch(/^text\/plain/);
    expect(call?.text).toBe('1 456 round trip');
  });

  it("sends a chat command as the page does: the user event 'message' with JSON data, acknowledged", async () => {
    const { service, upstream } = await startWing();
    const ann = await client(service, 'ann', 'reliable');
    ann.connection.command('sendMessage', { text: 'hi', clientMessageId: 'bench-1' });
    const [call] = await upstream.waitFor((c) => c.headers['ce-type'] === 'azure.webpubsub.user.message');
    expect(call?.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(call?.text ?? '')).toEqual({
      type: 'sendMessage',
      text: 'hi',
      clientMessageId: 'bench-1',
    });
    // The echoed JSON comes back as a server message, handed on as the chat event it is (its type and the
    // event, parsed once, as a SignalR invocation is); a refused ack would arrive as a completion error.
    const answer = await ann.next((m) => m.kind === 'invocation' || m.kind === 'completion');
    expect(answer).toEqual({
      kind: 'invocation',
      target: 'sendMessage',
      argument: { type: 'sendMessage', text: 'hi', clientMessageId: 'bench-1' },
    });
  });
});
