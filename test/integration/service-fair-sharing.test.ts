/**
 * One abusive client must not starve the others: connect rate limits (429 with Retry-After), fair turns for
 * upstream calls across users, and notifications that neither outlive their connection nor pile up retries.
 * Every assertion is on outcomes and their order, never on elapsed time.
 */
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { describe, expect, it } from 'vitest';
import { type HubMessage, HubMessageType } from '../../src/lib/signalr/hub-protocol.js';
import { clientUrl, createClientToken } from '../../src/lib/signalr/tokens.js';
import { DEV_WEBPUBSUB_ACCESS_KEY } from '../../src/local/dev-constants.js';
import type { RunningService } from '../../src/local/service/index.js';
import {
  http,
  PRIMARY_KEY,
  type RecordedCall,
  recordingLog,
  refusedHandshake,
  TestClient,
  useServiceTest,
  webPubSubClientUrl,
  webPubSubEventsTo,
} from '../support/local-service.js';
import { SignalRRawClient } from '../support/signalr-raw-client.js';

const { upstream, service, defer } = useServiceTest();

async function open(svc: RunningService, userId: string): Promise<SignalRRawClient> {
  const client = await SignalRRawClient.open(svc.url, 'chat', userId);
  defer(() => client.close());
  return client;
}

async function negotiate(svc: RunningService, userId: string) {
  const token = await createClientToken(PRIMARY_KEY, clientUrl(svc.url, 'chat'), { userId });
  return http('POST', `${svc.url}/client/negotiate?hub=chat&negotiateVersion=1`, {
    headers: { Authorization: `Bearer ${token}` },
  });
}

/** An upstream whose `connected` calls each wait until the test releases them, in arrival order. */
async function gatedUpstream() {
  const gates: Array<() => void> = [];
  let open = false;
  const up = await upstream((call) => {
    if (call.event !== 'connected' || open) return undefined;
    return new Promise((resolve) => gates.push(() => resolve(undefined)));
  });
  // Whatever happens in the test, nothing stays blocked for the cleanup.
  defer(() => {
    open = true;
    for (const release of gates.splice(0)) release();
  });
  return {
    up,
    /** Releases the n-th `connected` call (0-based) once it has arrived. */
    async release(n: number) {
      await up.waitFor((c) => c.event === 'connected', n + 1);
      gates[n]?.();
    },
  };
}

const userOf = (call: RecordedCall) => String(call.headers['x-asrs-user-id']);
const isCompletion = (m: HubMessage) => m.type === HubMessageType.Completion;

