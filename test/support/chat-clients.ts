/**
 * Chat clients of both services for tests, with one interface: the events received, `send` for commands, and
 * `waitFor` to wait for an event (bounded by the test's own timeout, never by a timed assertion).
 *
 * - signalr: the official `@microsoft/signalr` client, built as the page builds it:
 *   `withUrl(functionsUrl + '/api?name=…')`, so it calls `/api/negotiate?name=…&negotiateVersion=1`.
 * - webpubsub: a plain `ws` WebSocket (no subprotocol: one text frame per chat event) at the Web PubSub client
 *   URL from `/api/negotiate?name=…&service=webpubsub` (the stack needs `webPubSub: true`).
 */
import {
  type HttpTransportType,
  type HubConnection,
  HubConnectionBuilder,
  LogLevel,
} from '@microsoft/signalr';
import WebSocket from 'ws';

export type ChatDialect = 'signalr' | 'webpubsub';

/** One event as the chat protocol defines it (docs/architecture.md, "The chat protocol"). */
export interface ReceivedEvent {
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

export interface ChatClient {
  readonly user: string;
  readonly dialect: ChatDialect;
  /** Every event received, in order. */
  readonly events: ReceivedEvent[];
  /** Sends a command (`sendMessage`, `loadHistory`, `joinGroup`, `leaveGroup` or anything, for error tests). */
  send(command: string, payload: unknown): Promise<void>;
  /**
   * signalr only: invokes a command and waits for its Completion (the reply event's payload, or an
   * error with the reply's message).
   */
  invoke(command: string, payload: unknown): Promise<unknown>;
  /** Sends a raw text frame (webpubsub only). */
  sendRaw(text: string): Promise<void>;
  /** Calls `listener` with every event received so far, then with each one as it arrives. */
  onEvent(listener: (event: ReceivedEvent) => void): void;
  /** Resolves with the first event (from index `from`) that matches; waits as long as it takes. */
  waitFor(predicate: (event: ReceivedEvent) => boolean, from?: number): Promise<ReceivedEvent>;
  /** Resolves once the connection has closed (for whatever reason). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

class EventLog {
  readonly events: ReceivedEvent[] = [];
  #waiters: {
    predicate: (e: ReceivedEvent) => boolean;
    from: number;
    resolve: (e: ReceivedEvent) => void;
  }[] = [];

  #listeners: ((event: ReceivedEvent) => void)[] = [];

  listen(listener: (event: ReceivedEvent) => void): void {
    for (const event of this.events) listener(event);
    this.#listeners.push(listener);
  }

  push(event: ReceivedEvent): void {
    this.events.push(event);
    for (const listener of this.#listeners) listener(event);
    const index = this.events.length - 1;
    this.#waiters = this.#waiters.filter((w) => {
      if (index >= w.from && w.predicate(event)) {
        w.resolve(event);
        return false;
      }
      return true;
    });
  }

  waitFor(predicate: (e: ReceivedEvent) => boolean, from = 0): Promise<ReceivedEvent> {
    const found = this.events.slice(from).find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.#waiters.push({ predicate, from, resolve }));
  }
}

/** The events the page listens for (a unit test keeps them equal to the server's): a test client hears what a page hears. */
const { CHAT_EVENTS } = (await import(new URL('../../static/link/connection.js', import.meta.url).href)) as {
  CHAT_EVENTS: readonly string[];
};

/** Options of the SignalR client. */
export interface SignalROptions {
  /** Forces one transport (by default the client picks WebSockets). */
  readonly transport?: HttpTransportType;
  /** Turns on the client's automatic reconnect with these delays. */
  readonly reconnectDelays?: readonly number[];
}

/** What a client sends besides `?name=` and, for SignalR, how it connects. */
export interface ConnectOptions extends SignalROptions {
  /** Headers for negotiate (and every other HTTP request of the signalr client): with sign-in, `{ cookie }`. */
  readonly headers?: Record<string, string>;
}

/**
 * Connects a client of `dialect` as `user` (its `?name=`) through the app's negotiate; resolves once `welcome`
 * arrived. With sign-in `?name=` is ignored and the session in `options.headers` decides who connects.
 */
export async function connectChat(
  functionsUrl: string,
  user: string,
  dialect: ChatDialect,
  options: ConnectOptions = {},
): Promise<ChatClient> {
  const client = await openChat(functionsUrl, user, dialect, options);
  await client.waitFor((e) => e.type === 'welcome');
  return client;
}

/**
 * Opens a client of `dialect` as `user` without waiting for its `welcome` (signalr: the welcome follows the
 * `connected` upstream, which may be late or lost while the Functions host is down).
 */
export function openChat(
  functionsUrl: string,
  user: string,
  dialect: ChatDialect,
  options: ConnectOptions = {},
): Promise<ChatClient> {
  return dialect === 'signalr'
    ? connectSignalR(functionsUrl, user, options)
    : connectWebPubSub(functionsUrl, user, options);
}

async function connectSignalR(
  functionsUrl: string,
  user: string,
  options: ConnectOptions,
): Promise<ChatClient> {
  const log = new EventLog();
  const url = `${functionsUrl}/api?name=${encodeURIComponent(user)}`;
  let builder = new HubConnectionBuilder()
    .withUrl(url, {
      ...(options.transport === undefined ? {} : { transport: options.transport }),
      ...(options.headers ? { headers: options.headers } : {}),
    })
    .configureLogging(LogLevel.None);
  if (options.reconnectDelays) builder = builder.withAutomaticReconnect([...options.reconnectDelays]);
  const connection: HubConnection = builder.build();
  for (const name of CHAT_EVENTS) {
    connection.on(name, (payload: Record<string, unknown>) => log.push({ type: name, payload }));
  }
  let closedResolve!: () => void;
  const closed = new Promise<void>((resolve) => {
    closedResolve = resolve;
  });
  connection.onclose(() => closedResolve());
  await connection.start();
  return {
    user,
    dialect: 'signalr',
    events: log.events,
    send: (command, payload) => connection.send(command, payload),
    invoke: (command, payload) => connection.invoke(command, payload),
    sendRaw: () => Promise.reject(new Error('sendRaw is for the Web PubSub client')),
    onEvent: (listener) => log.listen(listener),
    waitFor: (predicate, from) => log.waitFor(predicate, from),
    closed,
    close: () => connection.stop(),
  };
}

async function connectWebPubSub(
  functionsUrl: string,
  user: string,
  options: ConnectOptions,
): Promise<ChatClient> {
  const response = await fetch(
    `${functionsUrl}/api/negotiate?name=${encodeURIComponent(user)}&service=webpubsub`,
    { method: 'POST', ...(options.headers ? { headers: options.headers } : {}) },
  );
  if (!response.ok) throw new Error(`negotiate answered ${response.status}: ${await response.text()}`);
  const { url } = (await response.json()) as { url: string };
  const log = new EventLog();
  const socket = new WebSocket(url);
  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    const { type, ...payload } = JSON.parse(data.toString()) as { type: string } & Record<string, unknown>;
    log.push({ type, payload });
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  // A socket error after the handshake ends in 'close' too; without a listener it would be thrown.
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) =>
      reject(new Error(`handshake refused: ${res.statusCode}`)),
    );
  });
  const sendText = (text: string) =>
    new Promise<void>((resolve, reject) => socket.send(text, (error) => (error ? reject(error) : resolve())));
  return {
    user,
    dialect: 'webpubsub',
    events: log.events,
    send: (command, payload) => sendText(JSON.stringify({ ...(payload as object), type: command })),
    invoke: () => Promise.reject(new Error('invoke is for the SignalR client')),
    sendRaw: sendText,
    onEvent: (listener) => log.listen(listener),
    waitFor: (predicate, from) => log.waitFor(predicate, from),
    closed,
    close: async () => {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close(1000);
      await closed;
    },
  };
}

