/**
 * The JSON subprotocols' messages (`json.webpubsub.azure.v1`, `json.reliable.webpubsub.azure.v1`), as Learn's
 * "Azure Web PubSub supported JSON WebSocket subprotocol" and "Create reliable WebSocket clients" define them
 * and `@azure/web-pubsub-client` writes and reads them (docs/local-service.md, "The Web PubSub wing").
 */
import type { CloudEventDataType } from '../../../lib/webpubsub/protocol.js';

/** A message from a client; anything else is refused with {@link ClientMessageError}. */
export type ClientMessage =
  | { readonly type: 'joinGroup' | 'leaveGroup'; readonly group: string; readonly ackId?: number }
  | {
      readonly type: 'sendToGroup';
      readonly group: string;
      readonly ackId?: number;
      readonly noEcho: boolean;
      readonly dataType: CloudEventDataType;
      readonly data: Buffer;
    }
  | {
      readonly type: 'event';
      readonly event: string;
      readonly ackId?: number;
      readonly dataType: CloudEventDataType;
      readonly data: Buffer;
    }
  | { readonly type: 'sequenceAck'; readonly sequenceId: number }
  | { readonly type: 'ping' };

/** A client message the service cannot read; `ackId` when one could be read, so the client gets its ack. */
export class ClientMessageError extends Error {
  constructor(
    message: string,
    readonly ackId?: number,
  ) {
    super(message);
  }
}

/** Azure's `ack` error names. */
export type AckErrorName = 'Forbidden' | 'InvalidRequest' | 'Duplicate' | 'InternalServerError';

const DATA_TYPES: readonly CloudEventDataType[] = ['text', 'json', 'binary'];

/**
 * Parses one client frame. Data arrives as the client wrote it (`text`: a string, `json`: any JSON value,
 * `binary`: base64) and leaves as the bytes the upstream or a group receives.
 */
export function parseClientMessage(frame: string): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    throw new ClientMessageError('The message is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ClientMessageError('The message must be a JSON object with a "type"');
  }
  const m = value as Record<string, unknown>;
  const ackId = m.ackId === undefined || m.ackId === null ? undefined : m.ackId;
  if (ackId !== undefined && (typeof ackId !== 'number' || !Number.isSafeInteger(ackId) || ackId < 0)) {
    throw new ClientMessageError('"ackId" must be a non-negative integer');
  }
  const withAck = ackId === undefined ? {} : { ackId };
  const fail = (message: string): never => {
    throw new ClientMessageError(message, ackId);
  };
  switch (m.type) {
    case 'joinGroup':
    case 'leaveGroup':
      return { type: m.type, group: groupOf(m.group, fail), ...withAck };
    case 'sendToGroup':
      return {
        type: 'sendToGroup',
        group: groupOf(m.group, fail),
        noEcho: m.noEcho === true,
        ...dataOf(m, fail),
        ...withAck,
      };
    case 'event': {
      if (typeof m.event !== 'string' || m.event === '') return fail('"event" must name the event');
      return { type: 'event', event: m.event, ...dataOf(m, fail), ...withAck };
    }
    case 'sequenceAck':
      if (typeof m.sequenceId !== 'number' || !Number.isSafeInteger(m.sequenceId) || m.sequenceId < 0) {
        return fail('"sequenceId" must be a non-negative integer');
      }
      return { type: 'sequenceAck', sequenceId: m.sequenceId };
    case 'ping':
      return { type: 'ping' };
    default:
      return fail(
        `Unknown message type ${JSON.stringify(m.type)}: use joinGroup, leaveGroup, sendToGroup, event, sequenceAck or ping`,
      );
  }
}

function groupOf(group: unknown, fail: (message: string) => never): string {
  if (typeof group !== 'string' || group === '') return fail('"group" must name the group');
  return group;
}

function dataOf(
  m: Record<string, unknown>,
  fail: (message: string) => never,
): { dataType: CloudEventDataType; data: Buffer } {
  const dataType = m.dataType as CloudEventDataType;
  if (!DATA_TYPES.includes(dataType)) return fail('"dataType" must be text, json or binary');
  if (dataType === 'json') return { dataType, data: Buffer.from(JSON.stringify(m.data ?? null), 'utf8') };
  if (typeof m.data !== 'string') return fail(`"data" must be a string for dataType ${dataType}`);
  return {
    dataType,
    data: dataType === 'binary' ? Buffer.from(m.data, 'base64') : Buffer.from(m.data, 'utf8'),
  };
}

/** Data as a JSON subprotocol message carries it: text as a string, JSON as its value, bytes as base64. */
export function dataField(dataType: CloudEventDataType, data: Buffer): unknown {
  switch (dataType) {
    case 'binary':
      return data.toString('base64');
    case 'json':
      try {
        return JSON.parse(data.toString('utf8'));
      } catch {
        return data.toString('utf8');
      }
    default:
      return data.toString('utf8');
  }
}

/** An `ack`: success, or Azure's error name and message. */
export function ackMessage(ackId: number, error?: { name: AckErrorName; message: string }): string {
  return JSON.stringify(
    error ? { type: 'ack', ackId, success: false, error } : { type: 'ack', ackId, success: true },
  );
}

/** The `system` `connected` message (the reliable subprotocol adds the reconnection token). */
export function connectedMessage(
  connectionId: string,
  userId: string | undefined,
  reconnectionToken?: string,
): string {
  return JSON.stringify({
    type: 'system',
    event: 'connected',
    userId: userId ?? null,
    connectionId,
    ...(reconnectionToken !== undefined ? { reconnectionToken } : {}),
  });
}

/** The `system` `disconnected` message, sent before the service closes the connection. */
export function disconnectedMessage(reason: string): string {
  return JSON.stringify({ type: 'system', event: 'disconnected', message: reason });
}

/** The content type of an event handler's answer as a data type (Azure: JSON, text, else binary). */
export function dataTypeOfContentType(contentType: string | null): CloudEventDataType {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json') return 'json';
  if (type === 'text/plain') return 'text';
  return 'binary';
}
