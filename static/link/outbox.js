/**
 * The outbox: delivery of a person's messages until the server acknowledges them (docs/architecture.md, "The
 * page", "Delivery until acknowledged"). A plain ES module with no browser or Vue dependency, so the page and
 * Node clients (the fault tests) run the same rules.
 *
 * - Every message gets a `clientMessageId` once and keeps it for every resend, so the server stores it once.
 * - A message is `sending` until my own `message` event (or an `ack`, or history) with its `clientMessageId`
 *   arrives: then it is `sent`. Unanswered, it is sent again on a backoff timer, and at once after a reconnect.
 * - One message in flight per conversation: the next one leaves only when the one before is acknowledged (or
 *   refused for good), so history keeps each sender's order even when sends are retried.
 * - A refusal that says "not now" (`storage-unavailable`, `rate-limited`, `internal`) is retried like a lost
 *   send; any other refusal marks the message `failed` with the server's reason, and the conversation's queue
 *   moves on (the server stored nothing). {@link MAX_UNANSWERED_SENDS} unanswered sends over a live link mark
 *   it `failed` too; then the messages behind it wait, since it may yet be stored, until it is retried or
 *   discarded.
 *
 *   const outbox = createOutbox({ send: (command, payload) => link.send(command, payload), onChange });
 *   outbox.setConnected(true);
 *   outbox.add('room', { text: 'hi' });              // → payload { text, clientMessageId }
 *   outbox.acknowledge(clientMessageId, message);    // on `ack`, my own `message`, my messages in `history`
 *   outbox.refuse(clientMessageId, error);           // on an `error` that names a clientMessageId
 */

/** Wait for an answer after the first send, in milliseconds; doubled per unanswered send. */
export const RESEND_BASE_MS = 3000;
/** Longest wait between two sends of the same message, in milliseconds. */
export const RESEND_MAX_MS = 30_000;
/** Unanswered sends over a live link before a message is shown as failed (about 3 minutes with the delays above). */
export const MAX_UNANSWERED_SENDS = 8;
/** Error codes that mean "try again later", not "never" (the server's catalogue, src/lib/chat/errors.ts). */
export const TRANSIENT_ERROR_CODES = Object.freeze(['storage-unavailable', 'rate-limited', 'internal']);

/**
 * The wait after send number `attempt` (1-based): exponential, capped, with jitter so that pages cut off by the
 * same fault do not all resend in the same instant.
 * @param {number} attempt
 * @param {{ baseMs?: number, maxMs?: number, random?: () => number }} [options]
 */
export function resendDelay(
  attempt,
  { baseMs = RESEND_BASE_MS, maxMs = RESEND_MAX_MS, random = Math.random } = {},
) {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.75 + random() * 0.5));
}

/**
 * @typedef {'sending' | 'sent' | 'failed' | 'discarded'} OutboxStatus
 * @typedef {{ clientMessageId: string, conversation: string, payload: Record<string, unknown>,
 *   status: OutboxStatus, attempts: number, error: string | null, message: any }} OutboxEntry
 */

/**
 * @param {{
 *   send: (command: string, payload: object) => Promise<unknown> | unknown,
 *   onChange?: (entry: Readonly<OutboxEntry>) => void,
 *   newId?: () => string,
 *   baseMs?: number,
 *   maxMs?: number,
 *   maxUnanswered?: number,
 *   random?: () => number,
 *   timers?: { setTimeout: (fn: () => void, ms: number) => any, clearTimeout: (handle: any) => void },
 * }} options `send` throws (or rejects) when the link is down; `onChange` hears every change of an entry.
 */
