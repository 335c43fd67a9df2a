/**
 * Microsoft's `@azure/web-pubsub` `WebPubSubServiceClient`, unmodified, against the local service's Web PubSub
 * REST API: every operation of the 2024-12-01 spec through the client, with an access key (connection string)
 * and with Microsoft Entra (a TokenCredential from the repo's local identity endpoint), each answered with the
 * status the client expects; SignalR's REST API at the same paths keeps answering SignalR callers.
 */
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { createDefaultHttpClient, type HttpClient } from '@azure/core-rest-pipeline';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestToken } from '../../src/lib/signalr/tokens.js';
import { DEV_ACCESS_KEY, DEV_WEBPUBSUB_ACCESS_KEY } from '../../src/local/dev-constants.js';
import {
  DEV_APP_IDENTITY,
  type RunningIdentityEndpoint,
  startIdentityEndpoint,
} from '../../src/local/identity/index.js';
import { identityServiceOptions } from '../../src/local/identity-wiring.js';
import { type RunningService, startService } from '../../src/local/service/index.js';
import { connect, http, startUpstream, type TestUpstream } from '../support/local-service.js';

/** Every call of the client the spec's operations map to, on a hub with no connections. */
async function everyOperation(client: WebPubSubServiceClient) {
  const group = client.group('room');
  await client.sendToAll('hello', { contentType: 'text/plain' });
  await client.sendToAll({ kind: 'json' }, { filter: "userId eq 'ann'", messageTtlSeconds: 10 });
  await client.sendToAll(new Uint8Array([1, 2, 3]).buffer, { excludedConnections: ['x', 'y'] });
  await client.sendToUser('ann', 'to ann', { contentType: 'text/plain', filter: "'room' in groups" });
  await group.sendToAll('to room', { contentType: 'text/plain', excludedConnections: ['x'], filter: 'true' });
  await expect(client.sendToConnection('gone', 'x', { contentType: 'text/plain' })).rejects.toMatchObject({
    statusCode: 404,
  });
  expect(await client.connectionExists('gone')).toBe(false);
  expect(await client.userExists('ann')).toBe(false);
  expect(await client.groupExists('room')).toBe(false);
  await client.closeAllConnections({ reason: 'bye' });
  await client.closeUserConnections('ann', { reason: 'bye' });
  await group.closeAllConnections({ reason: 'bye' });
  await client.closeConnection('gone', { reason: 'bye' });
  await client.removeConnectionFromAllGroups('gone');
  await expect(group.addConnection('gone')).rejects.toMatchObject({ statusCode: 404 });
  await group.removeConnection('gone');
  await group.addUser('ann');
  await group.removeUser('ann');
  await client.removeUserFromAllGroups('ann');
  await client.addConnectionsToGroups(['room', 'lobby'], "userId eq 'ann'");
  await client.removeConnectionsFromGroups(['room'], "userId eq 'ann'");
  const listed = [];
  for await (const member of await group.listConnections()) listed.push(member);
  expect(listed).toEqual([]);
  await expect(client.grantPermission('gone', 'sendToGroup', { targetName: 'room' })).rejects.toMatchObject({
    statusCode: 404,
  });
  await client.revokePermission('gone', 'joinLeaveGroup');
  expect(await client.hasPermission('gone', 'joinLeaveGroup', { targetName: 'room' })).toBe(false);
  return client.getClientAccessToken({
    userId: 'ann',
    roles: ['webpubsub.sendToGroup.room', 'webpubsub.joinLeaveGroup'],
    groups: ['room'],
    expirationTimeInMinutes: 5,
  });
}