describe('fair sharing under one abusive client', () => {
  it('answers a user over the connect limit 429 with Retry-After, and serves a fresh user before the flood drains', async () => {
    const { up, release } = await gatedUpstream();
    const svc = await service({
      upstream: `${up.url}/api/{event}`,
      maxConcurrentUpstreamCalls: 1,
      connectBurstPerUser: 8,
      connectsPerSecondPerUser: 0.001,
    });
    // The flood: eight connections of one user, each with a connected notification for the app.
    for (let i = 0; i < 8; i++) await open(svc, 'flood');
    const refused = await negotiate(svc, 'flood');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(refused.text)).toEqual({
      code: 'too-many-requests',
      message: expect.stringContaining('connectBurstPerUser, connectsPerSecondPerUser'),
    });

    // A fresh user connects while the flood's notifications queue behind the first one.
    const fresh = await open(svc, 'fresh');
    let released = 0;
    while (!up.calls.some((c) => c.event === 'connected' && c.connectionId === fresh.connectionId)) {
      await release(released++);
    }
    const connected = up.calls.filter((c) => c.event === 'connected').map(userOf);
    // The fresh user waited one turn of the flood, not for the flood's eight notifications.
    expect(connected).toEqual(['flood', 'flood', 'fresh']);
    // Then the rest of the flood is served, in its own lane.
    for (let n = released; n < 9; n++) await release(n);
    const all = await up.waitFor((c) => c.event === 'connected', 9);
    expect(all.map(userOf).filter((u) => u === 'flood')).toHaveLength(8);
  });

  it('refuses connects from one address over its limit, whichever service or user', async () => {
    const svc = await service({ connectBurstPerAddress: 3, connectsPerSecondPerAddress: 0.001 });
    for (const user of ['a', 'b', 'c']) expect((await negotiate(svc, user)).status).toBe(200);
    // The next connect from that address is a Web PubSub client's: the same limit holds it.
    const webPubSub = new WebPubSubServiceClient(
      `Endpoint=${svc.endpoint};AccessKey=${DEV_WEBPUBSUB_ACCESS_KEY};Version=1.0;`,
      'chat',
    );
    const { url } = await webPubSub.getClientAccessToken({ userId: 'd' });
    const ws = await refusedHandshake(url);
    expect(ws.status).toBe(429);
    expect(ws.headers['retry-after']).toMatch(/^\d+$/);
    expect(JSON.parse(ws.body).message).toContain('connectBurstPerAddress, connectsPerSecondPerAddress');
    expect((await negotiate(svc, 'e')).status).toBe(429);
  });

  it('never sends the connected of a connection that left while it waited, nor its disconnected', async () => {
    const { up, release } = await gatedUpstream();
    const log = recordingLog();
    const svc = await service({
      upstream: `${up.url}/api/{event}`,
      maxConcurrentUpstreamCalls: 1,
      log: log.log,
    });
    await open(svc, 'ann'); // its connected holds the only slot
    const gone = await open(svc, 'bo');
    await gone.close();
    await release(0);
    // A later connection's calls come after anything bo's lane could still have sent.
    const later = await open(svc, 'cy');
    await release(1);
    await later.close();
    await up.waitFor((c) => c.event === 'disconnected' && c.connectionId === later.connectionId);
    expect(up.calls.filter((c) => c.connectionId === gone.connectionId)).toEqual([]);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        message: 'Upstream connected call skipped: the connection left while it waited',
        fields: expect.objectContaining({ connectionId: gone.connectionId }),
      }),
    );
  });

  it('does not retry the connected of a connection that has left, and still tells the app it left', async () => {
    let leave!: () => Promise<void>;
    const up = await upstream(async (call) => {
      if (call.event !== 'connected') return undefined;
      await leave();
      return { status: 503 };
    });
    const svc = await service({
      upstream: `${up.url}/api/{event}`,
      notificationAttempts: 3,
      retryBaseDelayMs: 50,
    });
    let ready!: (client: SignalRRawClient) => void;
    const opened = new Promise<SignalRRawClient>((resolve) => {
      ready = resolve;
    });
    leave = async () => (await opened).close();
    const client = await open(svc, 'ann');
    ready(client);
    await up.waitFor((c) => c.event === 'disconnected');
    // The attempt that failed may have reached the app, so the app hears that the connection left.
    expect(up.calls.map((c) => c.event)).toEqual(['connected', 'disconnected']);
  });

  it('gives up a failed notification instead of retrying it while maxPendingRetries others wait to be retried', async () => {
    const up = await upstream((call) => (call.event === 'connected' ? { status: 503 } : undefined));
    const log = recordingLog();
    const svc = await service({
      upstream: `${up.url}/api/{event}`,
      notificationAttempts: 3,
      maxPendingRetries: 1,
      retryBaseDelayMs: 1_000,
      retryMaxDelayMs: 1_000,
      log: log.log,
    });
    const first = await open(svc, 'ann');
    await up.waitFor((c) => c.event === 'connected');
    const second = await open(svc, 'bo');
    await up.waitFor((c) => c.event === 'connected' && c.connectionId === second.connectionId);
    await up.waitFor((c) => c.event === 'connected' && c.connectionId === first.connectionId, 2);
    const failures = log.entries.filter((e) => e.message === 'Upstream connected call failed');
    expect(failures).toContainEqual(
      expect.objectContaining({
        level: 'error',
        fields: expect.objectContaining({
          connectionId: second.connectionId,
          attempt: 1,
          notRetried: 'maxPendingRetries notifications already wait to be retried',
        }),
      }),
    );
    expect(
      up.calls.filter((c) => c.connectionId === second.connectionId && c.event === 'connected'),
    ).toHaveLength(1);
  });

  it("counts a Web PubSub user's events in the same per-user backlog: past it an event is refused at once with its ack", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    defer(() => release());
    const up = await upstream(async (call) => {
      if (call.method === 'OPTIONS') return { headers: { 'WebHook-Allowed-Origin': '*' } };
      if (call.event === 'message') await gate;
      return { status: 204 };
    });
    const svc = await service({ ...webPubSubEventsTo(up), maxQueuedUpstreamCallsPerUser: 2 });
    const client = new TestClient(await webPubSubClientUrl(svc, 'ann'), 'json.webpubsub.azure.v1');
    defer(() => client.close());
    await client.opened;
    await client.next(); // the `connected` system message
    for (let ackId = 1; ackId <= 4; ackId++) {
      client.ws.send(JSON.stringify({ type: 'event', event: 'message', dataType: 'text', data: 'x', ackId }));
    }
    // The first is at the upstream, the second waits behind it: the third and fourth are refused at once.
    const refused = [JSON.parse((await client.next()).text), JSON.parse((await client.next()).text)];
    expect(refused.map((ack) => [ack.ackId, ack.success, ack.error?.name])).toEqual([
      [3, false, 'InternalServerError'],
      [4, false, 'InternalServerError'],
    ]);
    expect(refused[0].error.message).toContain('maxQueuedUpstreamCallsPerUser');
    release();
    const done = [JSON.parse((await client.next()).text), JSON.parse((await client.next()).text)];
    expect(done.map((ack) => [ack.ackId, ack.success])).toEqual([
      [1, true],
      [2, true],
    ]);
  });

  it('bounds what all users queue together: past maxQueuedUpstreamCallsTotal only a user with nothing waiting gets a message in', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    defer(() => release());
    const up = await upstream(async (call) => {
      if (call.event === 'search') await gate;
      return undefined;
    });
    const svc = await service({ upstream: `${up.url}/api/{event}`, maxQueuedUpstreamCallsTotal: 3 });
    const [first, second, calm] = [await open(svc, 'f1'), await open(svc, 'f2'), await open(svc, 'calm')];
    const search = (client: SignalRRawClient, id: string) =>
      client.send({ type: HubMessageType.Invocation, target: 'search', arguments: [], invocationId: id });
    for (const id of ['1', '2', '3']) search(first, id);
    await up.waitFor((call) => call.event === 'search');
    // The total is reached: the second flooder's first message still gets in, its next ones do not.
    for (const id of ['1', '2', '3']) search(second, id);
    const refused = [await second.next(isCompletion), await second.next(isCompletion)];
    expect(refused.map((m) => (m as { invocationId: string }).invocationId)).toEqual(['2', '3']);
    expect(refused[0]).toMatchObject({ error: expect.stringContaining('maxQueuedUpstreamCallsTotal') });
    // Someone with nothing waiting is answered while the flood is held.
    calm.send({ type: HubMessageType.Invocation, target: 'hello', arguments: [], invocationId: 'c1' });
    expect(await calm.next(isCompletion)).toMatchObject({ invocationId: 'c1' });
    release();
    // Every message that got in is answered: the first flooder's three and the second's one.
    const answered = [];
    for (let i = 0; i < 3; i++) answered.push(await first.next(isCompletion));
    answered.push(await second.next(isCompletion));
    expect(answered.map((m) => (m as { invocationId: string }).invocationId)).toEqual(['1', '2', '3', '1']);
    expect(up.calls.filter((call) => call.event === 'search')).toHaveLength(4);
  });
});
