/**
 * The chat's upstream endpoint (`POST/OPTIONS /api/messages`) serving Azure Web PubSub: calls built as Azure sends
 * them (CloudEvents binary mode, signed with the Web PubSub key by node:crypto here), the real chat handlers and
 * history in Azurite, and the chat's fan-out arriving at a loopback stand-in for Web PubSub's REST API.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { HttpResponseInit } from '@azure/functions';
import azureFunctions from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetChatServices } from '../../src/app/services.js';
import { messages } from '../../src/app/upstream-adapter.js';
import { useAzurite } from '../support/fixtures.js';
import { startWebPubSubRest, type WebPubSubRestStandIn } from '../support/webpubsub-rest.js';

const { HttpRequest, InvocationContext } = azureFunctions;

const KEY = 'webpubsub-chat-key-0123456789abcdefghijklmnop';
const storage = useAzurite();

let azure: WebPubSubRestStandIn;
const saved = { ...process.env };

beforeAll(async () => {
  azure = await startWebPubSubRest(KEY);
  process.env.AzureSignalRConnectionString =
    'Endpoint=http://127.0.0.1:1;AccessKey=signalr-key-0123456789;Version=1.0;';
  process.env.CHAT_HISTORY_STORAGE = storage.azurite.connectionString;
  process.env.CHAT_HISTORY_CONTAINER = `wps-${randomUUID()}`;
  process.env.REALTIME_SERVICE = 'webpubsub';
  process.env.WebPubSubConnectionString = azure.connectionString();
  process.env.CHAT_DIALECTS = 'websocket';
  resetChatServices();
});

afterAll(async () => {
  process.env = saved;
  resetChatServices();
  await azure.stop();
});

/** One call as Azure sends it, signed for `connectionId` with the Web PubSub key. */
function call(
  type: string,
  connectionId: string,
  userId: string,
  body: string,
  contentType = 'application/json; charset=utf-8',
  key = KEY,
) {
  const signature = createHmac('sha256', key).update(connectionId).digest('hex');
  return new HttpRequest({
    method: 'POST',
    url: 'http://localhost:7071/api/messages',
    headers: {
      'WebHook-Request-Origin': new URL(azure.base).host,
      'Content-Type': contentType,
      'ce-specversion': '1.0',
      'ce-type': type,
      'ce-source': `/hubs/chat/client/${connectionId}`,
      'ce-id': randomUUID(),
      'ce-time': new Date().toISOString(),
      'ce-awpsversion': '1.0',
      'ce-signature': `sha256=${signature}`,
      'ce-userId': userId,
      'ce-connectionId': connectionId,
      'ce-hub': 'chat',
      'ce-eventName': type.split('.').at(-1) as string,
    },
    body: { string: body },
  });
}

const context = () => new InvocationContext({ functionName: 'messages', logHandler: () => undefined });

function frames(operationId: string): Array<Record<string, unknown>> {
  return azure.received.filter((r) => r.operationId === operationId).map((r) => JSON.parse(r.body));
}

async function send(request: InstanceType<typeof HttpRequest>): Promise<HttpResponseInit> {
  return messages(request, context());
}

describe('the chat over Azure Web PubSub calls', () => {
  it('answers the handshake for its own service only', async () => {
    const handshake = (origin: string) =>
      send(
        new HttpRequest({
          method: 'OPTIONS',
          url: 'http://localhost:7071/api/messages',
          headers: { 'WebHook-Request-Origin': origin },
        }),
      );
    const own = await handshake(new URL(azure.base).host);
    expect(own.status).toBe(200);
    expect(new Headers(own.headers as Record<string, string>).get('WebHook-Allowed-Origin')).toBe(
      new URL(azure.base).host,
    );
    expect((await handshake('other.webpubsub.azure.com')).status).toBe(403);
  });

  it('connects, welcomes at connected, stores and fans out a message, and leaves', async () => {
    const connect = await send(
      call(
        'azure.webpubsub.sys.connect',
        'conn-ann',
        'ann',
        JSON.stringify({ claims: {}, query: {}, headers: {}, subprotocols: [] }),
      ),
    );
    expect(connect.status).toBe(204);

    const connected = await send(call('azure.webpubsub.sys.connected', 'conn-ann', 'ann', '{}'));
    expect(connected.status).toBe(204);
    const welcome = azure.received.find((r) => r.operationId === 'WebPubSub_SendToConnection');
    expect(welcome?.params.connectionId).toBe('conn-ann');
    expect(JSON.parse(welcome?.body ?? '{}').type).toBe('welcome');

    const message = await send(
      call(
        'azure.webpubsub.user.message',
        'conn-ann',
        'ann',
        JSON.stringify({ type: 'sendMessage', text: 'hello over Web PubSub', clientMessageId: 'm1' }),
        'text/plain',
      ),
    );
    expect(message.status === 204 || message.status === 200).toBe(true);
    const toAll = frames('WebPubSub_SendToAll').find((frame) => frame.type === 'message');
    expect(toAll).toMatchObject({ text: 'hello over Web PubSub', from: 'ann', clientMessageId: 'm1' });

    // A JSON user event (json.webpubsub.azure.v1's dataType json) is the same command.
    const history = await send(
      call(
        'azure.webpubsub.user.message',
        'conn-ann',
        'ann',
        JSON.stringify({ type: 'loadHistory', conversation: 'room' }),
        'application/json',
      ),
    );
    expect(history.status).toBe(200);
    expect(new Headers(history.headers as Record<string, string>).get('content-type')).toMatch(
      /^text\/plain/,
    );
    const reply = JSON.parse(String(history.body));
    expect(reply.type).toBe('history');
    expect(JSON.stringify(reply)).toContain('hello over Web PubSub');

    const disconnected = await send(
      call('azure.webpubsub.sys.disconnected', 'conn-ann', 'ann', JSON.stringify({ reason: 'closed' })),
    );
    expect(disconnected.status).toBe(204);
    expect(azure.refused).toEqual([]);
  });

  it('refuses a connect without a valid user, and a call signed with another key', async () => {
    const noUser = await send(call('azure.webpubsub.sys.connect', 'conn-x', '', '{}'));
    expect(noUser.status).toBe(401);
    const forged = call('azure.webpubsub.sys.connect', 'conn-y', 'ann', '{}', undefined, 'another key');
    expect((await send(forged)).status).toBe(401);
  });
});
