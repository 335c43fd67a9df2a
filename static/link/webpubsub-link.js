/**
 * The page's link over Azure Web PubSub (docs/architecture.md, "The page"; docs/webpubsub.md): a browser WebSocket
 * with the reliable JSON subprotocol `json.reliable.webpubsub.azure.v1`, written for the page rather than taken
 * from `@azure/web-pubsub-client` (why: docs/architecture.md, "The page").
 *
 * - Negotiate (`{apiBase}/negotiate?service=webpubsub`) hands out the client URL with its access token; every new
 *   connection negotiates again, so a token never outlives its connection.
 * - A command travels as a user event, `{"type":"event","event":"message","dataType":"json","data":{type, …payload},
 *   "ackId":n}`; the app's handler answer comes back as a server message, and the service's `ack` settles
 *   `send()`'s promise (a `Duplicate` ack is a success: the service had it already).
 * - Every server message carries the chat's frame, `{"type": <event>, …payload}`, as text (or JSON), and in the
 *   reliable subprotocol a `sequenceId`: the link drops one it has had already and acknowledges the newest it has
 *   with `sequenceAck` (at most once per {@link SEQUENCE_ACK_DELAY_MS}).
 * - A dropped socket is resumed as the same connection (`awps_connection_id` + `awps_reconnection_token`) for up to
 *   {@link RECOVERY_WINDOW_MS}: the service resends what was not acknowledged, the link writes again the commands
 *   the service had not acknowledged (same `ackId`), and the page keeps its state (`recovering: true`). Unless the
 *   service said `disconnected` or closed with 1008, in which case, as after a failed recovery, the link starts a
 *   new connection with the shared retry loop (static/link/link-retry.js) and the page catches up (`resumed: true`).
 */
import { describe, negotiateUrl, openWithRetry, restartRefused, sleep } from './link-retry.js';
import { whenOpen } from './socket-open.js';

/** The subprotocol the link speaks (Learn: "Azure Web PubSub supported reliable JSON WebSocket subprotocol"). */
export const RELIABLE_SUBPROTOCOL = 'json.reliable.webpubsub.azure.v1';
/** The user event the chat's commands travel as: the app's upstream takes a user event's data as one command. */
export const COMMAND_EVENT = 'message';
/** Longest wait before the newest received `sequenceId` is acknowledged, in milliseconds (as Microsoft's client). */
export const SEQUENCE_ACK_DELAY_MS = 1000;
/** How long a dropped socket is tried again as the same connection, in milliseconds (as Microsoft's client). */
export const RECOVERY_WINDOW_MS = 30_000;
/** Wait between two recovery tries, in milliseconds. */
export const RECOVERY_RETRY_MS = 1000;
/** The close code with which the service ends a connection for good: no recovery (as Microsoft's client). */
export const POLICY_VIOLATION_CLOSE_CODE = 1008;
/**
 * How often the link sends the subprotocol's `{"type":"ping"}` (the service answers `pong`), in milliseconds.
 * The service's own WebSocket pings (every 20 s by default) are invisible to a page, so it asks for itself.
 */
export const PING_INTERVAL_MS = 3000;
/** Silence after which the socket is taken for dead and recovery starts, in milliseconds (two pings unanswered). */
export const SILENCE_LIMIT_MS = 7000;

/**
 * @typedef {import('./link-retry.js').LinkState} LinkState
 * @typedef {{ frame: string, resolve: () => void, reject: (error: Error) => void }} PendingCommand
 */

/**
 * The chat event in a server message's data (text holding the JSON frame, or the JSON itself), or null.
 * @param {unknown} data
 * @returns {{ type: string, payload: Record<string, unknown> } | null}
 */
export function chatEventOf(data) {
  let frame = data;
  if (typeof data === 'string') {
    try {
      frame = JSON.parse(data);
    } catch {
      return null; // not a chat event: the chat only sends JSON frames
    }
  }
  if (!frame || typeof frame !== 'object' || typeof (/** @type {any} */ (frame).type) !== 'string')
    return null;
  const { type, ...payload } = /** @type {Record<string, unknown>} */ (frame);
  return { type: /** @type {string} */ (type), payload };
}

/**
 * @param {{ user: string, auth?: string, apiBase: string }} config
 * @param {{ onEvent: (type: string, payload: any) => void, onState: (state: LinkState) => void }} handlers
 */
