/**
 * Lean bench clients for the three kinds of server: the service's SignalR wing (negotiate + JSON hub protocol,
 * written out here rather than with `@microsoft/signalr`'s HubConnection so that 1 000 clients in one process
 * measure the server, not the client library), its Web PubSub wing (bench/webpubsub-client.ts) and the bare
 * `ws` baseline (raw frames). Used only inside the load-generator children.
 */
import { Agent, get, type IncomingMessage, request } from 'node:http';
import { type HubMessage, MessageType, NullLogger } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import WebSocket from 'ws';
import { HubMessageType } from '../src/lib/signalr/hub-protocol.js';
import { createClientToken } from '../src/lib/signalr/tokens.js';
import { httpPost } from './net.js';
import { openWebPubSub, type WebPubSubFraming } from './webpubsub-client.js';

/** Where a load generator connects. */
export type Target =
  /** The bare `ws` baseline: raw frames on `url` (http://…). */
  | { kind: 'bare'; url: string }
  /** The local service's SignalR wing; `endpoint` is its http:// origin, `accessKey` signs client tokens. */
  | {
      kind: 'signalr';
      endpoint: string;
      hub: string;
      accessKey: string;
      /** signalr only: the hub protocol (default json) and the transport (default WebSockets). */
      protocol?: 'json' | 'messagepack';
      transport?: 'websockets' | 'sse';
    }
  /** The local service's Web PubSub wing at `/client/hubs/{hub}`; `accessKey` is the wing's key. */
  | { kind: 'webpubsub'; endpoint: string; hub: string; accessKey: string; framing?: WebPubSubFraming }
  /** The bare baseline's event stream: `GET {url}/events` (Server-Sent Events, one event per message). */
  | { kind: 'bare-sse'; url: string }
  /** A ready-made client URL (from the chat's negotiate): SignalR's hub protocol or Web PubSub's reliable JSON. */
  | { kind: 'negotiated'; service: 'signalr' | 'webpubsub'; url: string; accessToken: string };

/** A frame delivered to a client: raw text, or one hub-protocol invocation/completion. */
export type Incoming =
  | { kind: 'text'; text: string }
  | { kind: 'invocation'; target: string; argument: unknown }
  | { kind: 'completion'; invocationId: string; result?: unknown; error?: string };

/** One connected bench client. */
export interface BenchConnection {
  /** The WebSocket, for clients that have one (not Server-Sent Events). */
  readonly socket?: WebSocket;
  /**
   * Raw: sends `text` as a text frame. signalr: invokes `target` with `text` as its one argument. webpubsub: the
   * user event `target` (default `message`) with `text` as its data.
   */
  send(text: string, options?: { target?: string; invocationId?: string }): void;
  /**
   * Sends a hub-protocol invocation with one object argument (signalr), the user event `message` with
   * `{type: target, ...arg}` as JSON data (webpubsub), or `{type: target, ...arg}` as a frame (raw).
   */
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
  if (target.kind === 'bare-sse') return openBareSse(target.url, onMessage);
  if (target.kind === 'negotiated') {
    if (target.service === 'webpubsub') {
      // The page's link: the reliable subprotocol (static/link/webpubsub-link.js).
      const url = new URL(target.url);
      if (!url.searchParams.has('access_token')) url.searchParams.set('access_token', target.accessToken);
      return openWebPubSub(url.toString(), 'reliable', onMessage);
    }
    return openSignalR(target.url, target.accessToken, onMessage);
  }
  if (target.kind === 'webpubsub') {
    const audience = `${target.endpoint}/client/hubs/${encodeURIComponent(target.hub)}`;
    // Web PubSub names the user in `sub` (SignalR in `nameid`).
    const token = await createClientToken(target.accessKey, audience, { claims: { sub: userId } });
    return openWebPubSub(
      `${audience}?access_token=${encodeURIComponent(token)}`,
      target.framing ?? 'json',
      onMessage,
    );
  }
  // SignalR's client URL and token audience (Azure: `https://<name>.service.signalr.net/client/?hub=…`).
  const audience = `${target.endpoint.replace(/\/+$/, '')}/client/?hub=${encodeURIComponent(target.hub)}`;
  const token = await createClientToken(target.accessKey, audience, { userId });
  if (target.transport === 'sse') return openSignalRSse(audience, token, onMessage);
  if (target.protocol === 'messagepack') return openSignalRMessagePack(audience, token, onMessage);
  return openSignalR(audience, token, onMessage);
}

