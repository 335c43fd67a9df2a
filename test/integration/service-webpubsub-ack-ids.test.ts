/**
 * The ack ids a Web PubSub connection remembers (`webPubSubMaxRememberedAckIds`, docs/local-service.md, "Limits"):
 * a message sent again with a remembered ack id is answered `Duplicate` and not handled twice; past the bound the
 * oldest ids are forgotten, so the connection's memory for them stays bounded.
 */
import { once } from 'node:events';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEV_WEBPUBSUB_ACCESS_KEY } from '../../src/local/dev-constants.js';
import { type RunningService, startService } from '../../src/local/service/index.js';

const REMEMBERED = 2;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Ack {
  readonly ackId: number;
  readonly success: boolean;
  readonly error?: { readonly name: string };
}

describe('remembered ack ids of a Web PubSub connection', () => {
  it('answers a remembered ack id Duplicate and forgets the oldest past the bound', async () => {
    const service: RunningService = await startService({
      port: 0,
      log: () => undefined,
      webPubSubMaxRememberedAckIds: REMEMBERED,
    });
    cleanups.push(() => service.close());
    const rest = new WebPubSubServiceClient(
      `Endpoint=http://localhost:${service.port};AccessKey=${DEV_WEBPUBSUB_ACCESS_KEY};Version=1.0;`,
      'chat',
    );
    const { url } = await rest.getClientAccessToken({ userId: 'a', roles: ['webpubsub.joinLeaveGroup'] });
    const socket = new WebSocket(url, 'json.webpubsub.azure.v1');
    cleanups.push(() => socket.terminate());
    const acks: Ack[] = [];
    const waiting: Array<(ack: Ack) => void> = [];
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string } & Ack;
      if (frame.type !== 'ack') return;
      acks.push(frame);
      waiting.shift()?.(frame);
    });
    await once(socket, 'open');
    const join = (ackId: number) =>
      new Promise<Ack>((resolve) => {
        waiting.push(resolve);
        socket.send(JSON.stringify({ type: 'joinGroup', group: 'g', ackId }));
      });
    for (const id of [1, 2, 3]) expect((await join(id)).success).toBe(true);
    // 3 is remembered: handled once.
    const again = await join(3);
    expect(again.success).toBe(false);
    expect(again.error?.name).toBe('Duplicate');
    // 1 was the oldest of three with room for two: forgotten, so handled as new.
    expect(await join(1)).toEqual({ type: 'ack', ackId: 1, success: true });
  });
});
