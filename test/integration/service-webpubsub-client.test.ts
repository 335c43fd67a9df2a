/**
 * The local service's Web PubSub wing driven by Microsoft's own SDKs, unmodified: `@azure/web-pubsub-client`
 * as the client (its URL minted by `@azure/web-pubsub`'s `getClientAccessToken`), and
 * `@azure/web-pubsub-express` as the event handler, the oracle of what Azure sends upstream.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import {
  type SendMessageError,
  WebPubSubClient,
  type WebPubSubClientOptions,
} from '@azure/web-pubsub-client';
import { afterEach, describe, expect, it } from 'vitest';
import { signatureHeader } from '../../src/lib/signalr/signature.js';
import { DEV_WEBPUBSUB_ACCESS_KEY } from '../../src/local/dev-constants.js';
import { type RunningService, startService } from '../../src/local/service/index.js';
import {
  connect,
  PRIMARY_KEY,
  recordingLog,
  refusedHandshake,
  SECONDARY_KEY,
} from '../support/local-service.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { KNOWN_SIGNATURES } from '../support/upstream.js';
import { type ExpressUpstream, startExpressUpstream } from '../support/webpubsub-express-upstream.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startWing(upstream?: ExpressUpstream, log = recordingLog().log): Promise<RunningService> {
  const service = await startService({
    port: 0,
    log,
    ...(upstream
      ? {
          webPubSubHubs: {
            chat: {
              eventHandlers: [
                {
                  urlTemplate: upstream.url,
                  userEventPattern: '*',
                  systemEvents: ['connect', 'connected', 'disconnected'],
                },
              ],
            },
          },
        }
      : {}),
  });
  cleanups.push(() => service.close());
  return service;
}

/** A client token and URL minted by Microsoft's REST client, exactly as an app hands them out. */
async function clientUrl(
  service: RunningService,
  options: { userId?: string; roles?: string[]; groups?: string[] } = {},
  port = service.port,
  key = DEV_WEBPUBSUB_ACCESS_KEY,
): Promise<string> {
  const client = new WebPubSubServiceClient(
    `Endpoint=http://localhost:${service.port};AccessKey=${key};Version=1.0;`,
    'chat',
  );
  const { url } = await client.getClientAccessToken(options);
  return url.replace(`:${service.port}/`, `:${port}/`);
}

function newClient(
  url: string | (() => Promise<string>),
  messageRetryOptions: WebPubSubClientOptions['messageRetryOptions'] = { retryDelayInMs: 10, mode: 'Fixed' },
): WebPubSubClient {
  const client = new WebPubSubClient(
    { getClientAccessUrl: typeof url === 'string' ? url : async () => url() },
    {
      reconnectRetryOptions: { retryDelayInMs: 50, maxRetries: 100, mode: 'Fixed' },
      // A refused message is retried (three times by default; quickly here), with a new ack id unless the
      // caller gives one.
      messageRetryOptions,
    },
  );
  cleanups.push(() => client.stop());
  return client;
}

/** Resolves with the next `count` values the listener is given. */
function collect<T>(count: number): { values: T[]; push: (value: T) => void; done: Promise<T[]> } {
  const values: T[] = [];
  let resolve: (values: T[]) => void = () => {};
  const done = new Promise<T[]>((r) => {
    resolve = r;
  });
  return {
    values,
    push: (value) => {
      values.push(value);
      if (values.length >= count) resolve(values);
    },
    done,
  };
}

