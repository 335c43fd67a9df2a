/**
 * The chat's fan-out through Azure Web PubSub (REALTIME_SERVICE=webpubsub): Microsoft's WebPubSubServiceClient,
 * built from the app's settings, against a loopback stand-in for Azure's REST API that takes only the spec's
 * operations (test/support/webpubsub-rest.ts); and negotiate's Web PubSub client URL.
 */
import azureFunctions from '@azure/functions';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { negotiate } from '../../src/app/negotiate.js';
import { chatServices, resetChatServices } from '../../src/app/services.js';
import { Fanout } from '../../src/lib/chat/fanout.js';
import { websocketCodec } from '../../src/lib/chat/wire/codec.js';
import type { ChatEvent } from '../../src/lib/chat/wire/protocol.js';
import { webPubSubChannel } from '../../src/lib/chat/wire/webpubsub-channel.js';
import { webPubSubService } from '../../src/lib/webpubsub/index.js';
import { startWebPubSubRest, type WebPubSubRestStandIn } from '../support/webpubsub-rest.js';

const { HttpRequest, InvocationContext } = azureFunctions;

const KEY = 'webpubsub-test-key-0123456789abcdefghijklmnop';

let azure: WebPubSubRestStandIn;
let base: string;
let received: WebPubSubRestStandIn['received'];
let refused: WebPubSubRestStandIn['refused'];

beforeAll(async () => {
  azure = await startWebPubSubRest(KEY);
  azure.connectedUsers.add('ann');
  ({ base, received, refused } = azure);
});

afterAll(() => azure.stop());

const connectionString = () => azure.connectionString();

const event: ChatEvent = {
  event: 'presence',
  payload: { joined: ['ann'], left: [] },
} as unknown as ChatEvent;

