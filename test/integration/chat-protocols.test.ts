/**
 * Both hub protocols and Microsoft-minted tokens through the whole local stack, driven by the official
 * `@microsoft/signalr` client (with Microsoft's `@microsoft/signalr-protocol-msgpack` for MessagePack): the
 * client talks to the local service, whose upstream is the app. Azure writes an invocation's upstream
 * answer to the client as it is, so `invoke` works only because the app frames a Completion in the caller's
 * protocol.
 */
import { type HubConnection, HubConnectionBuilder, LogLevel } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { clientUrl, createRestToken } from '../../src/lib/signalr/tokens.js';
import { DEV_ACCESS_KEY } from '../../src/local/dev-constants.js';
import type { ReceivedEvent } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';
import { http } from '../support/local-service.js';

const chat = useChatStack();

interface Client {
  readonly connection: HubConnection;
  readonly events: ReceivedEvent[];
  waitFor(predicate: (e: ReceivedEvent) => boolean): Promise<ReceivedEvent>;
}

const EVENTS = ['welcome', 'message', 'history', 'presence', 'system', 'error'];

/** The official client, through the app's negotiate (as the page connects) or straight to a service URL. */
async function open(
  protocol: 'json' | 'messagepack',
  target: { user: string } | { url: string; token: () => Promise<string> },
): Promise<Client> {
  const builder = new HubConnectionBuilder().configureLogging(LogLevel.Warning);
  if ('user' in target) {
    builder.withUrl(`${chat.stack.functionsUrl}/api?name=${encodeURIComponent(target.user)}`);
  } else {
    builder.withUrl(target.url, { accessTokenFactory: target.token });
  }
  if (protocol === 'messagepack') builder.withHubProtocol(new MessagePackHubProtocol());
  const connection = builder.build();
  const events: ReceivedEvent[] = [];
  const waiters: Array<{ predicate: (e: ReceivedEvent) => boolean; resolve: (e: ReceivedEvent) => void }> =
    [];
  for (const name of EVENTS) {
    connection.on(name, (payload: Record<string, unknown>) => {
      const event = { type: name, payload };
      events.push(event);
      for (const waiter of waiters.filter((w) => w.predicate(event))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    });
  }
  await connection.start();
  return {
    connection,
    events,
    waitFor(predicate) {
      const found = events.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
  };
}

const messageWithText = (text: string) => (e: ReceivedEvent) =>
  e.type === 'message' && e.payload.text === text;

describe('hub protocols through the app and the local service', () => {
  it('a MessagePack client and a JSON client chat, invoke with result and with error, and send', async () => {
    const mia = await open('messagepack', { user: 'mia' });
    const jon = await open('json', { user: 'jon' });
    try {
      expect((await mia.waitFor((e) => e.type === 'welcome')).payload).toMatchObject({ user: 'mia' });
      await jon.waitFor((e) => e.type === 'welcome');

      // send: no Completion; the fan-out reaches both protocols.
      await mia.connection.send('sendMessage', { text: 'from msgpack' });
      expect((await jon.waitFor(messageWithText('from msgpack'))).payload).toMatchObject({ from: 'mia' });
      await mia.waitFor(messageWithText('from msgpack'));
      await jon.connection.send('sendMessage', { text: 'from json' });
      expect((await mia.waitFor(messageWithText('from json'))).payload).toMatchObject({ from: 'jon' });

      // invoke with a result, in each protocol.
      for (const client of [mia, jon]) {
        const page = (await client.connection.invoke('loadHistory', { conversation: 'room', limit: 2 })) as {
          conversation: string;
          messages: Array<{ text: string }>;
        };
        expect(page.conversation).toBe('room');
        expect(page.messages.map((m) => m.text)).toEqual(['from msgpack', 'from json']);
      }

      // invoke with an error, in each protocol: the Completion's error becomes the rejection.
      for (const client of [mia, jon]) {
        await expect(client.connection.invoke('loadHistory', { conversation: 'lobby' })).rejects.toThrow(
          /conversation/,
        );
        await expect(client.connection.invoke('noSuchCommand', {})).rejects.toThrow(/Unknown command/);
      }
      // The connections survived it all.
      await mia.connection.send('sendMessage', { text: 'still here' });
      await jon.waitFor(messageWithText('still here'));
    } finally {
      await Promise.all([mia.connection.stop(), jon.connection.stop()]);
    }
  });

  it('a token minted as Microsoft SDKs mint it (asrs.s.uid) names the user everywhere', async () => {
    const { serviceUrl } = chat.stack;
    const url = clientUrl(serviceUrl, 'chat');
    // The Management SDK and the Functions binding put the user id in asrs.s.uid, not in nameid.
    const token = () =>
      new SignJWT({ 'asrs.s.uid': 'uma', sub: 'someone-else' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setAudience(url)
        .setIssuedAt()
        .setNotBefore('0s')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(DEV_ACCESS_KEY));
    for (const protocol of ['json', 'messagepack'] as const) {
      const uma = await open(protocol, { url, token });
      try {
        // The app knew the user from X-ASRS-User-Id: its welcome names uma.
        expect((await uma.waitFor((e) => e.type === 'welcome')).payload).toMatchObject({ user: 'uma' });
        const rest = async (method: string, path: string, body?: unknown) => {
          const restUrl = `${serviceUrl}/api/v1/hubs/chat${path}`;
          return http(method, restUrl, {
            headers: {
              Authorization: `Bearer ${await createRestToken(DEV_ACCESS_KEY, restUrl)}`,
              ...(body ? { 'Content-Type': 'application/json' } : {}),
            },
            ...(body ? { body: JSON.stringify(body) } : {}),
          });
        };
        expect((await rest('HEAD', '/users/uma')).status).toBe(200);
        expect((await rest('HEAD', '/users/someone-else')).status).toBe(404);
        expect((await rest('PUT', '/groups/crew/users/uma')).status).toBeLessThan(300);
        expect((await rest('HEAD', '/groups/crew/users/uma')).status).toBe(200);
        expect(
          (
            await rest('POST', '/users/uma', {
              target: 'message',
              arguments: [{ text: `to uma over ${protocol}` }],
            })
          ).status,
        ).toBe(202);
        await uma.waitFor(messageWithText(`to uma over ${protocol}`));
        // A chat command goes upstream as uma.
        await uma.connection.send('sendMessage', { text: `uma speaks ${protocol}` });
        expect((await uma.waitFor(messageWithText(`uma speaks ${protocol}`))).payload).toMatchObject({
          from: 'uma',
        });
      } finally {
        await uma.connection.stop();
      }
    }
  });
});
