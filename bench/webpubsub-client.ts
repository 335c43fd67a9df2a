/**
 * The lean bench client of Azure Web PubSub (the local service's Web PubSub wing): a WebSocket at
 * `/client/hubs/{hub}?access_token=…` with a JSON subprotocol, written out here (not `@azure/web-pubsub-client`)
 * so that a thousand clients in one process measure the server, not the client library.
 *
 * - `json.webpubsub.azure.v1` for fan-out, echo and memory: server messages arrive as
 *   `{"type":"message","from":"server","dataType":…,"data":…}`; `send(text)` is the user event `message` (or
 *   `options.target`) with `dataType: text`, whose upstream answer comes back as a server message.
 * - `json.reliable.webpubsub.azure.v1` for the chat, as the page speaks it (static/link/webpubsub-link.js): every
 *   command is the user event `message` with `dataType: json` and an `ackId`; the newest `sequenceId` is
 *   acknowledged at most once a second, so the service's resend buffer stays as small as the page keeps it.
 *
 * The client resolves once the service's `system` `connected` message has arrived: from then on a broadcast
 * reaches it.
 */
import WebSocket from 'ws';
import { WEBPUBSUB_SUBPROTOCOLS } from '../src/lib/webpubsub/protocol.js';
import type { BenchConnection, Incoming } from './clients.js';

/** The user event the chat's commands travel as (static/link/webpubsub-link.js, `COMMAND_EVENT`). */
export const COMMAND_EVENT = 'message';

/** Longest wait before the newest `sequenceId` is acknowledged (the page's `SEQUENCE_ACK_DELAY_MS`). */
export const SEQUENCE_ACK_DELAY_MS = 1000;

/** How long the service may take to say `connected` after the upgrade. */
export const CONNECTED_TIMEOUT_MS = 30_000;

export type WebPubSubFraming = 'json' | 'reliable';

interface ServerFrame {
  type?: string;
  event?: string;
  data?: unknown;
  sequenceId?: number;
  success?: boolean;
  ackId?: number;
  error?: { name?: string; message?: string };
}

/** Opens one Web PubSub client at `url` (its `access_token` in the query) with `framing`. */
export async function openWebPubSub(
  url: string,
  framing: WebPubSubFraming,
  onMessage: (message: Incoming) => void,
): Promise<BenchConnection> {
  const subprotocol =
    framing === 'reliable' ? WEBPUBSUB_SUBPROTOCOLS.reliableJson : WEBPUBSUB_SUBPROTOCOLS.json;
  const socket = new WebSocket(url.replace(/^http/, 'ws'), subprotocol, { perMessageDeflate: false });
  let newestSequence = 0;
  let ackedSequence = 0;
  let ackTimer: NodeJS.Timeout | undefined;
  const acknowledge = () => {
    ackTimer = undefined;
    if (newestSequence <= ackedSequence || socket.readyState !== WebSocket.OPEN) return;
    ackedSequence = newestSequence;
    socket.send(`{"type":"sequenceAck","sequenceId":${newestSequence}}`);
  };
  let connected: (() => void) | undefined;
  let connectTimer: NodeJS.Timeout | undefined;
  const whenConnected = new Promise<void>((resolve, reject) => {
    connected = resolve;
    connectTimer = setTimeout(() => reject(new Error('no connected message in time')), CONNECTED_TIMEOUT_MS);
    socket.once('close', (code, reason) =>
      reject(new Error(`closed before connected (${code} ${reason.toString()})`)),
    );
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) =>
      reject(new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`)),
    );
  }).finally(() => clearTimeout(connectTimer));
  socket.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as ServerFrame;
    if (typeof frame.sequenceId === 'number') {
      newestSequence = Math.max(newestSequence, frame.sequenceId);
      ackTimer ??= setTimeout(acknowledge, SEQUENCE_ACK_DELAY_MS);
    }
    if (frame.type === 'message') {
      const data = frame.data as { type?: unknown } | string | null | undefined;
      // A chat event (JSON data with its `type`) reaches the bench as a SignalR invocation does, parsed once:
      // its type as the target and the event as the argument, not turned back into text to be parsed again.
      if (typeof data === 'object' && data !== null && typeof data.type === 'string')
        onMessage({ kind: 'invocation', target: data.type, argument: data });
      else onMessage({ kind: 'text', text: typeof data === 'string' ? data : JSON.stringify(data) });
    } else if (frame.type === 'system' && frame.event === 'connected') {
      connected?.();
    } else if (frame.type === 'ack' && frame.success === false && frame.error?.name !== 'Duplicate')
      onMessage({
        kind: 'completion',
        invocationId: String(frame.ackId),
        error: `${frame.error?.name}: ${frame.error?.message}`,
      });
  });
  await whenConnected;
  socket.on('error', () => {}); // a reset during teardown is not a bench failure
  socket.on('close', () => clearTimeout(ackTimer));
  let nextAckId = 1;
  const event = (name: string, dataType: 'text' | 'json', data: unknown) => {
    const ack = framing === 'reliable' ? `,"ackId":${nextAckId++}` : '';
    socket.send(
      `{"type":"event","event":${JSON.stringify(name)},"dataType":"${dataType}","data":${JSON.stringify(data)}${ack}}`,
    );
  };
  return {
    socket,
    send: (text, options = {}) => event(options.target ?? COMMAND_EVENT, 'text', text),
    command: (target, argument) => event(COMMAND_EVENT, 'json', { type: target, ...argument }),
    close: () => {
      clearTimeout(ackTimer);
      socket.terminate();
    },
  };
}