describe("the Web PubSub wing with Microsoft's client and event handler", () => {
  it('connects, joins, sends to a group and sends an event whose answer and ack come back; the handler sees what Azure sends', async () => {
    const upstream = await startExpressUpstream();
    cleanups.push(() => upstream.close());
    upstream.onConnect = (req, res) => {
      res.setState('seen', req.claims?.sub?.[0] ?? 'none');
      res.success(req.context.userId === 'alice' ? { groups: ['lobby'] } : undefined);
    };
    const service = await startWing(upstream);
    const alice = newClient(
      await clientUrl(service, {
        userId: 'alice',
        roles: ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup'],
      }),
    );
    const bob = newClient(
      await clientUrl(service, { userId: 'bob', roles: ['webpubsub.joinLeaveGroup.room'] }),
    );
    const aliceConnected = new Promise<{ connectionId: string; userId: string }>((resolve) =>
      alice.on('connected', resolve),
    );
    await alice.start();
    await bob.start();
    const { connectionId, userId } = await aliceConnected;
    expect(userId).toBe('alice');

    // The abuse-protection handshake came first, once for the host, as Azure makes it.
    expect(upstream.handshakes).toHaveLength(1);
    expect(upstream.handshakes[0]?.['webhook-request-origin']).toBe(`localhost:${service.port}`);

    const [connect0] = await upstream.until(() => upstream.connects);
    expect(connect0?.context.hub).toBe('chat');
    expect(connect0?.context.userId).toBe('alice');
    expect(connect0?.context.connectionId).toBe(connectionId);
    expect(connect0?.claims?.role).toEqual(['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup']);
    expect(connect0?.subprotocols).toEqual(['json.reliable.webpubsub.azure.v1']);
    expect(connect0?.queries?.access_token).toBeUndefined();
    expect(connect0?.headers?.['sec-websocket-protocol']).toEqual(['json.reliable.webpubsub.azure.v1']);
    await upstream.until(() => upstream.connected, 2);
    // The handler's context has no subprotocol field: the header is checked as sent.
    expect(upstream.posts.every((h) => h['ce-subprotocol'] === 'json.reliable.webpubsub.azure.v1')).toBe(
      true,
    );
    expect(upstream.connected[0]?.context.origin).toBe(`localhost:${service.port}`);
    // Every call is signed with the Web PubSub access key over the connection id.
    expect(upstream.posts[0]?.['ce-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    const aliceCall = upstream.posts.find((h) => h['ce-connectionid'] === connectionId);
    expect(aliceCall?.['ce-signature']).toBe(signatureHeader([DEV_WEBPUBSUB_ACCESS_KEY], connectionId));

    // Group messages: bob joins a group his scoped role allows, alice sends to it and to the connect answer's group.
    await bob.joinGroup('room');
    const bobGets = collect<{ group: string; data: unknown; fromUserId?: string }>(2);
    bob.on('group-message', (e) => bobGets.push(e.message));
    const aliceLobby = collect<unknown>(1);
    alice.on('group-message', (e) => aliceLobby.push(e.message.data));
    await alice.sendToGroup('room', { hello: 'bob' }, 'json');
    await alice.sendToGroup('lobby', 'to the lobby', 'text', { noEcho: false });
    await bob.sendToGroup('room', 'no permission', 'text').then(
      () => expect.fail('bob has no sendToGroup role'),
      (error: SendMessageError) => expect(error.errorDetail?.name).toBe('Forbidden'),
    );
    await bob.joinGroup('other').then(
      () => expect.fail('bob may join only room'),
      (error: SendMessageError) => expect(error.errorDetail?.name).toBe('Forbidden'),
    );
    expect(await aliceLobby.done).toEqual(['to the lobby']);
    await alice.sendToGroup('room', 'second', 'text');
    expect((await bobGets.done).map((m) => [m.group, m.data, m.fromUserId])).toEqual([
      ['room', { hello: 'bob' }, 'alice'],
      ['room', 'second', 'alice'],
    ]);

    // An event: the handler sees it with the connection's state, its answer comes back as a server message.
    const answers = collect<unknown>(1);
    alice.on('server-message', (e) => answers.push(e.message.data));
    const ack = await alice.sendEvent('greet', 'hi', 'text');
    expect(ack.isDuplicated).toBe(false);
    expect(await answers.done).toEqual(['echo: hi']);
    const event = upstream.userEvents.find((e) => e.context.eventName === 'greet');
    expect(event?.data).toBe('hi');
    expect(event?.dataType).toBe('text');
    expect(event?.context.states).toEqual({ seen: 'alice' });

    // Leaving: no more group messages; the disconnect reaches the handler.
    await bob.leaveGroup('room');
    await alice.stop();
    const gone = await upstream.until(() => upstream.disconnected);
    expect(gone[0]?.context.connectionId).toBe(connectionId);
  });

  it("refuses a client the connect handler refuses, with the handler's status", async () => {
    const upstream = await startExpressUpstream();
    cleanups.push(() => upstream.close());
    upstream.onConnect = (_req, res) => res.fail(401, 'not you');
    const service = await startWing(upstream);
    const refused = await refusedHandshake(
      await clientUrl(service, { userId: 'eve' }),
      'json.webpubsub.azure.v1',
    );
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('not you');
    // Without a token, or with a token for another hub, Azure answers 401 itself.
    const base = `ws://localhost:${service.port}/client/hubs/chat`;
    expect((await refusedHandshake(base)).status).toBe(401);
    const other = (await clientUrl(service)).replace('/client/hubs/chat', '/client/hubs/other');
    expect((await refusedHandshake(other)).status).toBe(401);
  });

  it('speaks to a plain WebSocket without a subprotocol: each frame a message event, the answer a frame', async () => {
    const upstream = await startExpressUpstream();
    cleanups.push(() => upstream.close());
    upstream.onUserEvent = (req, res) => res.success(`you said ${String(req.data)}`, 'text');
    const service = await startWing(upstream);
    const plain = await connect(await clientUrl(service, { userId: 'carol' }));
    cleanups.push(() => plain.close());
    expect(plain.ws.protocol).toBe('');
    plain.ws.send('hello');
    const answer = await plain.next();
    expect(answer).toMatchObject({ isBinary: false, text: 'you said hello' });
    const [event] = await upstream.until(() => upstream.userEvents);
    expect(event?.context.eventName).toBe('message');
    expect(upstream.posts.at(-1)?.['ce-subprotocol']).toBeUndefined();
    upstream.onUserEvent = (req, res) => res.success(req.data as ArrayBuffer, 'binary');
    plain.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    const bytes = await plain.next();
    expect(bytes.isBinary).toBe(true);
    expect([...bytes.data]).toEqual([1, 2, 3]);
    expect(upstream.userEvents[1]?.dataType).toBe('binary');
  });

  it('keeps a reliable connection across a dropped socket: nothing lost, nothing repeated', async () => {
    const log = recordingLog();
    const service = await startWing(undefined, log.log);
    const proxy: TcpProxy = await startTcpProxy(service.port);
    cleanups.push(() => proxy.close());
    const roles = ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup'];
    // A send made while the socket is down fails until the connection is recovered, and is retried: the retries
    // must outlast a recovery however slow the machine (three tries 10 ms apart did not, now and then).
    const receiver = newClient(
      await clientUrl(service, { userId: 'r', roles }, Number(new URL(proxy.url).port)),
      { retryDelayInMs: 10, maxRetries: 3000, mode: 'Fixed' },
    );
    const sender = newClient(await clientUrl(service, { userId: 's', roles }));
    const ids: string[] = [];
    receiver.on('connected', (e) => ids.push(e.connectionId));
    await receiver.start();
    await sender.start();
    await receiver.joinGroup('g');
    const total = 60;
    const got = collect<number>(total);
    receiver.on('group-message', (e) => got.push(e.message.data as number));
    for (let i = 0; i < total; i++) {
      if (i === 20) proxy.cut();
      await sender.sendToGroup('g', i, 'json');
    }
    const received = await got.done;
    expect(received).toEqual(Array.from({ length: total }, (_, i) => i));
    // The receiver sends across the drop too: the sender gets each message once.
    const back = collect<number>(10);
    await sender.joinGroup('back');
    sender.on('group-message', (e) => back.push(e.message.data as number));
    // Each send keeps its ack id across retries, so one whose ack the cut lost is answered `Duplicate` by the
    // service instead of being delivered twice (a fresh ack id per retry would repeat it).
    const sends = Array.from({ length: 10 }, (_, i) => {
      if (i === 5) proxy.cut();
      return receiver.sendToGroup('back', i, 'json', { ackId: 1000 + i });
    });
    await Promise.all(sends);
    expect((await back.done).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    // One connection throughout: recovered (twice, once per cut), not replaced.
    expect(ids).toHaveLength(1);
    expect(log.entries.filter((e) => e.message === 'Web PubSub client recovered')).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(back.values).toHaveLength(10);
    expect(received).toHaveLength(total);
  });

  it('after a service restart the client connects anew as a new connection and rejoins its groups', async () => {
    let service = await startWing();
    const roles = ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup'];
    const client = newClient(() => clientUrl(service, { userId: 'x', roles }));
    const ids: string[] = [];
    const connected: Array<() => void> = [];
    client.on('connected', (e) => {
      ids.push(e.connectionId);
      connected.shift()?.();
    });
    await client.start();
    await client.joinGroup('g');
    const again = new Promise<void>((resolve) => connected.push(resolve));
    await service.close();
    service = await startWing();
    await again;
    expect(ids).toHaveLength(2);
    expect(ids[1]).not.toBe(ids[0]);
    // The client rejoined its group on the new connection, so a message to it arrives.
    const other = newClient(await clientUrl(service, { userId: 'y', roles }));
    await other.start();
    const got = collect<unknown>(1);
    client.on('group-message', (e) => got.push(e.message.data));
    await other.sendToGroup('g', 'after restart', 'text');
    expect(await got.done).toEqual(['after restart']);
  });

  it('across a restarted service, sends made meanwhile go out on the new connection: nothing lost, nothing repeated', async () => {
    let service = await startWing();
    const roles = ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup'];
    // The sender comes back only once the receiver is in its group again, so every send has someone to reach.
    let receiverBack: () => void = () => {};
    const receiverReady = new Promise<void>((resolve) => {
      receiverBack = resolve;
    });
    let restarting = false;
    const sender = newClient(
      async () => {
        if (restarting) await receiverReady;
        return clientUrl(service, { userId: 's', roles });
      },
      { retryDelayInMs: 10, maxRetries: 3000, mode: 'Fixed' },
    );
    const receiver = newClient(() => clientUrl(service, { userId: 'r', roles }));
    const receiverIds: string[] = [];
    receiver.on('connected', (e) => {
      receiverIds.push(e.connectionId);
      if (receiverIds.length === 2) void receiver.joinGroup('g').then(() => receiverBack());
    });
    await receiver.start();
    await sender.start();
    await receiver.joinGroup('g');
    const total = 10;
    const got = collect<number>(total);
    receiver.on('group-message', (e) => got.push(e.message.data as number));

    restarting = true;
    await service.close();
    // Sent while the service is down: each is retried, with its own ack id, until the new connection takes it.
    const sends = Array.from({ length: total }, (_, i) =>
      sender.sendToGroup('g', i, 'json', { ackId: 2000 + i }),
    );
    service = await startWing();
    await Promise.all(sends);
    expect((await got.done).sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(got.values).toHaveLength(total);
    // The restart ended the old connections: the receiver is on a new one.
    expect(receiverIds).toHaveLength(2);
    expect(receiverIds[1]).not.toBe(receiverIds[0]);
  });

  it('writes every call as Azure does: known-answer signature over the connection id with each key, ce-* attributes', async () => {
    const upstream = await startExpressUpstream();
    cleanups.push(() => upstream.close());
    const service = await startService({
      port: 0,
      log: recordingLog().log,
      // The known answers are for these two keys; the SignalR side gets a key of its own.
      accessKeys: ['a SignalR key that signs no Web PubSub call'],
      webPubSubAccessKeys: [PRIMARY_KEY, SECONDARY_KEY],
      generateConnectionId: () => 'a1b2c3',
      webPubSubHubs: { '*': { eventHandlers: [{ urlTemplate: upstream.url, systemEvents: ['connect'] }] } },
    });
    cleanups.push(() => service.close());
    const plain = await connect(await clientUrl(service, { userId: 'dave' }, service.port, PRIMARY_KEY));
    cleanups.push(() => plain.close());
    const [headers] = upstream.posts;
    const known = KNOWN_SIGNATURES.a1b2c3;
    expect(headers).toMatchObject({
      'ce-signature': `sha256=${known.primary},sha256=${known.secondary}`,
      'ce-specversion': '1.0',
      'ce-awpsversion': '1.0',
      'ce-type': 'azure.webpubsub.sys.connect',
      'ce-source': '/hubs/chat/client/a1b2c3',
      'ce-hub': 'chat',
      'ce-connectionid': 'a1b2c3',
      'ce-userid': 'dave',
      'ce-eventname': 'connect',
      'webhook-request-origin': `localhost:${service.port}`,
    });
    expect(upstream.handshakes[0]).toMatchObject({
      'webhook-request-origin': `localhost:${service.port}`,
      'ce-awpsversion': '1.0',
    });
    // Only `connect` was subscribed: a frame goes nowhere and the connection stays open.
    plain.ws.send('unheard');
    await plain.close();
    expect(upstream.posts).toHaveLength(1);
  });

  it('sends nothing to a host that refuses the abuse-protection handshake, and says so in the log', async () => {
    const posts: string[] = [];
    const handshakes: string[] = [];
    const host = createServer((req, res) => {
      if (req.method === 'OPTIONS') {
        handshakes.push(String(req.headers['webhook-request-origin']));
        res.writeHead(200, { 'WebHook-Allowed-Origin': 'someone-else.webpubsub.azure.com' });
      } else {
        posts.push(String(req.headers['ce-type']));
        res.writeHead(204);
      }
      res.end();
    });
    host.listen(0, '127.0.0.1');
    await once(host, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => host.close(() => resolve())));
    const url = `http://127.0.0.1:${(host.address() as AddressInfo).port}/api/events`;
    const log = recordingLog();
    const service = await startService({
      port: 0,
      log: log.log,
      webPubSubHubs: {
        chat: { eventHandlers: [{ urlTemplate: url, systemEvents: ['connect', 'connected'] }] },
      },
    });
    cleanups.push(() => service.close());
    const refused = await refusedHandshake(await clientUrl(service, { userId: 'eve' }));
    expect(refused.status).toBe(502);
    expect(refused.body).toContain('abuse-protection');
    const again = await refusedHandshake(await clientUrl(service, { userId: 'eve' }));
    expect(again.status).toBe(502);
    expect(handshakes).toEqual([`localhost:${service.port}`]); // once per host
    expect(posts).toEqual([]);
    expect(log.text()).toContain('refused the abuse-protection handshake');
  });
});