/** Keep-alive sockets for the POSTs of Server-Sent Events clients. */
const postAgent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One hub message of either protocol, as the bench sees it. */
function deliver(message: HubMessage, onMessage: (message: Incoming) => void): void {
  if (message.type === MessageType.Invocation)
    onMessage({ kind: 'invocation', target: message.target, argument: message.arguments[0] });
  else if (message.type === MessageType.Completion && message.invocationId !== undefined)
    onMessage({
      kind: 'completion',
      invocationId: message.invocationId,
      result: message.result,
      ...(message.error ? { error: message.error } : {}),
    });
}

/** Negotiates (v1) and returns the connection token. */
async function negotiate(address: URL, token: string): Promise<string> {
  const negotiateUrl = new URL(address);
  negotiateUrl.pathname = `${address.pathname.replace(/\/+$/, '')}/negotiate`;
  negotiateUrl.searchParams.set('negotiateVersion', '1');
  const answer = await httpPost(negotiateUrl, 'negotiate failed', {
    headers: { authorization: `Bearer ${token}` },
  });
  const negotiated = JSON.parse(answer) as { connectionToken?: string; connectionId?: string };
  return negotiated.connectionToken ?? negotiated.connectionId ?? '';
}

/**
 * SignalR with the MessagePack hub protocol over WebSockets, parsed by Microsoft's
 * implementation. The handshake is JSON text; a refusal (`{"error":…}`) rejects with the service's reason.
 */
async function openSignalRMessagePack(
  clientAddress: string,
  token: string,
  onMessage: (message: Incoming) => void,
): Promise<BenchConnection> {
  const address = new URL(clientAddress);
  const id = await negotiate(address, token);
  const wsUrl = new URL(address);
  wsUrl.protocol = wsUrl.protocol.replace('http', 'ws');
  wsUrl.searchParams.set('id', id);
  wsUrl.searchParams.set('access_token', token);
  const protocol = new MessagePackHubProtocol();
  const socket = new WebSocket(wsUrl, { perMessageDeflate: false });
  let handshake: ((error?: Error) => void) | undefined;
  let handshaken = false;
  socket.on('message', (data: Buffer) => {
    let bytes = data;
    if (!handshaken) {
      const end = data.indexOf(0x1e);
      if (end < 0) return;
      handshaken = true;
      const answer = JSON.parse(data.subarray(0, end).toString()) as { error?: string };
      handshake?.(answer.error ? new Error(`messagepack handshake refused: ${answer.error}`) : undefined);
      bytes = data.subarray(end + 1);
      if (bytes.length === 0) return;
    }
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
    for (const message of protocol.parseMessages(buffer, NullLogger.instance)) {
      if (message.type === MessageType.Close) socket.close();
      else deliver(message, onMessage);
    }
  });
  await opened(socket);
  socket.on('error', () => {});
  const handshakeDone = new Promise<void>((resolve, reject) => {
    handshake = (error) => (error ? reject(error) : resolve());
    socket.once('close', (code, reason) =>
      reject(new Error(`closed during handshake (${code} ${reason.toString()})`)),
    );
  });
  socket.send(`{"protocol":"messagepack","version":1}${RS}`);
  await handshakeDone;
  const invoke = (target: string, argument: unknown, invocationId?: string) =>
    socket.send(
      new Uint8Array(
        protocol.writeMessage({
          type: MessageType.Invocation,
          target,
          arguments: [argument],
          ...(invocationId ? { invocationId } : {}),
        } as HubMessage),
      ),
    );
  return {
    socket,
    send: (text, options = {}) => invoke(options.target ?? 'send', text, options.invocationId),
    command: (target, argument) => invoke(target, argument),
    close: () => socket.terminate(),
  };
}

