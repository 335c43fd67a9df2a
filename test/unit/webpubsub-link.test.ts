/**
 * The page's Web PubSub link (static/link/webpubsub-link.js) in Node, against a loopback server that answers with the
 * frames Learn's "Azure Web PubSub supported reliable JSON WebSocket subprotocol" page gives (the known answers:
 * `connected` with `reconnectionToken`, `message` with `sequenceId`, `ack` with `Duplicate`, recovery by
 * `awps_connection_id` + `awps_reconnection_token`). The service is Azure's, so it is the one part scripted here;
 * the browser test runs the same link against the local service's Web PubSub wing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type WebSocket as ServerSocket, WebSocket, WebSocketServer } from 'ws';

type LinkState = { status: string; resumed: boolean; recovering?: boolean; refusal?: unknown };
type Link = { send(command: string, payload: object): Promise<void>; stop(): Promise<void> };
type LinkModule = {
  connectWebPubSub(
    config: { user: string; apiBase: string },
    handlers: { onEvent: (type: string, payload: unknown) => void; onState: (state: LinkState) => void },
  ): Link;
  chatEventOf(data: unknown): { type: string; payload: Record<string, unknown> } | null;
  RELIABLE_SUBPROTOCOL: string;
};

let link: LinkModule;
beforeAll(async () => {
  // The page runs in a browser; in Node 20 `ws` stands in for its WebSocket (same events, same readyState). A
  // browser's `error` event never throws when nobody listens (closing a socket that is still connecting fires
  // one); an EventEmitter's does, so the stand-in listens.
  class BrowserWebSocket extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      this.on('error', () => undefined);
    }
  }
  (globalThis as { WebSocket?: unknown }).WebSocket ??= BrowserWebSocket;
  link = (await import(new URL('../../static/link/webpubsub-link.js', import.meta.url).href)) as LinkModule;
});

/** A scripted Web PubSub endpoint: negotiate at /api/negotiate, clients at /client/hubs/chat. */
async function startService() {
  const sockets: ServerSocket[] = [];
  const urls: URL[] = [];
  const received: Array<Record<string, unknown>> = [];
  let negotiates = 0;
  const negotiated: string[] = [];
  const requestedWith: Array<string | undefined> = [];
  /** While set, negotiate answers this refusal instead of a URL. */
  let refusal: { status: number; type: string; body: string } | null = null;
  /** While set, a socket's upgrade waits for it. */
  let held: { until: Promise<void>; release: () => void } | null = null;
  const http: Server = createServer((req, res) => {
    negotiates += 1;
    negotiated.push(`${req.method} ${req.url}`);
    requestedWith.push(req.headers['x-requested-with'] as string | undefined);
    if (refusal) {
      res.writeHead(refusal.status, { 'content-type': refusal.type });
      res.end(refusal.body);
      return;
    }
    const { port } = http.address() as AddressInfo;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: `ws://127.0.0.1:${port}/client/hubs/chat?access_token=t${negotiates}` }));
  });
  const wss = new WebSocketServer({
    server: http,
    verifyClient: (_info, done) => {
      if (held) void held.until.then(() => done(true));
      else done(true);
    },
    handleProtocols: (protocols) =>
      protocols.has(link.RELIABLE_SUBPROTOCOL) ? link.RELIABLE_SUBPROTOCOL : false,
  });
  wss.on('connection', (socket, req) => {
    sockets.push(socket);
    urls.push(new URL(req.url ?? '/', 'ws://127.0.0.1'));
    socket.on('message', (data) => received.push(JSON.parse(String(data)) as Record<string, unknown>));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    apiBase: `http://127.0.0.1:${port}/api`,
    sockets,
    urls,
    received,
    negotiates: () => negotiates,
    negotiated,
    requestedWith,
    refuse(next: typeof refusal) {
      refusal = next;
    },
    /** Holds every socket's upgrade until {@link release}. */
    hold() {
      let release: () => void = () => undefined;
      const until = new Promise<void>((resolve) => {
        release = resolve;
      });
      held = { until, release };
    },
    release() {
      held?.release();
      held = null;
    },
    async close() {
      for (const socket of wss.clients) socket.terminate();
      wss.close();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

type Service = Awaited<ReturnType<typeof startService>>;
let service: Service | undefined;
let open: Link | undefined;
afterEach(async () => {
  await open?.stop();
  await service?.close();
  open = undefined;
  service = undefined;
});

const until = async (check: () => boolean, what: string, ms = 5000) => {
  for (let i = 0; i < ms / 25 && !check(); i += 1) await new Promise((r) => setTimeout(r, 25));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
};

async function connected() {
  service = await startService();
  const events: Array<[string, unknown]> = [];
  const states: LinkState[] = [];
  open = link.connectWebPubSub(
    { user: 'wes', apiBase: service.apiBase },
    { onEvent: (type, payload) => events.push([type, payload]), onState: (s) => states.push(s) },
  );
  const s = service;
  await until(() => s.sockets.length === 1, 'the first socket');
  s.sockets[0]?.send(
    JSON.stringify({
      type: 'system',
      event: 'connected',
      userId: 'wes',
      connectionId: 'conn1',
      reconnectionToken: 'token1',
    }),
  );
  await until(() => states.some((st) => st.status === 'connected'), 'connected');
  return { service: s, link: open, events, states };
}

const serverMessage = (sequenceId: number, frame: object) =>
  JSON.stringify({
    type: 'message',
    from: 'server',
    dataType: 'text',
    data: JSON.stringify(frame),
    sequenceId,
  });

describe('the page’s Web PubSub link', () => {
  it('reads a chat event from text or JSON data, and nothing from anything else', () => {
    expect(link.chatEventOf('{"type":"ack","clientMessageId":"c1"}')).toEqual({
      type: 'ack',
      payload: { clientMessageId: 'c1' },
    });
    expect(link.chatEventOf({ type: 'welcome', user: 'wes' })).toEqual({
      type: 'welcome',
      payload: { user: 'wes' },
    });
    expect(link.chatEventOf('not json')).toBeNull();
    expect(link.chatEventOf('{"no":"type"}')).toBeNull();
    expect(link.chatEventOf(null)).toBeNull();
  });

  it('sends a command as a JSON user event with an ackId, settled by the service’s ack (Duplicate counts as done)', async () => {
    const { service: s, link: l } = await connected();
    const first = l.send('sendMessage', { text: 'hi', clientMessageId: 'c1' });
    const second = l.send('joinGroup', { group: 'g' });
    const third = l.send('sendMessage', { text: 'no' });
    await until(() => s.received.filter((f) => f.type === 'event').length === 3, 'three events');
    const events = s.received.filter((f) => f.type === 'event');
    expect(events[0]).toEqual({
      type: 'event',
      event: 'message',
      dataType: 'json',
      data: { text: 'hi', clientMessageId: 'c1', type: 'sendMessage' },
      ackId: 1,
    });
    const socket = s.sockets[0];
    socket?.send(JSON.stringify({ type: 'ack', ackId: 1, success: true }));
    socket?.send(
      JSON.stringify({ type: 'ack', ackId: 2, success: false, error: { name: 'Duplicate', message: 'dup' } }),
    );
    socket?.send(
      JSON.stringify({ type: 'ack', ackId: 3, success: false, error: { name: 'Forbidden', message: 'no' } }),
    );
    await expect(first).resolves.toBeUndefined();
    await expect(second).resolves.toBeUndefined();
    await expect(third).rejects.toThrow('no');
  });

  it('hands each sequenced message to the page once and acknowledges the newest sequenceId', async () => {
    const { service: s, events } = await connected();
    const socket = s.sockets[0];
    socket?.send(serverMessage(1, { type: 'message', id: 'm1' }));
    socket?.send(serverMessage(2, { type: 'message', id: 'm2' }));
    socket?.send(serverMessage(2, { type: 'message', id: 'm2' }));
    await until(() => s.received.some((f) => f.type === 'sequenceAck'), 'a sequenceAck');
    expect(events.map(([type, payload]) => `${type}:${(payload as { id: string }).id}`)).toEqual([
      'message:m1',
      'message:m2',
    ]);
    expect(s.received.filter((f) => f.type === 'sequenceAck')).toEqual([
      { type: 'sequenceAck', sequenceId: 2 },
    ]);
  });

  it('resumes a dropped socket as the same connection: the unacknowledged command again, resent messages once', async () => {
    const { service: s, link: l, events, states } = await connected();
    s.sockets[0]?.send(serverMessage(1, { type: 'message', id: 'm1' }));
    await until(() => events.length === 1, 'm1');
    const pending = l.send('sendMessage', { text: 'lost?', clientMessageId: 'c9' });
    await until(() => s.received.some((f) => f.type === 'event'), 'the event');
    s.sockets[0]?.terminate(); // no close frame: a dropped network

    await until(() => s.sockets.length === 2, 'the recovery socket');
    const recovery = s.urls[1];
    expect(recovery?.pathname).toBe('/client/hubs/chat');
    expect(recovery?.searchParams.get('awps_connection_id')).toBe('conn1');
    expect(recovery?.searchParams.get('awps_reconnection_token')).toBe('token1');
    expect(recovery?.searchParams.get('access_token')).toBe('t1');
    expect(s.negotiated).toEqual(['POST /api/negotiate?name=wes&service=webpubsub']);
    await until(() => s.received.filter((f) => f.type === 'event').length === 2, 'the resent event');
    const [sent, resent] = s.received.filter((f) => f.type === 'event');
    expect(resent).toEqual(sent);
    // The service resends what was not acknowledged: the page keeps one copy.
    const socket = s.sockets[1];
    socket?.send(serverMessage(1, { type: 'message', id: 'm1' }));
    socket?.send(serverMessage(2, { type: 'message', id: 'm2' }));
    socket?.send(JSON.stringify({ type: 'ack', ackId: 1, success: false, error: { name: 'Duplicate' } }));
    await expect(pending).resolves.toBeUndefined();
    await until(() => events.length === 2, 'm2');
    expect(events.map(([, p]) => (p as { id: string }).id)).toEqual(['m1', 'm2']);
    // The page saw a recovery, not a lost connection.
    const after = states.slice(states.findIndex((st) => st.status === 'connected') + 1);
    expect(after[0]).toMatchObject({ status: 'reconnecting', recovering: true });
    expect(after.at(-1)).toMatchObject({ status: 'connected', resumed: false });
  });

  it('pings in the subprotocol and takes a socket that stays silent for a dead one, resuming the connection', async () => {
    const { service: s, states } = await connected();
    const since = Date.now();
    // The scripted service answers nothing, not even `pong`, and keeps the socket open: a network gone silent.
    await until(() => s.received.some((f) => f.type === 'ping'), 'a ping', 5000);
    await until(() => s.sockets.length === 2, 'the recovery socket', 10_000);
    expect(Date.now() - since).toBeLessThan(10_000);
    expect(s.urls[1]?.searchParams.get('awps_connection_id')).toBe('conn1');
    expect(states.some((st) => st.status === 'reconnecting' && st.recovering === true)).toBe(true);
    expect(s.received.filter((f) => f.type === 'ping').length).toBeGreaterThanOrEqual(2);
  }, 15_000);

  it('sends nothing once stopped, not even over a socket that was being resumed when it stopped', async () => {
    const { service: s, link: l, states } = await connected();
    s.hold();
    s.sockets[0]?.terminate();
    await until(() => states.at(-1)?.recovering === true, 'the recovery under way');
    await l.stop();
    await expect(
      l.send('sendMessage', { text: 'as whoever was signed in', clientMessageId: 'c7' }),
    ).rejects.toThrow('Not connected');
    s.release();
    await until(() => s.sockets.length === 2, 'the held socket');
    await until(() => s.sockets[1]?.readyState === WebSocket.CLOSED, 'the held socket closed by the page');
    expect(s.received.filter((f) => f.type === 'event')).toEqual([]);
    expect(states.at(-1)).toMatchObject({ status: 'reconnecting', recovering: true });
  });

  it('opens a new connection after the service says disconnected: commands fail back, the page catches up', async () => {
    const { service: s, link: l, states } = await connected();
    const pending = l.send('sendMessage', { text: 'x' });
    await until(() => s.received.some((f) => f.type === 'event'), 'the event');
    s.sockets[0]?.send(
      JSON.stringify({ type: 'system', event: 'disconnected', message: 'closed by the app' }),
    );
    s.sockets[0]?.close(1000);
    await expect(pending).rejects.toThrow('lost');
    await until(() => s.sockets.length === 2, 'a new socket');
    expect(s.urls[1]?.searchParams.has('awps_connection_id')).toBe(false);
    expect(s.negotiates()).toBe(2);
    await until(() => states.at(-1)?.status === 'connected', 'connected again');
    expect(states.at(-1)).toMatchObject({ status: 'connected', resumed: true });
  });

  it('stops for good when negotiate refuses a ban after the service disconnects it: no retry, the reason said', async () => {
    const { service: s, states } = await connected();
    s.refuse({
      status: 403,
      type: 'application/json',
      body: JSON.stringify({ code: 'banned', message: 'A moderator has banned you (spam)', reason: 'spam' }),
    });
    const before = states.length;
    s.sockets[0]?.send(JSON.stringify({ type: 'system', event: 'disconnected', message: 'banned' }));
    s.sockets[0]?.close(1000);
    await until(() => states.at(-1)?.status === 'refused', 'refused');
    expect(states.at(-1)?.refusal).toEqual({
      kind: 'banned',
      reason: 'spam',
      message: 'A moderator has banned you (spam)',
    });
    // The first try after the loss was refused: no countdown to another one.
    expect(states.slice(before).map((st) => st.status)).toEqual(['reconnecting', 'refused']);
    expect(s.negotiates()).toBe(2);
  });

  it('stops when negotiate answers 401 (signed out), asking as XMLHttpRequest so the platform does not redirect', async () => {
    service = await startService();
    service.refuse({
      status: 401,
      type: 'text/plain',
      body: 'Not signed in: open /.auth/login/aad, then try again',
    });
    const states: LinkState[] = [];
    open = link.connectWebPubSub(
      { user: 'wes', apiBase: service.apiBase },
      { onEvent: () => undefined, onState: (st) => states.push(st) },
    );
    await until(() => states.at(-1)?.status === 'refused', 'refused');
    expect(states.map((st) => st.status)).toEqual(['connecting', 'refused']);
    expect(states.at(-1)?.refusal).toEqual({
      kind: 'signed-out',
      message: 'Not signed in: open /.auth/login/aad, then try again',
    });
    expect(service.requestedWith).toEqual(['XMLHttpRequest']);
  });
});