/** Matches a `message` event with exactly this text. */
export const isMessage =
  (text: string) =>
  (event: ReceivedEvent): boolean =>
    event.type === 'message' && event.payload.text === text;

/** The texts of every `message` event a client received, in order. */
export const messageTexts = (client: ChatClient): unknown[] =>
  client.events.filter((e) => e.type === 'message').map((e) => e.payload.text);

/** The `welcome` a client received on entry (connectChat waits for it). */
export function welcomeOf(client: ChatClient): {
  user: string;
  online: string[];
  groups: string[];
  history: { messages: { text: string }[] };
} {
  const welcome = client.events.find((e) => e.type === 'welcome');
  if (!welcome) throw new Error(`${client.user} has no welcome`);
  return welcome.payload as ReturnType<typeof welcomeOf>;
}

/** Sends a command and waits for the first event after it that `match`es. */
export async function ask(
  client: ChatClient,
  command: string,
  payload: unknown,
  match: (e: ReceivedEvent) => boolean,
): Promise<ReceivedEvent> {
  const from = client.events.length;
  await client.send(command, payload);
  return client.waitFor(match, from);
}

/** The code of the `error` a command gets, or `answered` when an event of `answer` comes first. */
export async function errorCodeOf(
  client: ChatClient,
  command: string,
  payload: unknown,
  answer: (e: ReceivedEvent) => boolean,
): Promise<unknown> {
  const event = await ask(
    client,
    command,
    payload,
    (e) => (e.type === 'error' && e.payload.command === command) || answer(e),
  );
  return event.type === 'error' ? event.payload.code : 'answered';
}

/** Notes that follow a record already sent as a group command's answer (a creation, a rename, a topic, an owner). */
export const NOTES_AFTER_THE_RECORD: readonly string[] = [
  'groupCreated',
  'groupRenamed',
  'topicSet',
  'ownerAdded',
];

/**
 * A group command's answer: a `group` record, or a `system` note of a membership change; not a note that follows
 * a record (it may arrive after the next command was sent, and would pass for its answer).
 */
export const isGroupAnswer = (e: ReceivedEvent): boolean =>
  e.type === 'group' || (e.type === 'system' && !NOTES_AFTER_THE_RECORD.includes(String(e.payload.kind)));

/** Matches a `group` event (a group's record) of `group` whose fields `has` accepts. */
export const isGroupRecord =
  (group: string, has: (record: Record<string, unknown>) => boolean = () => true) =>
  (e: ReceivedEvent): boolean =>
    e.type === 'group' && e.payload.group === group && has(e.payload);

/** Once every receiver has `sender`'s marker in the room, the deliveries sent before it have arrived. */
export async function roomBarrier(sender: ChatClient, ...receivers: ChatClient[]): Promise<void> {
  const marker = `barrier ${Math.random()}`;
  await sender.send('sendMessage', { text: marker });
  await Promise.all(receivers.map((r) => r.waitFor(isMessage(marker))));
}