export function connectWebPubSub(config, { onEvent, onState }) {
  /** @type {import('./link-retry.js').RetryingLink} */
  const link = { stopped: false, everConnected: false, onState };
  /** @type {WebSocket | null} */
  let socket = null;
  /** The connection kept across dropped sockets, from the service's `connected` message. */
  let session = { url: '', connectionId: '', reconnectionToken: '', received: 0, acked: 0, ended: false };
  let recovering = false;
  let nextAckId = 1;
  /** Commands written and not yet acknowledged by the service, by ackId (in the order sent). @type {Map<number, PendingCommand>} */
  const pending = new Map();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let ackTimer;

  function negotiate() {
    return negotiateUrl(config, 'service=webpubsub');
  }

  function flushSequenceAck() {
    ackTimer = undefined;
    if (session.received <= session.acked || socket?.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ type: 'sequenceAck', sequenceId: session.received }));
    session.acked = session.received;
  }

  /** @param {any} message one frame of the subprotocol */
  function handle(message) {
    switch (message?.type) {
      case 'system':
        if (message.event === 'connected') {
          session.connectionId = String(message.connectionId ?? '');
          session.reconnectionToken = String(message.reconnectionToken ?? '');
        } else if (message.event === 'disconnected') {
          // The service ends the connection for good: the socket's close that follows is not recoverable.
          session.ended = true;
        }
        return;
      case 'ack': {
        const command = pending.get(message.ackId);
        if (!command) return;
        pending.delete(message.ackId);
        if (message.success || message.error?.name === 'Duplicate') command.resolve();
        else command.reject(new Error(message.error?.message || 'The service refused the command.'));
        return;
      }
      case 'message': {
        if (typeof message.sequenceId === 'number') {
          const seen = message.sequenceId <= session.received;
          if (!seen) session.received = message.sequenceId;
          ackTimer ??= setTimeout(flushSequenceAck, SEQUENCE_ACK_DELAY_MS);
          if (seen) return; // resent after a recovery: the page has it already
        }
        const event = chatEventOf(message.data);
        if (event) onEvent(event.type, event.payload);
        return;
      }
      default:
    }
  }

  /**
   * Opens one socket at `url`; resolves when it is open, rejects when it closes first.
   * @param {string} url
   * @returns {Promise<WebSocket>}
   */
  function openSocket(url) {
    const ws = new WebSocket(url, RELIABLE_SUBPROTOCOL);
    socket = ws;
    watchSilence(ws);
    ws.addEventListener('message', (event) => {
      if (socket !== ws) return;
      heardAt = Date.now();
      if (typeof event.data !== 'string') return;
      try {
        handle(JSON.parse(event.data));
      } catch {
        // A frame that is not JSON is not part of the subprotocol: ignore it.
      }
    });
    return whenOpen(ws);
  }

  /** When the service was last heard from on the current socket. */
  let heardAt = 0;

  /**
   * Pings the service while `ws` is open and, when it stays silent past {@link SILENCE_LIMIT_MS}, ends the socket
   * at once (a dead network can hold a socket "open" for minutes): the loop then recovers as after any drop.
   * Checked every second, so a silence is noticed within a second of the limit.
   * @param {WebSocket} ws
   */
  function watchSilence(ws) {
    heardAt = Date.now();
    let pingedAt = Date.now();
    const timer = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const now = Date.now();
      if (now - heardAt > SILENCE_LIMIT_MS) {
        clearInterval(timer);
        // Ended for the link now; the socket's own close may take long on a dead network.
        declaredDead.get(ws)?.({ code: 1006, reason: 'No answer from the service' });
        ws.close();
        return;
      }
      if (now - pingedAt >= PING_INTERVAL_MS) {
        pingedAt = now;
        ws.send(JSON.stringify({ type: 'ping' }));
      }
    }, 1000);
    ws.addEventListener('close', () => clearInterval(timer), { once: true });
  }

  /**
   * A socket that opened after the page stopped the link is closed at once: nothing may leave over it (the
   * page stops its link when its person is signed out in another tab).
   * @param {WebSocket} ws
   */
  function closedIfStopped(ws) {
    if (!link.stopped) return false;
    ws.close(1000, 'page closed');
    return true;
  }

  /** A new connection: a fresh session, negotiated. */
  async function open() {
    const url = await negotiate();
    session = { url, connectionId: '', reconnectionToken: '', received: 0, acked: 0, ended: false };
    const ws = await openSocket(url);
    if (closedIfStopped(ws)) throw new Error('The page closed the link.');
    return ws;
  }

  /**
   * How a socket ended for the link: its close, or {@link watchSilence} taking it for dead.
   * @typedef {{ code: number, reason: string }} Ended
   */
  /** @type {WeakMap<WebSocket, (ended: Ended) => void>} */
  const declaredDead = new WeakMap();

  /** @param {WebSocket} ws @returns {Promise<Ended>} */
  const closeOf = (ws) =>
    new Promise((resolve) => {
      declaredDead.set(ws, resolve);
      ws.addEventListener('close', (event) => resolve(event), { once: true });
    });

  /** @param {Ended} closed */
  const closeText = (closed) =>
    `The connection closed (${closed.code}${closed.reason ? `: ${closed.reason}` : ''}).`;

  /**
   * Tries to resume the session's connection after its socket dropped; the socket, or null when it cannot be.
   * @param {Ended} closed
   */
  async function recover(closed) {
    if (session.ended || closed.code === POLICY_VIOLATION_CLOSE_CODE || !session.reconnectionToken)
      return null;
    const url = new URL(session.url);
    url.searchParams.set('awps_connection_id', session.connectionId);
    url.searchParams.set('awps_reconnection_token', session.reconnectionToken);
    let error = closeText(closed);
    recovering = true;
    const deadline = Date.now() + RECOVERY_WINDOW_MS;
    try {
      for (let attempt = 1; !link.stopped && Date.now() < deadline; attempt += 1) {
        onState({ status: 'reconnecting', attempt, retryAt: null, error, resumed: false, recovering: true });
        try {
          const ws = await openSocket(url.toString());
          if (closedIfStopped(ws)) return null;
          // The service resends what it sent after the last sequenceAck; we resend what it has not acknowledged.
          session.acked = 0;
          for (const command of pending.values()) ws.send(command.frame);
          onState({ status: 'connected', attempt: 0, retryAt: null, error: null, resumed: false });
          return ws;
        } catch (failure) {
          error = describe(failure);
          await sleep(RECOVERY_RETRY_MS);
        }
      }
      return null;
    } finally {
      recovering = false;
    }
  }

  /** @param {string} why */
  function failPending(why) {
    for (const command of pending.values()) command.reject(new Error(why));
    pending.clear();
  }

  async function loop() {
    // The first try after a lost connection goes straight away (most losses are blips); then back off.
    let from = { attempt: 0, lastError: /** @type {string | null} */ (null), freeTries: 2 };
    while (!link.stopped) {
      let ws = await openWithRetry(link, open, from);
      if (!ws) return;
      let closed = await closeOf(ws);
      while (!link.stopped) {
        ws = await recover(closed);
        if (!ws) break;
        closed = await closeOf(ws);
      }
      clearTimeout(ackTimer);
      ackTimer = undefined;
      if (link.stopped) return;
      // The connection is gone: what it did not acknowledge is the outbox's to send again on the next one.
      failPending('The connection was lost before the service acknowledged the command.');
      from = { attempt: 1, lastError: closeText(closed), freeTries: 2 };
    }
  }

  void loop();
  return {
    dialect: 'websocket',
    service: 'webpubsub',
    /**
     * Sends a command; resolves when the service acknowledges it. While a dropped socket is being resumed the
     * command waits and goes out on the resumed socket.
     * @param {string} command @param {object} payload
     */
    send(command, payload) {
      const open = socket?.readyState === WebSocket.OPEN;
      if (link.stopped || (!open && !recovering)) return Promise.reject(new Error('Not connected.'));
      const ackId = nextAckId++;
      const frame = JSON.stringify({
        type: 'event',
        event: COMMAND_EVENT,
        dataType: 'json',
        data: { ...payload, type: command },
        ackId,
      });
      return new Promise((resolve, reject) => {
        pending.set(ackId, { frame, resolve: () => resolve(undefined), reject });
        if (open) socket?.send(frame);
      });
    },
    /** After a refusal, negotiates again now; `false` when the link was not refused. */
    retry() {
      return restartRefused(link, () => void loop());
    },
    async stop() {
      link.stopped = true;
      link.refused = false;
      clearTimeout(ackTimer);
      failPending('The page closed the link.');
      socket?.close(1000, 'page closed');
    },
  };
}
