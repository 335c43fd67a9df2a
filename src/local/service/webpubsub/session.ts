/**
 * One Web PubSub client connection: a plain WebSocket (each frame a `message` user event, the answer a frame),
 * or a JSON subprotocol client (groups, events with acks, and with the reliable subprotocol sequence ids and
 * recovery across a dropped socket) (docs/local-service.md, "The Web PubSub wing").
 */

import { setBounded } from '../../../lib/bounded-map.js';
import { UPSTREAM_CATEGORIES } from '../../../lib/signalr/upstream-contract.js';
import {
  CLOUD_EVENT_CONTENT_TYPES,
  CLOUD_EVENTS_HEADERS,
  type CloudEventDataType,
} from '../../../lib/webpubsub/protocol.js';
import type { HubRegistry, OutboundMessage } from '../connections.js';
import { CloseCode } from '../errors.js';
import { Session } from '../session.js';
import type { SessionInit } from '../session-init.js';
import type { Transport } from '../transports/transport.js';
import { succeeded, type UpstreamCall, type UpstreamOutcome } from '../upstream/call.js';
import type { HandlerEvent } from './event-handlers.js';
import {
  allows,
  type MemberConnection,
  memberSet,
  type WebPubSubOutbound,
  type WebPubSubPermission,
} from './hub.js';
import {
  type AckErrorName,
  ackMessage,
  type ClientMessage,
  ClientMessageError,
  connectedMessage,
  dataTypeOfContentType,
  disconnectedMessage,
  parseClientMessage,
} from './messages.js';
import { jsonFrame, plainBytes, plainFrame, reliableFrame, soleJsonFrame } from './outbound-frames.js';
import { newReconnectionToken, ReliableOutbox, sameToken } from './reliable.js';
import type { RecoverableConnection, WebPubSubContext } from './state.js';
import { SYSTEM_EVENT_NAMES } from './upstream-codec.js';

/** How a connection frames its messages: none (plain WebSocket), or one of the JSON subprotocols. */
export type WebPubSubFraming = 'none' | 'json' | 'reliable';

/** What a connection starts with, from its token and its `connect` answer. */
export interface WebPubSubStart {
  readonly framing: WebPubSubFraming;
  readonly subprotocol: string | undefined;
  readonly groups: readonly string[];
  readonly roles: readonly string[];
  /** `ce-connectionState` as the `connect` answer set it. */
  readonly connectionState: string | undefined;
}

/**
 * An event handler call about a connection (also before its session exists: `connect`): the hub's handler
 * for the event (`null`: none takes it), the subprotocol and the connection's state travel with it.
 */
export function eventCall(
  wing: WebPubSubContext,
  connection: Pick<SessionInit, 'id' | 'hub' | 'userId'>,
  subprotocol: string | undefined,
  connectionState: string | undefined,
  event: HandlerEvent,
  body: Buffer | string,
  contentType: string,
): UpstreamCall {
  const headers: Record<string, string> = {};
  if (subprotocol !== undefined) headers[CLOUD_EVENTS_HEADERS.subprotocol] = subprotocol;
  if (connectionState !== undefined) headers[CLOUD_EVENTS_HEADERS.connectionState] = connectionState;
  return {
    codec: wing.codec,
    hub: connection.hub,
    category: 'system' in event ? UPSTREAM_CATEGORIES.connections : UPSTREAM_CATEGORIES.messages,
    event: 'system' in event ? event.system : event.user,
    connectionId: connection.id,
    ...(connection.userId !== undefined ? { userId: connection.userId } : {}),
    template: wing.handlers.templateFor(connection.hub, event),
    headers,
    body,
    contentType,
  };
}

/**
 * A Web PubSub connection; it is also its own member of the hub state (groups, roles, sending), so an idle
 * connection holds no objects besides the ones it needs.
 */