describe('the Web PubSub chat channel over @azure/web-pubsub', () => {
  it('sends each fan-out as the spec operation with the websocket frame as text, excluded ids as repeated query', async () => {
    received.length = 0;
    const service = webPubSubService({ kind: 'key', connectionString: connectionString() }, { hub: 'chat' });
    expect(service.accessKeys).toEqual([KEY]);
    expect(service.hosts).toEqual([new URL(base).host]);
    const channel = webPubSubChannel(service.client);
    await channel.sendToAll(event, { excluded: ['c1', 'c2'] });
    await channel.sendToGroup('room one', event);
    await channel.sendToUser('ann', event);
    await channel.sendToConnection('c3', event);
    await channel.addUserToGroup('room one', 'ann');
    await channel.removeUserFromGroup('room one', 'ann');
    expect(await channel.userExists('ann')).toBe(true);
    expect(await channel.userExists('bob')).toBe(false);

    expect(refused).toEqual([]);
    expect(received.map((r) => r.operationId)).toEqual([
      'WebPubSub_SendToAll',
      'WebPubSub_SendToGroup',
      'WebPubSub_SendToUser',
      'WebPubSub_SendToConnection',
      'WebPubSub_AddUserToGroup',
      'WebPubSub_RemoveUserFromGroup',
      'WebPubSub_UserExists',
      'WebPubSub_UserExists',
    ]);
    const frame = websocketCodec.encode(event);
    for (const send of received.slice(0, 4)) {
      expect(send.params.hub).toBe('chat');
      expect(send.contentType).toMatch(/^text\/plain/);
      expect(send.body).toBe(frame);
    }
    expect(received[0]?.query.getAll('excluded')).toEqual(['c1', 'c2']);
    expect(received[1]?.params.group).toBe('room one');
    expect(received[3]?.params.connectionId).toBe('c3');
    expect(received[4]?.params).toEqual({ hub: 'chat', group: 'room one', userId: 'ann' });
  });

  it('is the websocket dialect’s way out when REALTIME_SERVICE=webpubsub', async () => {
    received.length = 0;
    resetChatServices();
    const services = chatServices({
      AzureSignalRConnectionString:
        'Endpoint=http://127.0.0.1:1;AccessKey=signalr-key-0123456789;Version=1.0;',
      CHAT_HISTORY_STORAGE: 'UseDevelopmentStorage=true',
      REALTIME_SERVICE: 'webpubsub',
      WebPubSubConnectionString: connectionString(),
      CHAT_DIALECTS: 'websocket',
    });
    expect(services.webPubSub.accessKeys).toEqual([KEY]);
    expect(services.webPubSub.hosts).toEqual([new URL(base).host]);
    const warnings: unknown[] = [];
    const fanout = new Fanout(services, services.dialects, { warn: (...args) => warnings.push(args) });
    await fanout.toAll(event);
    await fanout.toUser('ann', event);
    expect(warnings).toEqual([]);
    expect(received.map((r) => r.operationId)).toEqual(['WebPubSub_SendToAll', 'WebPubSub_SendToUser']);
    resetChatServices();
  });

  it('carries the whole chat with Web PubSub alone, as azd deploys it: no SignalR setting, no SignalR client', async () => {
    received.length = 0;
    resetChatServices();
    const services = chatServices({
      CHAT_HISTORY_STORAGE: 'UseDevelopmentStorage=true',
      REALTIME_SERVICE: 'webpubsub',
      WebPubSubConnectionString: connectionString(),
      CHAT_DIALECTS: 'websocket',
      CHAT_HUB_NAME: 'lobby',
    });
    expect(services.hub).toBe('lobby');
    // Key mode follows from the access key: ce-signature is checked, no bearer token.
    expect(services.upstreamBearer).toBeUndefined();
    expect(services.webPubSub.accessKeys).toEqual([KEY]);
    const warnings: unknown[] = [];
    const fanout = new Fanout(services, services.dialects, { warn: (...args) => warnings.push(args) });
    await fanout.toAll(event);
    expect(warnings).toEqual([]);
    expect(received.map((r) => [r.operationId, r.params.hub])).toEqual([['WebPubSub_SendToAll', 'lobby']]);
    // Asking for a SignalR client names what is missing instead of calling nowhere.
    expect(() => services.signalr).toThrow(/No SignalR service configured: set AzureSignalRConnectionString/);
    resetChatServices();
  });

  it('checks the bearer token of Web PubSub alone in identity mode, with the SIGNALR_UPSTREAM_* settings', () => {
    resetChatServices();
    const services = chatServices({
      CHAT_HISTORY_STORAGE: 'UseDevelopmentStorage=true',
      REALTIME_SERVICE: 'webpubsub',
      WEBPUBSUB_ENDPOINT: base,
      SIGNALR_AUTH: 'identity',
      SIGNALR_UPSTREAM_AUDIENCE: '11111111-2222-3333-4444-555555555555',
      SIGNALR_UPSTREAM_ISSUER: 'https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000aa/v2.0',
      SIGNALR_UPSTREAM_OPENID_CONFIGURATION:
        'https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000aa/.well-known/openid-configuration',
      SIGNALR_UPSTREAM_CALLER_ID: '99999999-0000-0000-0000-000000000001',
    });
    expect(services.upstreamBearer).toBeDefined();
    expect(services.webPubSub.accessKeys).toEqual([]);
    expect(() =>
      chatServices({
        CHAT_HISTORY_STORAGE: 'UseDevelopmentStorage=true',
        REALTIME_SERVICE: 'webpubsub',
        WEBPUBSUB_ENDPOINT: base,
        SIGNALR_AUTH: 'keys',
      }),
    ).toThrow(/SIGNALR_AUTH must be "identity" or "key", not "keys"/);
    resetChatServices();
  });

  it('names the missing settings when REALTIME_SERVICE=webpubsub has neither a connection string nor an endpoint', () => {
    resetChatServices();
    expect(() =>
      chatServices({
        AzureSignalRConnectionString:
          'Endpoint=http://127.0.0.1:1;AccessKey=signalr-key-0123456789;Version=1.0;',
        CHAT_HISTORY_STORAGE: 'UseDevelopmentStorage=true',
        REALTIME_SERVICE: 'webpubsub',
      }),
    ).toThrow(/WebPubSubConnectionString \(access key\) or WEBPUBSUB_ENDPOINT \(managed identity\)/);
    resetChatServices();
  });
});

describe('negotiate with REALTIME_SERVICE=webpubsub', () => {
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
    resetChatServices();
  });

  it('hands ?service=webpubsub a Web PubSub client URL whose token the service accepts (key mode: signed locally)', async () => {
    process.env.AzureSignalRConnectionString =
      'Endpoint=http://127.0.0.1:1;AccessKey=signalr-key-0123456789;Version=1.0;';
    process.env.CHAT_HISTORY_STORAGE = 'UseDevelopmentStorage=true';
    process.env.REALTIME_SERVICE = 'webpubsub';
    process.env.WebPubSubConnectionString = connectionString();
    resetChatServices();
    received.length = 0;
    const request = new HttpRequest({
      method: 'POST',
      url: 'http://localhost:7071/api/negotiate?name=ann&service=webpubsub',
    });
    const context = new InvocationContext({ functionName: 'negotiate', logHandler: () => undefined });
    const res = await negotiate(request, context);
    expect(res.status).toBe(200);
    const { url, accessToken } = res.jsonBody as { url: string; accessToken: string };
    const client = new URL(url);
    expect(`${client.protocol}//${client.host}${client.pathname}`).toBe(
      `ws://${new URL(base).host}/client/hubs/chat`,
    );
    expect(client.searchParams.get('access_token')).toBe(accessToken);
    // Web PubSub's client token: HS256 with the access key, audience the client endpoint, the user as `sub`.
    const { payload } = await jwtVerify(accessToken, new TextEncoder().encode(KEY), {
      audience: `${base}/client/hubs/chat`,
      algorithms: ['HS256'],
    });
    expect(payload.sub).toBe('ann');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
    expect(received).toEqual([]);
  });
});