export function createOutbox(options) {
  const {
    send,
    onChange = () => {},
    newId = () => globalThis.crypto.randomUUID(),
    maxUnanswered = MAX_UNANSWERED_SENDS,
    timers = globalThis,
  } = options;
  const delays = {
    baseMs: options.baseMs ?? RESEND_BASE_MS,
    maxMs: options.maxMs ?? RESEND_MAX_MS,
    random: options.random ?? Math.random,
  };
  /** Every entry not yet sent or discarded, by clientMessageId. @type {Map<string, OutboxEntry>} */
  const entries = new Map();
  /** Per conversation, the entries still to be acknowledged, oldest first (failed-for-good ones leave). @type {Map<string, OutboxEntry[]>} */
  const queues = new Map();
  /** The resend timer of each entry in flight. @type {Map<string, any>} */
  const resendTimers = new Map();
  let connected = false;

  /** @param {OutboxEntry} entry */
  const changed = (entry) => onChange({ ...entry });

  /** @param {string} id */
  function stopTimer(id) {
    const timer = resendTimers.get(id);
    if (timer !== undefined) timers.clearTimeout(timer);
    resendTimers.delete(id);
  }

  /** @param {OutboxEntry} entry */
  function leaveQueue(entry) {
    const queue = queues.get(entry.conversation) ?? [];
    const rest = queue.filter((e) => e !== entry);
    if (rest.length > 0) queues.set(entry.conversation, rest);
    else queues.delete(entry.conversation);
  }

  /** Sends the head of a conversation's queue when nothing of it is in flight. @param {string} conversation */
  function pump(conversation) {
    const head = queues.get(conversation)?.[0];
    if (head?.status !== 'sending' || resendTimers.has(head.clientMessageId)) return;
    transmit(head);
  }

  /** One send of `entry`, and the timer that sends it again if no answer comes. @param {OutboxEntry} entry */
  function transmit(entry) {
    if (!connected || entry.status !== 'sending') return;
    entry.attempts += 1;
    const id = entry.clientMessageId;
    const timer = timers.setTimeout(
      () => {
        resendTimers.delete(id);
        if (entry.status !== 'sending' || !connected) return;
        if (entry.attempts >= maxUnanswered) {
          entry.status = 'failed';
          entry.error = 'No answer from the server';
          changed(entry);
          return;
        }
        transmit(entry);
      },
      resendDelay(entry.attempts, delays),
    );
    resendTimers.set(id, timer);
    changed(entry);
    const notSent = () => {
      // The link went down under us: this send does not count; setConnected(true) sends it again.
      if (resendTimers.get(id) !== timer) return;
      stopTimer(id);
      entry.attempts -= 1;
    };
    try {
      Promise.resolve(send('sendMessage', entry.payload)).catch(notSent);
    } catch {
      notSent();
    }
  }

  return {
    /**
     * Queues a message; returns its entry (a copy). A payload that already has a `clientMessageId` (a message
     * kept across a reload, static/link/outbox-store.js) keeps it, so the server stores it once however often it
     * is sent; one already queued is not queued twice.
     * @param {string} conversation
     * @param {Record<string, unknown>} payload the `sendMessage` payload, usually without `clientMessageId`
     */
    add(conversation, payload) {
      const kept = typeof payload.clientMessageId === 'string' ? payload.clientMessageId : null;
      const queued = kept === null ? undefined : entries.get(kept);
      if (queued) return { ...queued };
      const clientMessageId = kept ?? newId();
      /** @type {OutboxEntry} */
      const entry = {
        clientMessageId,
        conversation,
        payload: { ...payload, clientMessageId },
        status: 'sending',
        attempts: 0,
        error: null,
        message: null,
      };
      entries.set(clientMessageId, entry);
      queues.set(conversation, [...(queues.get(conversation) ?? []), entry]);
      changed(entry);
      pump(conversation);
      return { ...entry };
    },

    /**
     * The server stored the message: it is `sent`, and the next one of its conversation leaves. Returns
     * whether this was news.
     * @param {string} clientMessageId
     * @param {any} message the stored message
     */
    acknowledge(clientMessageId, message) {
      const entry = entries.get(clientMessageId);
      if (!entry) return false;
      stopTimer(clientMessageId);
      entries.delete(clientMessageId);
      leaveQueue(entry);
      entry.status = 'sent';
      entry.error = null;
      entry.message = message;
      changed(entry);
      pump(entry.conversation);
      return true;
    },

    /**
     * The server refused a send of this message.
     * @param {string} clientMessageId
     * @param {{ code?: string, message?: string, retryAfterMs?: number }} error
     */
    refuse(clientMessageId, error) {
      const entry = entries.get(clientMessageId);
      if (entry?.status !== 'sending') return;
      const reason = error.message || error.code || 'The server refused the message';
      stopTimer(clientMessageId);
      if (TRANSIENT_ERROR_CODES.includes(String(error.code))) {
        // Not now: send again after the usual backoff (or what the server asked for, if longer).
        entry.error = reason;
        const wait = Math.max(Number(error.retryAfterMs) || 0, resendDelay(entry.attempts, delays));
        resendTimers.set(
          clientMessageId,
          timers.setTimeout(() => {
            resendTimers.delete(clientMessageId);
            pump(entry.conversation);
          }, wait),
        );
        changed(entry);
        return;
      }
      // Never as it is: nothing was stored, so the conversation's next message may leave.
      entry.status = 'failed';
      entry.error = reason;
      leaveQueue(entry);
      changed(entry);
      pump(entry.conversation);
    },

    /** Sends a failed message again (it joins the end of its conversation's queue unless it heads it). @param {string} clientMessageId */
    retry(clientMessageId) {
      const entry = entries.get(clientMessageId);
      if (entry?.status !== 'failed') return;
      entry.status = 'sending';
      entry.error = null;
      entry.attempts = 0;
      const queue = queues.get(entry.conversation) ?? [];
      if (!queue.includes(entry)) queues.set(entry.conversation, [...queue, entry]);
      changed(entry);
      pump(entry.conversation);
    },

    /** Forgets a message that is not sent (the person gave up on it). @param {string} clientMessageId */
    discard(clientMessageId) {
      const entry = entries.get(clientMessageId);
      if (!entry) return;
      stopTimer(clientMessageId);
      entries.delete(clientMessageId);
      leaveQueue(entry);
      entry.status = 'discarded';
      changed(entry);
      pump(entry.conversation);
    },

    /**
     * The link is up (send every conversation's head now, with a fresh count of unanswered sends) or down
     * (stop the timers: nothing can be sent).
     * @param {boolean} up
     */
    setConnected(up) {
      connected = up;
      for (const id of [...resendTimers.keys()]) stopTimer(id);
      if (!up) return;
      for (const entry of entries.values()) if (entry.status === 'sending') entry.attempts = 0;
      for (const conversation of [...queues.keys()]) pump(conversation);
    },

    /** Copies of the entries not yet sent (sending or failed), in the order they were added. */
    pending() {
      return [...entries.values()].map((e) => ({ ...e }));
    },

    /** Stops every timer (the page or client is going away). */
    stop() {
      connected = false;
      for (const id of [...resendTimers.keys()]) stopTimer(id);
    },
  };
}
