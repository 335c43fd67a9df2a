/**
 * Every transport's connect counts against the same two connect limits, per address and per user
 * (docs/local-service.md, "Connections"): a SignalR connect over WebSockets, Server-Sent Events or Long Polling
 * with one client token presented again and again (a token stays valid for its hour), a WebSocket that skipped
 * negotiation, a Web PubSub connect, and a Web PubSub recovery. Each storm gets exactly the burst, then 429 with
 * `Retry-After` and the names of the options; no assertion is on time.
 */
import { once } from 'node:events';
import { type IncomingMessage, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { clientUrl, createClientToken } from '../../src/lib/signalr/tokens.js';
import type { RunningService, ServiceOptions } from '../../src/local/service/index.js';
import { http, PRIMARY_KEY, useServiceTest, webPubSubClientUrl } from '../support/local-service.js';

const { service } = useServiceTest();

/** What one connect attempt got: its status (200 or 101 when the connection opened) and the refusal's body. */
interface Outcome {
  readonly status: number;
  readonly text: string;
}

/**
 * A WebSocket upgrade: 101 once open, else the refusal the service answered. An open one is closed at once, or
 * with `closedBy: 'service'` waited for until the service closes it (and its close code given).
 */
async function upgrade(
  url: string,
  { closedBy = 'client' }: { closedBy?: 'client' | 'service' } = {},
): Promise<Outcome & { closeCode?: number }> {
  const ws = new WebSocket(url);
  ws.on('error', () => {});
  const result = await Promise.race([
    once(ws, 'open').then(() => ({ status: 101, text: '' })),
    once(ws, 'unexpected-response').then(async ([, res]) => {
      const chunks: Buffer[] = [];
      for await (const chunk of res as IncomingMessage) chunks.push(chunk as Buffer);
      return {
        status: (res as IncomingMessage).statusCode ?? 0,
        text: Buffer.concat(chunks).toString('utf8'),
      };
    }),
  ]);
  if (result.status !== 101) return result;
  if (closedBy === 'client') {
    ws.close();
    return result;
  }
  const [code] = (await once(ws, 'close')) as [number];
  return { ...result, closeCode: code };
}

/** A client token for `userId`, made once and presented for every connect. */
function tokenOf(svc: RunningService, userId: string): Promise<string> {
  return createClientToken(PRIMARY_KEY, clientUrl(svc.url, 'chat'), { userId });
}

/** `POST /client/negotiate`: the connection token, or the refusal. */
async function negotiate(svc: RunningService, token: string): Promise<Outcome & { id?: string }> {
  const res = await http('POST', `${svc.url}/client/negotiate?hub=chat&negotiateVersion=1`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (res.status !== 200) return res;
  return { ...res, id: (JSON.parse(res.text) as { connectionToken: string }).connectionToken };
}

/** One connect over a transport as `userId`, presenting the same token each time. */
type Connect = (svc: RunningService, userId: string) => Promise<Outcome>;

const tokens = new Map<string, Promise<string>>();
const tokenFor = (svc: RunningService, userId: string) => {
  const key = `${svc.url} ${userId}`;
  if (!tokens.has(key)) tokens.set(key, tokenOf(svc, userId));
  return tokens.get(key) as Promise<string>;
};

const TRANSPORTS: readonly (readonly [string, Connect])[] = [
  [
    'SignalR over WebSockets',
    async (svc, userId) => {
      const token = await tokenFor(svc, userId);
      const n = await negotiate(svc, token);
      if (n.id === undefined) return n;
      const ws = new WebSocket(
        `${svc.url.replace('http', 'ws')}/client/?hub=chat&id=${n.id}&access_token=${token}`,
      );
      ws.on('error', () => {});
      await once(ws, 'open');
      ws.close();
      return { status: 101, text: '' };
    },
  ],
  [
    'SignalR over Server-Sent Events',
    async (svc, userId) => {
      const token = await tokenFor(svc, userId);
      const n = await negotiate(svc, token);
      if (n.id === undefined) return n;
      const req = request(`${svc.url}/client/?hub=chat&id=${n.id}&access_token=${token}`, {
        headers: { Accept: 'text/event-stream' },
      });
      req.end();
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      // Dropped at once, as the storm does.
      req.destroy();
      return { status: res.statusCode ?? 0, text: '' };
    },
  ],
  [
    'SignalR over Long Polling',
    async (svc, userId) => {
      const token = await tokenFor(svc, userId);
      const n = await negotiate(svc, token);
      if (n.id === undefined) return n;
      const url = `${svc.url}/client/?hub=chat&id=${n.id}`;
      const auth = { Authorization: `Bearer ${token}` };
      const poll = await http('GET', url, { headers: auth });
      await http('DELETE', url, { headers: auth });
      return poll;
    },
  ],
  [
    'SignalR over a WebSocket without negotiate',
    async (svc, userId) => {
      const token = await tokenFor(svc, userId);
      return upgrade(`${svc.url.replace('http', 'ws')}/client/?hub=chat&access_token=${token}`);
    },
  ],
  [
    'Web PubSub',
    async (svc, userId) => {
      const key = `${svc.url} wps ${userId}`;
      if (!tokens.has(key)) tokens.set(key, webPubSubClientUrl(svc, userId));
      const url = (await tokens.get(key)) as string;
      return upgrade(url.replace('localhost', '127.0.0.1'));
    },
  ],
];

const accepted = (o: Outcome) => o.status === 200 || o.status === 101;

/** Connects over `connect` as `userId` until refused, at most `most` times; returns every outcome. */
async function storm(
  svc: RunningService,
  connect: Connect,
  userId: string,
  most: number,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (let i = 0; i < most; i++) {
    const outcome = await connect(svc, userId);
    outcomes.push(outcome);
    if (!accepted(outcome)) break;
  }
  return outcomes;
}

/** A service whose connect limit of one kind is a burst of 3 that does not refill within a test. */
async function limited(kind: 'address' | 'user'): Promise<RunningService> {
  const options: ServiceOptions =
    kind === 'address'
      ? { connectBurstPerAddress: 3, connectsPerSecondPerAddress: 0.001 }
      : { connectBurstPerUser: 3, connectsPerSecondPerUser: 0.001 };
  return service(options);
}

describe('connect limits over every transport', () => {
  for (const [name, connect] of TRANSPORTS) {
    it(`refuses a storm of connects over ${name} from one address past its burst`, async () => {
      const svc = await limited('address');
      // A new user each time: only the address is limited.
      const outcomes: Outcome[] = [];
      for (let i = 0; i < 5 && outcomes.every(accepted); i++) outcomes.push(await connect(svc, `u${i}`));
      expect(outcomes.map((o) => accepted(o))).toEqual([true, true, true, false]);
      const refused = outcomes.at(-1) as Outcome;
      expect(refused.status).toBe(429);
      expect(JSON.parse(refused.text)).toEqual({
        code: 'too-many-requests',
        message: expect.stringContaining('connectBurstPerAddress, connectsPerSecondPerAddress'),
      });
    });

    it(`refuses a storm of connects over ${name} by one user past their burst, and serves another user`, async () => {
      const svc = await limited('user');
      const outcomes = await storm(svc, connect, 'storm', 5);
      expect(outcomes.map((o) => accepted(o))).toEqual([true, true, true, false]);
      expect(outcomes.at(-1)?.status).toBe(429);
      expect(JSON.parse(outcomes.at(-1)?.text ?? '{}').message).toContain(
        'connectBurstPerUser, connectsPerSecondPerUser',
      );
      expect(accepted(await connect(svc, 'calm'))).toBe(true);
    });
  }

  it('counts Web PubSub recoveries against the address, made-up connection ids included', async () => {
    const svc = await limited('address');
    const recover = (i: number) =>
      upgrade(
        `${svc.url.replace('http', 'ws')}/client/hubs/chat?awps_connection_id=made-up-${i}&awps_reconnection_token=x`,
        { closedBy: 'service' },
      );
    const outcomes = [await recover(0), await recover(1), await recover(2), await recover(3)];
    // Each of the burst is upgraded and then told it cannot recover (1008); the next is refused before it.
    expect(outcomes.map((o) => [o.status, (o as { closeCode?: number }).closeCode])).toEqual([
      [101, 1008],
      [101, 1008],
      [101, 1008],
      [429, undefined],
    ]);
    expect(JSON.parse((outcomes[3] as Outcome).text).message).toContain('connectBurstPerAddress');
  });
});
