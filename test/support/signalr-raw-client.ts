/**
 * A minimal SignalR client over a raw `ws` socket, for tests that need to see and send exact records (the
 * official client is exercised separately). It negotiates like the official client does, then performs the
 * handshake (JSON, or MessagePack with `protocol: 'messagepack'`) and queues every message it receives.
 */
import { once } from 'node:events';
import { WebSocket } from 'ws';
import {
  type HubMessage,
  HubMessageType,
  parseHandshakeResponse,
  parseHubMessages,
  writeHubMessage,
} from '../../src/lib/signalr/hub-protocol.js';
import { parseMessagePackMessages, writeMessagePackMessage } from '../../src/lib/signalr/messagepack.js';
import { clientUrl, createClientToken } from '../../src/lib/signalr/tokens.js';
import { http, PRIMARY_KEY } from './local-service.js';

export class SignalRRawClient {
  /** Every non-Ping message received, in order. */
  readonly messages: HubMessage[] = [];
  /** Every raw text frame received after the handshake (JSON). */
  readonly frames: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiting: Array<{ predicate: (m: HubMessage) => boolean; resolve: (m: HubMessage) => void }> = [];
  #read = 0;

  private constructor(
    readonly ws: WebSocket,
    readonly connectionId: string,
    readonly protocol: 'json' | 'messagepack',
  ) {
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })),
    );
  }

  /** Negotiates, opens the WebSocket and completes the handshake. */
  static async open(
    serviceUrl: string,
    hub: string,
    userId: string,
    options: { claims?: Record<string, string>; query?: string; protocol?: 'json' | 'messagepack' } = {},
  ): Promise<SignalRRawClient> {
    const protocol = options.protocol ?? 'json';
    const token = await createClientToken(PRIMARY_KEY, clientUrl(serviceUrl, hub), {
      userId,
      ...(options.claims ? { claims: options.claims } : {}),
    });
    const negotiated = await http('POST', `${serviceUrl}/client/negotiate?hub=${hub}&negotiateVersion=1`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (negotiated.status !== 200)
      throw new Error(`negotiate answered ${negotiated.status}: ${negotiated.text}`);
    const { connectionId, connectionToken } = JSON.parse(negotiated.text) as {
      connectionId: string;
      connectionToken: string;
    };
    const ws = new WebSocket(
      `${serviceUrl.replace('http', 'ws')}/client/?hub=${hub}&id=${connectionToken}&access_token=${token}${options.query ?? ''}`,
    );
    ws.on('error', () => {});
    const client = new SignalRRawClient(ws, connectionId, protocol);
    await once(ws, 'open');
    ws.send(`{"protocol":"${protocol}","version":1}\x1e`);
    const [first] = (await once(ws, 'message')) as [Buffer];
    // The handshake answer is JSON text in either protocol; MessagePack messages follow it in their own frames.
    const response = parseHandshakeResponse(first.toString('utf8'));
    if (response.error) throw new Error(`handshake refused: ${response.error}`);
    if (protocol === 'messagepack') {
      ws.on('message', (data: Buffer) => client.#deliver(parseMessagePackMessages(data)));
      const rest = first.subarray(first.indexOf(0x1e) + 1);
      if (rest.length > 0) client.#deliver(parseMessagePackMessages(rest));
      return client;
    }
    ws.on('message', (data: Buffer) => client.#receive(data.toString('utf8')));
    if (response.rest) client.#receive(response.rest);
    return client;
  }

  #receive(text: string): void {
    this.frames.push(text);
    this.#deliver(parseHubMessages(text));
  }

  #deliver(messages: readonly HubMessage[]): void {
    for (const message of messages) {
      if (message.type === HubMessageType.Ping) continue;
      this.messages.push(message);
      const waiter = this.#waiting.find((w) => w.predicate(message));
      if (waiter) {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  }

  /** The first message (not yet returned by `next`) that matches. */
  next(predicate: (m: HubMessage) => boolean = () => true): Promise<HubMessage> {
    for (let i = this.#read; i < this.messages.length; i++) {
      const message = this.messages[i] as HubMessage;
      if (predicate(message)) {
        this.#read = i + 1;
        return Promise.resolve(message);
      }
    }
    return new Promise((resolve) => {
      this.#waiting.push({
        predicate,
        resolve: (m) => {
          this.#read = this.messages.length;
          resolve(m);
        },
      });
    });
  }

  send(message: HubMessage): void {
    this.ws.send(this.protocol === 'json' ? writeHubMessage(message) : writeMessagePackMessage(message));
  }

  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close();
    await this.closed;
  }
}