export class WebPubSubSession extends Session implements RecoverableConnection, MemberConnection {
  /** How every session leaves its hub state when it closes: one object for all of them. */
  static readonly #leave: Pick<HubRegistry, 'remove'> = {
    remove: (connection) => {
      if (connection instanceof WebPubSubSession) connection.wing.hubs.remove(connection);
    },
  };

  readonly framing: WebPubSubFraming;
  groups: ReadonlySet<string>;
  roles: ReadonlySet<string>;
  readonly #subprotocol: string | undefined;
  #connectionState: string | undefined;
  readonly #outbox: ReliableOutbox | undefined;
  readonly #reconnectionToken: string | undefined;
  /** Ack ids handled, so a resent message is answered `Duplicate` instead of handled twice (from the first). */
  #ackIds: Map<number, true> | undefined;
  #recoveryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly wing: WebPubSubContext,
    init: SessionInit,
    start: WebPubSubStart,
  ) {
    super(wing, WebPubSubSession.#leave, init);
    this.framing = start.framing;
    this.groups = memberSet(start.groups);
    this.roles = memberSet(start.roles);
    this.#subprotocol = start.subprotocol;
    this.#connectionState = start.connectionState;
    if (start.framing === 'reliable') {
      this.#outbox = new ReliableOutbox(wing.options.webPubSubReliableBufferBytes);
      this.#reconnectionToken = newReconnectionToken();
    }
  }

  get connectionId(): string {
    return this.id;
  }

  /** A REST close or removal: 1000 with the call's reason. */
  closeConnection(reason?: string): void {
    this.close(CloseCode.Normal, reason ?? '');
  }

  /** Registers the connection and greets the client (JSON subprotocols: the `connected` system message). */
  open(): void {
    this.wing.hubs.add(this);
    if (this.framing !== 'none') {
      super.send(connectedMessage(this.id, this.userId, this.#reconnectionToken), false);
    }
    if (!this.#outbox) return;
    this.wing.recoverable.set(this.id, this);
    void this.done.then(() => {
      if (this.wing.recoverable.get(this.id) === this) this.wing.recoverable.delete(this.id);
    });
  }

  /** The `connected` notification, after the client has its socket. */
  announce(): void {
    void this.enqueue(async () => {
      await this.wing.upstream.notify(
        this.call({ system: 'connected' }, '{}', CLOUD_EVENT_CONTENT_TYPES.json),
      );
    });
  }

  /** An event handler call about this connection: its handler, subprotocol and state travel with it. */
  call(event: HandlerEvent, body: Buffer | string, contentType: string): UpstreamCall {
    return eventCall(this.wing, this, this.#subprotocol, this.#connectionState, event, body, contentType);
  }

  /** A blocking answer may replace the connection's state (`ce-connectionState`). */
  #keepState(outcome: UpstreamOutcome): void {
    if (outcome.kind !== 'response') return;
    const state = outcome.headers.get(CLOUD_EVENTS_HEADERS.connectionState);
    if (state !== null) this.#connectionState = state === '' ? undefined : state;
  }

  protected onFrame(data: Buffer, isBinary: boolean): void {
    if (this.framing === 'none') {
      // Refused past the user's backlog: dropped (counted in the backlog's log line), as a SignalR send is.
      this.enqueueMessage(
        () => this.#plainMessage(data, isBinary),
        () => undefined,
      );
      return;
    }
    let message: ClientMessage;
    try {
      if (isBinary) throw new ClientMessageError('The JSON subprotocols take text frames only');
      message = parseClientMessage(data.toString('utf8'));
    } catch (error) {
      if (!(error instanceof ClientMessageError)) throw error;
      if (error.ackId !== undefined) this.#ack(error.ackId, 'InvalidRequest', error.message);
      this.ctx.options.log('warn', 'A Web PubSub client message was refused', {
        hub: this.hub,
        connectionId: this.id,
        error: error.message,
      });
      return;
    }
    this.#handle(message);
  }

  /** A plain WebSocket's frame: the `message` user event; a non-empty answer goes back as one frame. */
  async #plainMessage(data: Buffer, isBinary: boolean): Promise<void> {
    const type = isBinary ? CLOUD_EVENT_CONTENT_TYPES.binary : CLOUD_EVENT_CONTENT_TYPES.text;
    const outcome = await this.ctx.upstream.call(this.call({ user: 'message' }, data, type), {
      wanted: this.wanted,
    });
    this.#keepState(outcome);
    if (outcome.kind === 'no-template' || outcome.kind === 'shed') return;
    if (!succeeded(outcome) || outcome.kind !== 'response') {
      this.ctx.options.log('warn', 'A Web PubSub message event failed; its answer is dropped', {
        hub: this.hub,
        connectionId: this.id,
      });
      return;
    }
    if (outcome.body.length > 0) {
      const dataType = dataTypeOfContentType(outcome.headers.get('content-type'));
      this.sendMessage({ from: 'server', dataType, data: outcome.body }, true);
    }
  }

  #handle(message: ClientMessage): void {
    if (message.type === 'sequenceAck') {
      this.#outbox?.ack(message.sequenceId);
      return;
    }
    if (message.type === 'ping') {
      super.send(JSON.stringify({ type: 'pong' }), false);
      return;
    }
    const ackId = message.ackId;
    if (ackId !== undefined) {
      this.#ackIds ??= new Map();
      if (this.#ackIds.has(ackId)) {
        this.#ack(ackId, 'Duplicate', `Message with ack-id: ${ackId} has been processed`);
        return;
      }
      setBounded(this.#ackIds, ackId, true, this.wing.options.webPubSubMaxRememberedAckIds);
    }
    switch (message.type) {
      case 'joinGroup':
      case 'leaveGroup': {
        if (!this.#permitted('joinLeaveGroup', message.group, ackId)) return;
        if (message.type === 'joinGroup') this.wing.hubs.addToGroup(this.hub, this.id, message.group);
        else this.wing.hubs.removeFromGroup(this.hub, this.id, message.group);
        if (ackId !== undefined) this.#ack(ackId);
        return;
      }
      case 'sendToGroup': {
        if (!this.#permitted('sendToGroup', message.group, ackId)) return;
        const outbound: WebPubSubOutbound = {
          from: 'group',
          group: message.group,
          dataType: message.dataType,
          data: message.data,
          ...(this.userId !== undefined ? { fromUserId: this.userId } : {}),
        };
        for (const member of this.wing.hubs.groupConnections(this.hub, message.group)) {
          if (message.noEcho && member.connectionId === this.id) continue;
          member.sendMessage(outbound);
        }
        if (ackId !== undefined) this.#ack(ackId);
        return;
      }
      case 'event':
        this.enqueueMessage(
          () => this.#userEvent(message.event, message.dataType, message.data, ackId),
          (reason) => {
            if (ackId === undefined) return;
            // Never handled, so the same ackId may come again.
            this.#ackIds?.delete(ackId);
            this.#ack(ackId, 'InternalServerError', `The event was refused: ${reason}`);
          },
        );
        return;
    }
  }

  /** Whether the connection holds the permission for the group; if not, the ack says `Forbidden`. */
  #permitted(permission: WebPubSubPermission, group: string, ackId: number | undefined): boolean {
    if (allows(this.roles, permission, group)) return true;
    const action = permission === 'joinLeaveGroup' ? 'join or leave' : 'send to';
    const reason = `The connection has no permission to ${action} group '${group}' (role webpubsub.${permission} or webpubsub.${permission}.${group})`;
    if (ackId !== undefined) this.#ack(ackId, 'Forbidden', reason);
    else
      this.ctx.options.log('warn', 'A Web PubSub client action was forbidden', {
        hub: this.hub,
        connectionId: this.id,
        permission,
        group,
      });
    return false;
  }

  /** A JSON client's `event`: the handler's answer comes back as a server message, then the ack. */
  async #userEvent(
    event: string,
    dataType: CloudEventDataType,
    data: Buffer,
    ackId: number | undefined,
  ): Promise<void> {
    const outcome = await this.ctx.upstream.call(
      this.call({ user: event }, data, CLOUD_EVENT_CONTENT_TYPES[dataType]),
      { wanted: this.wanted },
    );
    this.#keepState(outcome);
    if (outcome.kind === 'response' && succeeded(outcome)) {
      if (outcome.body.length > 0) {
        const answered = dataTypeOfContentType(outcome.headers.get('content-type'));
        this.sendMessage({ from: 'server', dataType: answered, data: outcome.body }, true);
      }
      if (ackId !== undefined) this.#ack(ackId);
      return;
    }
    if (outcome.kind === 'no-template' || outcome.kind === 'shed') {
      if (ackId !== undefined) this.#ack(ackId);
      return;
    }
    if (ackId !== undefined) {
      this.#ack(ackId, 'InternalServerError', `The event handler failed the event '${event}'`);
    }
  }

  #ack(ackId: number, error?: AckErrorName, message?: string): void {
    super.send(ackMessage(ackId, error ? { name: error, message: message ?? error } : undefined), false);
  }

  /**
   * Sends a server or group message in this connection's framing (the reliable one numbers and keeps it).
   * The frame is written once per message and framing and shared by every recipient (outbound-frames.ts);
   * `sole`: this connection is the only recipient (an answer to its own event), so nothing is shared.
   */
  sendMessage(message: WebPubSubOutbound, sole = false): void {
    if (this.framing === 'none') {
      super.send(sole ? plainBytes(message) : plainFrame(message), message.dataType === 'binary');
      return;
    }
    const outbox = this.#outbox;
    if (!outbox) {
      super.send(sole ? soleJsonFrame(message) : jsonFrame(message), false);
      return;
    }
    if (this.closing) return;
    const sequenceId = outbox.nextSequenceId;
    if (!outbox.keep(jsonFrame(message))) {
      const limit = this.ctx.options.webPubSubReliableBufferBytes;
      this.close(
        CloseCode.PolicyViolation,
        `More than ${limit} bytes sent and not acknowledged by sequenceAck (webPubSubReliableBufferBytes)`,
      );
      return;
    }
    if (!this.detached) super.send(reliableFrame(message, sequenceId), false);
  }

  deliver(message: OutboundMessage): void {
    if (message.kind === 'invocation') return; // SignalR's invocations have no Web PubSub form
    const data = message.kind === 'text' ? Buffer.from(message.text, 'utf8') : message.data;
    this.sendMessage({ from: 'server', dataType: message.kind, data });
  }

  protected disconnectCall(error: string | undefined): UpstreamCall {
    return this.call(
      { system: SYSTEM_EVENT_NAMES.disconnected },
      JSON.stringify(error ? { reason: error } : {}),
      CLOUD_EVENT_CONTENT_TYPES.json,
    );
  }

  protected beforeServerClose(reason: string): void {
    if (this.framing !== 'none') super.send(disconnectedMessage(reason), false, true);
  }

  /**
   * A reliable connection cannot outlive the service: 1008 tells its client the connection id is gone, so it
   * connects anew instead of trying to recover for a minute (Learn, "Create reliable WebSocket clients").
   */
  protected override get shutdownCloseCode(): number {
    return this.#outbox ? CloseCode.PolicyViolation : CloseCode.GoingAway;
  }

  matches(reconnectionToken: string): boolean {
    return this.#reconnectionToken !== undefined && sameToken(this.#reconnectionToken, reconnectionToken);
  }

  get canResume(): boolean {
    return this.#outbox !== undefined && !this.closing;
  }

  /** The reliable subprotocol: a dropped socket leaves the connection waiting for the client to recover. */
  protected override onTransportLost(code: number, reason: string): boolean {
    if (!this.#outbox || this.closing) return false;
    this.detached = true;
    const ms = this.ctx.options.webPubSubReconnectWindowMs;
    clearTimeout(this.#recoveryTimer);
    this.#recoveryTimer = setTimeout(() => {
      if (!this.detached) return;
      this.detached = false;
      void this.finish(
        `The connection closed abnormally (code ${code}${reason ? `: ${reason}` : ''}) and the client did not recover it within ${ms} ms (webPubSubReconnectWindowMs)`,
      );
    }, ms);
    this.#recoveryTimer.unref();
    this.ctx.options.log('info', 'Web PubSub client transport lost; waiting for it to recover', {
      hub: this.hub,
      connectionId: this.id,
      windowMs: ms,
    });
    return true;
  }

  resume(transport: Transport): void {
    if (!this.canResume) {
      transport.close(CloseCode.PolicyViolation, 'The connection cannot be recovered');
      return;
    }
    clearTimeout(this.#recoveryTimer);
    const old = this.transport;
    this.detached = false;
    this.attach(transport);
    if (old?.open) old.terminate();
    super.send(connectedMessage(this.id, this.userId, this.#reconnectionToken), false);
    const frames = this.#outbox?.unacknowledged() ?? [];
    for (const frame of frames) super.send(frame, false);
    this.ctx.options.log('info', 'Web PubSub client recovered', {
      hub: this.hub,
      connectionId: this.id,
      resent: frames.length,
    });
  }
}