/** Reads an event stream and hands each event's data (its `data:` lines joined by `\n`) to `onEvent`. */
function readEvents(response: IncomingMessage, onEvent: (data: string) => void): void {
  let pending = '';
  let data: string[] = [];
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    pending += chunk;
    let end = pending.indexOf('\n');
    while (end >= 0) {
      const line = pending.slice(0, end).replace(/\r$/, '');
      pending = pending.slice(end + 1);
      end = pending.indexOf('\n');
      if (line === '') {
        if (data.length > 0) onEvent(data.join('\n'));
        data = [];
      } else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
  });
  response.on('error', () => {});
}

/** Opens an event stream with `GET url` and resolves once the response has started. */
function openEventStream(url: URL, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`event stream refused: HTTP ${response.statusCode}`));
      } else resolve(response);
    });
    req.on('error', reject);
  });
}

/** POSTs `body` to `url` on a kept-alive socket; resolves with the status. */
function post(url: URL, body: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent: postAgent, headers: { 'content-type': 'text/plain', ...headers } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * SignalR over Server-Sent Events (JSON protocol): negotiate, open the event stream at
 * `/client/?hub=…&id=…`, then send the handshake and invocations with POSTs to the same URL.
 */
async function openSignalRSse(
  clientAddress: string,
  token: string,
  onMessage: (message: Incoming) => void,
): Promise<BenchConnection> {
  const address = new URL(clientAddress);
  const url = new URL(address);
  url.searchParams.set('id', await negotiate(address, token));
  const auth = { authorization: `Bearer ${token}` };
  const response = await openEventStream(url, auth);
  let handshaken = false;
  let handshake: (() => void) | undefined;
  readEvents(response, (data) => {
    for (const record of data.split(RS)) {
      if (record === '') continue;
      if (!handshaken) {
        handshaken = true;
        handshake?.();
        continue;
      }
      const message = JSON.parse(record) as HubMessage;
      deliver(message, onMessage);
    }
  });
  const handshakeDone = new Promise<void>((resolve, reject) => {
    handshake = resolve;
    response.once('close', () => reject(new Error('event stream closed during handshake')));
  });
  const status = await post(url, `{"protocol":"json","version":1}${RS}`, auth);
  if (status !== 200) throw new Error(`handshake POST: HTTP ${status}`);
  await handshakeDone;
  const invoke = (target: string, argument: unknown, invocationId?: string) =>
    void post(
      url,
      JSON.stringify({
        type: HubMessageType.Invocation,
        ...(invocationId ? { invocationId } : {}),
        target,
        arguments: [argument],
      }) + RS,
      auth,
    ).catch(() => {});
  return {
    send: (text, options = {}) => invoke(options.target ?? 'send', text, options.invocationId),
    command: (target, argument) => invoke(target, argument),
    close: () => response.destroy(),
  };
}

/** The bare baseline's event stream: every event is one message, as text. */
async function openBareSse(base: string, onMessage: (message: Incoming) => void): Promise<BenchConnection> {
  const response = await openEventStream(new URL('/events', base));
  readEvents(response, (text) => onMessage({ kind: 'text', text }));
  return {
    send: () => {},
    command: () => {},
    close: () => response.destroy(),
  };
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
 * SignalR: negotiate at `{endpoint}/client/negotiate?hub=…&negotiateVersion=1` with the token,
 * connect to `/client/?hub=…&id={connectionToken}&access_token=…`, then the JSON protocol handshake.
 */
async function openSignalR(
  clientAddress: string,
  token: string,
  onMessage: (message: Incoming) => void,
): Promise<BenchConnection> {
  const address = new URL(clientAddress);
  const connectionToken = await negotiate(address, token);
  const wsUrl = new URL(address);
  wsUrl.protocol = wsUrl.protocol.replace('http', 'ws');
  wsUrl.searchParams.set('id', connectionToken);
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
      if (message.type === HubMessageType.Invocation && message.target !== undefined)
        onMessage({ kind: 'invocation', target: message.target, argument: message.arguments?.[0] });
      else if (message.type === HubMessageType.Completion && message.invocationId !== undefined)
        onMessage({
          kind: 'completion',
          invocationId: message.invocationId,
          result: message.result,
          ...(message.error !== undefined ? { error: message.error } : {}),
        });
      else if (message.type === HubMessageType.Close) socket.close();
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
      JSON.stringify({
        type: HubMessageType.Invocation,
        ...(invocationId ? { invocationId } : {}),
        target,
        arguments: [argument],
      }) + RS,
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
