/**
 * Lean bench clients for the three kinds of server: the service's websocket dialect (raw frames), its
 * signalr dialect (negotiate + JSON hub protocol, written out here rather than with `@microsoft/signalr`'s
 * HubConnection so that 1 000 clients in one process measure the server, not the client library) and the
 * bare `ws` baseline (raw frames). Used only inside the load-generator children.
 */
import WebSocket from 'ws';
import { clientUrl, createClientToken } from '../src/lib/signalr/tokens.js';

/** Where a load generator connects. */
export type Target =
  /** The bare `ws` baseline: raw frames on `url` (http://…). */
  | { kind: 'bare'; url: string }
  /** The local service; `endpoint` is its http:// origin, `accessKey` signs client tokens. */
  | { kind: 'websocket' | 'signalr'; endpoint: string; hub: string; accessKey: string }
  /** A ready-made client URL (e.g. from the chat's negotiate): raw frames or hub protocol. */
  | { kind: 'negotiated'; dialect: 'websocket' | 'signalr'; url: string; accessToken: string };

/** A frame delivered to a client: raw text, or one hub-protocol invocation/completion. */
export type Incoming =
  | { kind: 'text'; text: string }
  | { kind: 'invocation'; target: string; argument: unknown }
  | { kind: 'completion'; invocationId: string; result?: unknown; error?: string };

/** One connected bench client. */
export interface BenchConnection {
  readonly socket: WebSocket;
  /** Raw dialects: sends `text` as a text frame. signalr: invokes `target` with `text` as its one argument. */
  send(text: string, options?: { target?: string; invocationId?: string }): void;
  /** Sends a hub-protocol invocation with one object argument (signalr), or `{type: target, ...arg}` (raw). */
  command(target: string, argument: Record<string, unknown>): void;
  close(): void;
}

/** The JSON hub protocol's record separator. */
const RS = '\x1e';

/** Opens one client of `target` as user `userId` and resolves once it can send and receive. */
export async function connect(
  target: Target,
  userId: string,
  onMessage: (message: Incoming) => void,
): Promise<BenchConnection> {
  if (target.kind === 'bare') return openRaw(toWs(target.url), onMessage);
  if (target.kind === 'negotiated') {
    if (target.dialect === 'websocket') {
      const url = new URL(target.url);
      if (!url.searchParams.has('access_token')) url.searchParams.set('access_token', target.accessToken);
      return openRaw(url.toString(), onMessage);
    }
    return openSignalR(target.url, target.accessToken, onMessage);
  }
  const audience = clientUrl(target.endpoint, target.hub, target.kind);
  const token = await createClientToken(target.accessKey, audience, { userId });
  if (target.kind === 'websocket')
    return openRaw(`${toWs(audience)}?access_token=${encodeURIComponent(token)}`, onMessage);
  return openSignalR(audience, token, onMessage);
}

function toWs(url: string): string {
  return url.replace(/^http/, 'ws');
}

function opened(socket: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) =>
      reject(new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`)),
    );
  });
}

async function openRaw(url: string, onMessage: (message: Incoming) => void): Promise<BenchConnection> {
  const socket = new WebSocket(url, { perMessageDeflate: false });
  socket.on('message', (data, isBinary) => {
    if (!isBinary) onMessage({ kind: 'text', text: data.toString() });
  });
  await opened(socket);
  socket.on('error', () => {}); // a reset during teardown is not a bench failure
  return {
    socket,
    send: (text) => socket.send(text),
    command: (target, argument) => socket.send(JSON.stringify({ type: target, ...argument })),
    close: () => socket.terminate(),
  };
}

/**
 * The signalr dialect: negotiate at `{endpoint}/client/negotiate?hub=…&negotiateVersion=1` with the token,
 * connect to `/client/?hub=…&id={connectionToken}&access_token=…`, then the JSON protocol handshake.
 */
async function openSignalR(
  clientAddress: string,
  token: string,
  onMessage: (message: Incoming) => void,
): Promise<BenchConnection> {
  const address = new URL(clientAddress);
  const negotiateUrl = new URL(address);
  negotiateUrl.pathname = `${address.pathname.replace(/\/+$/, '')}/negotiate`;
  negotiateUrl.searchParams.set('negotiateVersion', '1');
  const response = await fetch(negotiateUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(`negotiate failed: HTTP ${response.status} ${await response.text()}`);
  const negotiated = (await response.json()) as { connectionToken?: string; connectionId?: string };
  const wsUrl = new URL(address);
  wsUrl.protocol = wsUrl.protocol.replace('http', 'ws');
  wsUrl.searchParams.set('id', negotiated.connectionToken ?? negotiated.connectionId ?? '');
  wsUrl.searchParams.set('access_token', token);

  const socket = new WebSocket(wsUrl, { perMessageDeflate: false });
  let handshaken = false;
  let handshake: (() => void) | undefined;
  let pending = '';
  socket.on('message', (data) => {
    pending += data.toString();
    let end = pending.indexOf(RS);
    while (end >= 0) {
      const record = pending.slice(0, end);
      pending = pending.slice(end + 1);
      end = pending.indexOf(RS);
      if (!handshaken) {
        handshaken = true;
        handshake?.();
        continue;
      }
      const message = JSON.parse(record) as {
        type: number;
        target?: string;
        arguments?: unknown[];
        invocationId?: string;
        result?: unknown;
        error?: string;
      };
      if (message.type === 1 && message.target !== undefined)
        onMessage({ kind: 'invocation', target: message.target, argument: message.arguments?.[0] });
      else if (message.type === 3 && message.invocationId !== undefined)
        onMessage({
          kind: 'completion',
          invocationId: message.invocationId,
          result: message.result,
          ...(message.error !== undefined ? { error: message.error } : {}),
        });
      else if (message.type === 7) socket.close();
    }
  });
  await opened(socket);
  socket.on('error', () => {});
  const handshakeDone = new Promise<void>((resolve, reject) => {
    handshake = resolve;
    socket.once('close', (code) => reject(new Error(`closed during handshake (${code})`)));
  });
  socket.send(`{"protocol":"json","version":1}${RS}`);
  await handshakeDone;
  const invoke = (target: string, argument: unknown, invocationId?: string) =>
    socket.send(
      JSON.stringify({ type: 1, ...(invocationId ? { invocationId } : {}), target, arguments: [argument] }) +
        RS,
    );
  return {
    socket,
    send: (text, options = {}) => invoke(options.target ?? 'send', text, options.invocationId),
    command: (target, argument) => invoke(target, argument),
    close: () => socket.terminate(),
  };
}

/** Opens `count` clients, `concurrency` handshakes at a time (a burst of 1 000 SYNs overflows the backlog). */
export async function connectMany(
  count: number,
  concurrency: number,
  open: (index: number) => Promise<BenchConnection>,
): Promise<BenchConnection[]> {
  const connections: BenchConnection[] = new Array(count);
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < count) {
      const index = nextIndex++;
      connections[index] = await open(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return connections;
}
