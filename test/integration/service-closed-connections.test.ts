/**
 * What a connection queued for the upstream and had not sent when it closed is dropped, never sent late
 * (docs/local-service.md, "Upstream calls"): several users each queue a burst of messages behind one call the
 * upstream holds, then close; once the upstream answers, none of the queued ones reaches it, each connection's
 * count is logged, and another user is served. Fixed counts only: every wait is for a state.
 */
import { describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../src/lib/signalr/connection-string.js';
import { HubMessageType } from '../../src/lib/signalr/hub-protocol.js';
import { HubClient } from '../../src/lib/signalr/rest/client.js';
import { devSignalRConnectionString } from '../../src/local/dev-constants.js';
import type { RunningService } from '../../src/local/service/index.js';
import {
  type RecordedCall,
  recordingLog,
  TestClient,
  type TestUpstream,
  useServiceTest,
  webPubSubClientUrl,
  webPubSubEventsTo,
  webPubSubHub,
} from '../support/local-service.js';
import { SignalRRawClient } from '../support/signalr-raw-client.js';

const { upstream, service, defer } = useServiceTest();

const FLOODERS = 4;
const MESSAGES_EACH = 12;
const DROPPED = 'Dropped client messages queued for the upstream';

/**
 * An upstream that holds every call `held` matches until `open()`, and answers everything else at once
 * (Web PubSub's abuse-protection handshake allowed).
 */
async function gatedUpstream(held: (call: RecordedCall) => boolean) {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  defer(() => open());
  const up = await upstream(async (call) => {
    if (call.method === 'OPTIONS') return { headers: { 'WebHook-Allowed-Origin': '*' } };
    if (held(call)) await gate;
    return { status: 200 };
  });
  return { up, open };
}

/** Resolves once `done` holds, checking every 20 ms (the test's timeout bounds it). */
async function until(done: () => Promise<boolean>): Promise<void> {
  while (!(await done())) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Resolves once the service has no connection of any of `users` (it has seen their closes). */
function untilGone(userExists: (user: string) => Promise<boolean>, users: readonly string[]): Promise<void> {
  return until(async () => !(await Promise.all(users.map(userExists))).some(Boolean));
}

const flooders = Array.from({ length: FLOODERS }, (_, i) => `flood-${i}`);

/** The drops the service logged, per connection. */
function droppedCounts(log: ReturnType<typeof recordingLog>): number[] {
  return log.entries.filter((e) => e.message.startsWith(DROPPED)).map((e) => Number(e.fields?.dropped));
}

/** The flood's calls: every call of `event` from a user whose id starts `flood`. */
function floodCalls(up: TestUpstream, event: string): RecordedCall[] {
  const userOf = (call: RecordedCall) =>
    String(call.headers['x-asrs-user-id'] ?? call.headers['ce-userid'] ?? '');
  return up.calls.filter((call) => call.event === event && userOf(call).startsWith('flood'));
}

describe('a connection that closes with messages queued for the upstream', () => {
  it('SignalR: drops its queued invocations, logs how many, and still sends its disconnected', async () => {
    const { up, open } = await gatedUpstream((call) => call.event === 'search');
    const log = recordingLog();
    const svc: RunningService = await service({ upstream: `${up.url}/api/{event}`, log: log.log });
    const flood = await Promise.all(flooders.map((user) => SignalRRawClient.open(svc.url, 'chat', user)));
    const calm = await SignalRRawClient.open(svc.url, 'chat', 'calm');
    defer(() => calm.close());
    for (const client of flood) {
      for (let k = 0; k < MESSAGES_EACH; k++) {
        const invocationId = `${k}`;
        client.send({ type: HubMessageType.Invocation, target: 'search', arguments: [k], invocationId });
      }
    }
    // One call per connection is at the upstream (held); the rest wait in the connection's queue.
    await up.waitFor((call) => call.event === 'search', FLOODERS);
    await Promise.all(flood.map((client) => client.close()));
    const connection = parseConnectionString(devSignalRConnectionString(svc.url));
    const rest = new HubClient({ connection, hub: 'chat' });
    await untilGone((user) => rest.userExists(user), flooders);

    open();
    await up.waitFor((call) => call.event === 'disconnected', FLOODERS);
    // Nothing of theirs ran after they left: only the calls already at the upstream when they closed.
    expect(floodCalls(up, 'search')).toHaveLength(FLOODERS);
    expect(droppedCounts(log)).toEqual(Array(FLOODERS).fill(MESSAGES_EACH - 1));
    calm.send({ type: HubMessageType.Invocation, target: 'hello', arguments: [], invocationId: 'c1' });
    const answer = await calm.next((m) => m.type === HubMessageType.Completion);
    expect(answer).toMatchObject({ invocationId: 'c1' });
    expect(log.text()).not.toContain('access_token');
  });

  it('Web PubSub: drops the queued messages of a plain WebSocket and the queued events of a JSON client', async () => {
    const { up, open } = await gatedUpstream((call) => call.event === 'message');
    const log = recordingLog();
    const svc = await service({ ...webPubSubEventsTo(up), log: log.log });
    const clients: TestClient[] = [];
    for (const [i, user] of flooders.entries()) {
      // Half plain WebSockets (each frame a `message` event), half JSON clients sending `event` messages.
      const json = i % 2 === 1;
      const client = new TestClient(
        await webPubSubClientUrl(svc, user),
        json ? 'json.webpubsub.azure.v1' : undefined,
      );
      await client.opened;
      defer(() => client.close());
      clients.push(client);
      for (let k = 0; k < MESSAGES_EACH; k++) {
        const event = { type: 'event', event: 'message', dataType: 'text', data: `${k}`, ackId: k + 1 };
        client.ws.send(json ? JSON.stringify(event) : `message ${k}`);
      }
    }
    await up.waitFor((call) => call.event === 'message', FLOODERS);
    await Promise.all(clients.map((client) => client.close()));
    const hub = webPubSubHub(svc);
    await untilGone((user) => hub.userExists(user), flooders);

    open();
    await up.waitFor((call) => call.event === 'disconnected', FLOODERS);
    expect(floodCalls(up, 'message')).toHaveLength(FLOODERS);
    expect(droppedCounts(log)).toEqual(Array(FLOODERS).fill(MESSAGES_EACH - 1));
  });
});