describe('WebPubSubServiceClient with an access key', () => {
  let service: RunningService;
  let client: WebPubSubServiceClient;

  beforeAll(async () => {
    service = await startService({ port: 0, log: () => {} });
    client = new WebPubSubServiceClient(
      `Endpoint=${service.url};AccessKey=${DEV_WEBPUBSUB_ACCESS_KEY};Version=1.0;`,
      'chat',
      { allowInsecureConnection: true },
    );
  });
  afterAll(async () => {
    await service?.close();
  });

  it('runs every operation of the spec with the statuses the client expects', async () => {
    const { token, url } = await everyOperation(client);
    expect(url).toBe(`${service.url.replace('http', 'ws')}/client/hubs/chat?access_token=${token}`);
  });

  it('refuses a filter that is not valid OData with 400 and where it went wrong', async () => {
    await expect(
      client.sendToAll('x', { contentType: 'text/plain', filter: "userId eq 'a' and" }),
    ).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining('ends too early'),
    });
    await expect(
      client.sendToAll('x', { contentType: 'text/plain', filter: 'role eq 1' }),
    ).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining('unknown name "role"'),
    });
  });

  it('leaves calls signed with the SignalR key to the SignalR REST API at the same path', async () => {
    const url = `${service.url}/api/hubs/chat/:send?api-version=2022-06-01`;
    const signalr = await http('POST', url, {
      headers: {
        Authorization: `Bearer ${await createRestToken(DEV_ACCESS_KEY, url.split('?')[0] as string)}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ target: 'newMessage', arguments: [] }),
    });
    expect(signalr.status).toBe(202);
    // The same SignalR call with Web PubSub's key is Web PubSub's, which has no 2022-06-01.
    const wps = await http('POST', url, {
      headers: {
        Authorization: `Bearer ${await createRestToken(DEV_WEBPUBSUB_ACCESS_KEY, url)}`,
        'Content-Type': 'application/json',
      },
      body: '{}',
    });
    expect(wps.status).toBe(400);
    expect(wps.headers['x-ms-error-code']).toBe('invalid-request');
    expect(JSON.parse(wps.text).error.message).toContain('2024-12-01');
  });

  it('refuses a token whose audience is another URL, in Azure error shape', async () => {
    const url = `${service.url}/api/hubs/chat/:send?api-version=2024-12-01`;
    const other = `${service.url}/api/hubs/other/:send?api-version=2024-12-01`;
    const response = await http('POST', url, {
      headers: {
        Authorization: `Bearer ${await createRestToken(DEV_WEBPUBSUB_ACCESS_KEY, other)}`,
        'Content-Type': 'text/plain',
      },
      body: 'x',
    });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.text).error).toMatchObject({ code: 'invalid-token' });
  });

  it(':generateToken mints a client token with the user, roles, groups and lifetime asked for', async () => {
    const tokenUrl = `${service.url}/api/hubs/chat/:generateToken?api-version=2024-12-01&userId=ann&role=webpubsub.joinLeaveGroup&role=webpubsub.sendToGroup.room&group=room&minutesToExpire=7`;
    const response = await http('POST', tokenUrl, {
      headers: { Authorization: `Bearer ${await createRestToken(DEV_WEBPUBSUB_ACCESS_KEY, tokenUrl)}` },
    });
    expect(response.status).toBe(200);
    const { token } = JSON.parse(response.text) as { token: string };
    const { payload } = await jwtVerify(token, new TextEncoder().encode(DEV_WEBPUBSUB_ACCESS_KEY), {
      audience: `${service.endpoint}/client/hubs/chat`,
    });
    expect(payload).toMatchObject({
      sub: 'ann',
      role: ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup.room'],
      'webpubsub.group': ['room'],
    });
    expect((payload.exp as number) - (payload.iat as number)).toBe(7 * 60);
    const mqtt = await http('POST', `${tokenUrl}&clientType=MQTT`, {
      headers: {
        Authorization: `Bearer ${await createRestToken(DEV_WEBPUBSUB_ACCESS_KEY, `${tokenUrl}&clientType=MQTT`)}`,
      },
    });
    expect(mqtt.status).toBe(400);
  });
});

describe('WebPubSubServiceClient with Microsoft Entra (identity mode)', () => {
  let idp: RunningIdentityEndpoint;
  let upstream: TestUpstream;
  let service: RunningService;
  let client: WebPubSubServiceClient;
  const scopes: string[] = [];

  beforeAll(async () => {
    idp = await startIdentityEndpoint();
    upstream = await startUpstream();
    service = await startService({
      ...identityServiceOptions(idp, `${upstream.url}/api/messages?event={event}`),
      // No event handlers: the clients here need no app to accept them.
      webPubSubHubs: {},
      port: 0,
      log: () => {},
    });
    const credential: TokenCredential = {
      async getToken(scope): Promise<AccessToken> {
        const wanted = Array.isArray(scope) ? (scope[0] as string) : scope;
        scopes.push(wanted);
        const token = await idp.mint(DEV_APP_IDENTITY, wanted.replace(/\/\.default$/, ''));
        return { token, expiresOnTimestamp: (decodeJwt(token).exp as number) * 1000 };
      },
    };
    // The pipeline sends bearer tokens over https only; this HttpClient carries its https requests to the
    // service's plain loopback http (the request, its headers and token unchanged).
    const loopback = createDefaultHttpClient();
    const httpClient: HttpClient = {
      sendRequest: (request) => {
        request.url = request.url.replace(/^https:/, 'http:');
        request.allowInsecureConnection = true;
        return loopback.sendRequest(request);
      },
    };
    client = new WebPubSubServiceClient(service.url.replace(/^http:/, 'https:'), credential, 'chat', {
      httpClient,
    });
  });
  afterAll(async () => {
    await service?.close();
    await upstream?.close();
    await idp?.close();
  });

  it('runs every operation with an Entra token for https://webpubsub.azure.com', async () => {
    const { token } = await everyOperation(client);
    expect(scopes[0]).toBe('https://webpubsub.azure.com/.default');
    // Keyless: the token came from :generateToken, for the Web PubSub client URL.
    expect(decodeJwt(token)).toMatchObject({ aud: `${service.endpoint}/client/hubs/chat`, sub: 'ann' });
  });

  it('reaches a client connected with a keyless token, and changes its groups', async () => {
    const { url } = await client.getClientAccessToken({ userId: 'bea' });
    const bea = await connect(url.replace(/^wss:/, 'ws:'), 'json.webpubsub.azure.v1');
    try {
      const { connectionId } = JSON.parse((await bea.next()).text) as { connectionId: string };
      await client.group('room').addConnection(connectionId);
      await client.group('room').sendToAll('to room', { contentType: 'text/plain' });
      expect(JSON.parse((await bea.next()).text)).toMatchObject({ from: 'server', data: 'to room' });
      expect(await client.userExists('bea')).toBe(true);
    } finally {
      await bea.close();
    }
  });

  it('leaves Entra tokens for https://signalr.azure.com to the SignalR REST API', async () => {
    const signalrToken = await idp.mint(DEV_APP_IDENTITY, 'https://signalr.azure.com');
    const response = await http('POST', `${service.url}/api/hubs/chat/:send?api-version=2024-12-01`, {
      headers: { Authorization: `Bearer ${signalrToken}`, 'Content-Type': 'text/plain' },
      body: 'x',
    });
    // SignalR's REST API answers it (in its own error shape), not Web PubSub's.
    expect(JSON.parse(response.text).error).toBeUndefined();
  });
});
