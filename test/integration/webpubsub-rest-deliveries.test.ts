/**
 * What the Web PubSub REST API does to real connections: Microsoft's `WebPubSubServiceClient`, unmodified, calls
 * the local service while `ws` clients connected with tokens from its `getClientAccessToken` receive, join,
 * leave and close. Deliveries are checked in order: after a send that must skip a client, a marker sent to
 * everyone is the next thing that client receives.
 */
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRestToken } from '../../src/lib/signalr/tokens.js';
import { DEV_WEBPUBSUB_ACCESS_KEY } from '../../src/local/dev-constants.js';
import { type RunningService, startService } from '../../src/local/service/index.js';
import { connect, http, type TestClient } from '../support/local-service.js';

const JSON_SUBPROTOCOL = 'json.webpubsub.azure.v1';

let service: RunningService;
let sdk: WebPubSubServiceClient;
const open: TestClient[] = [];

beforeAll(async () => {
  service = await startService({ port: 0, log: () => {} });
  sdk = new WebPubSubServiceClient(
    `Endpoint=${service.url};AccessKey=${DEV_WEBPUBSUB_ACCESS_KEY};Version=1.0;`,
    'chat',
    { allowInsecureConnection: true },
  );
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.close()));
});
afterAll(async () => {
  await service?.close();
});

interface Member {
  readonly client: TestClient;
  readonly connectionId: string;
}

/** A `json.webpubsub.azure.v1` client with a token from the SDK; its `connected` message gives its id. */
async function member(
  userId: string | undefined,
  options: { groups?: string[]; roles?: string[] } = {},
): Promise<Member> {
  const { url } = await sdk.getClientAccessToken({ ...(userId ? { userId } : {}), ...options });
  const client = await connect(url, JSON_SUBPROTOCOL);
  open.push(client);
  const connected = JSON.parse((await client.next()).text);
  expect(connected).toMatchObject({ type: 'system', event: 'connected' });
  return { client, connectionId: connected.connectionId as string };
}

/** The next server message a member receives: its data type and data. */
async function nextMessage(m: Member): Promise<{ dataType: string; data: unknown }> {
  const message = JSON.parse((await m.client.next()).text);
  expect(message).toMatchObject({ type: 'message', from: 'server' });
  return { dataType: message.dataType, data: message.data };
}

/** Sends a marker to the whole hub: the next message of anyone a send skipped. */
const marker = (name: string) => sdk.sendToAll(name, { contentType: 'text/plain' });

describe('sends', () => {
  it('reach everyone as text, JSON and binary, and skip excluded connections', async () => {
    const ann = await member('ann');
    const bob = await member('bob');
    await sdk.sendToAll('hello', { contentType: 'text/plain' });
    await sdk.sendToAll({ n: 1 });
    await sdk.sendToAll(new Uint8Array([1, 2, 3]).buffer);
    for (const m of [ann, bob]) {
      expect(await nextMessage(m)).toEqual({ dataType: 'text', data: 'hello' });
      expect(await nextMessage(m)).toEqual({ dataType: 'json', data: { n: 1 } });
      expect(await nextMessage(m)).toEqual({
        dataType: 'binary',
        data: Buffer.from([1, 2, 3]).toString('base64'),
      });
    }
    await sdk.sendToAll('not for ann', {
      contentType: 'text/plain',
      excludedConnections: [ann.connectionId],
    });
    await marker('m1');
    expect(await nextMessage(ann)).toEqual({ dataType: 'text', data: 'm1' });
    expect(await nextMessage(bob)).toEqual({ dataType: 'text', data: 'not for ann' });
  });

  it('reach a user, a group and a connection, each through its filter', async () => {
    const ann = await member('ann', { groups: ['room'] });
    const ann2 = await member('ann');
    const bob = await member('bob', { groups: ['room'] });
    await sdk.sendToUser('ann', 'to ann', { contentType: 'text/plain', filter: "'room' in groups" });
    await sdk.group('room').sendToAll('to room', { contentType: 'text/plain', filter: "userId ne 'ann'" });
    await sdk.sendToConnection(ann2.connectionId, 'to ann2', { contentType: 'text/plain' });
    await sdk.sendToAll('filtered', {
      contentType: 'text/plain',
      filter: "startswith(userId, 'b') or userId eq null",
    });
    await marker('m2');
    expect(await nextMessage(ann)).toEqual({ dataType: 'text', data: 'to ann' });
    expect(await nextMessage(ann)).toEqual({ dataType: 'text', data: 'm2' });
    expect(await nextMessage(ann2)).toEqual({ dataType: 'text', data: 'to ann2' });
    expect(await nextMessage(ann2)).toEqual({ dataType: 'text', data: 'm2' });
    expect(await nextMessage(bob)).toEqual({ dataType: 'text', data: 'to room' });
    expect(await nextMessage(bob)).toEqual({ dataType: 'text', data: 'filtered' });
    expect(await nextMessage(bob)).toEqual({ dataType: 'text', data: 'm2' });
  });

  it("number each reliable connection's messages by its own sequence, one broadcast to all", async () => {
    const reliable = async (userId: string) => {
      const { url } = await sdk.getClientAccessToken({ userId });
      const client = await connect(url, 'json.reliable.webpubsub.azure.v1');
      open.push(client);
      expect(JSON.parse((await client.next()).text)).toMatchObject({ event: 'connected' });
      return async () => JSON.parse((await client.next()).text);
    };
    const ann = await reliable('ann');
    const bob = await reliable('bob');
    await sdk.sendToUser('ann', 'ann only', { contentType: 'text/plain' });
    await sdk.sendToAll({ to: 'all' });
    await sdk.sendToAll('again', { contentType: 'text/plain' });
    expect(await ann()).toEqual({
      type: 'message',
      from: 'server',
      dataType: 'text',
      data: 'ann only',
      sequenceId: 1,
    });
    expect(await ann()).toEqual({
      type: 'message',
      from: 'server',
      dataType: 'json',
      data: { to: 'all' },
      sequenceId: 2,
    });
    expect(await ann()).toEqual({
      type: 'message',
      from: 'server',
      dataType: 'text',
      data: 'again',
      sequenceId: 3,
    });
    expect(await bob()).toEqual({
      type: 'message',
      from: 'server',
      dataType: 'json',
      data: { to: 'all' },
      sequenceId: 1,
    });
    expect(await bob()).toEqual({
      type: 'message',
      from: 'server',
      dataType: 'text',
      data: 'again',
      sequenceId: 2,
    });
  });

  it('reach a plain WebSocket as frames: text as text, binary as binary', async () => {
    const { url } = await sdk.getClientAccessToken({ userId: 'cat' });
    const plain = await connect(url);
    open.push(plain);
    await sdk.sendToUser('cat', 'plain text', { contentType: 'text/plain' });
    await sdk.sendToUser('cat', new Uint8Array([9, 8]).buffer);
    expect(await plain.next()).toMatchObject({ isBinary: false, text: 'plain text' });
    const binary = await plain.next();
    expect(binary.isBinary).toBe(true);
    expect([...binary.data]).toEqual([9, 8]);
  });
});

describe('groups and users', () => {
  it('add and remove connections and users, as the existence checks and deliveries show', async () => {
    const ann = await member('ann');
    const bob = await member('bob');
    const group = sdk.group('room');
    expect(await sdk.groupExists('room')).toBe(false);
    await group.addConnection(ann.connectionId);
    expect(await sdk.groupExists('room')).toBe(true);
    await group.addUser('bob');
    const listed = [];
    for await (const c of await group.listConnections({ maxPageSize: 1 })) listed.push(c);
    expect(listed.map((c) => c.connectionId).sort()).toEqual([ann.connectionId, bob.connectionId].sort());
    await group.sendToAll('both', { contentType: 'text/plain' });
    expect(await nextMessage(ann)).toEqual({ dataType: 'text', data: 'both' });
    expect(await nextMessage(bob)).toEqual({ dataType: 'text', data: 'both' });
    await group.removeConnection(ann.connectionId);
    await group.sendToAll('bob only', { contentType: 'text/plain' });
    await marker('m3');
    expect(await nextMessage(ann)).toEqual({ dataType: 'text', data: 'm3' });
    expect(await nextMessage(bob)).toEqual({ dataType: 'text', data: 'bob only' });
    expect(await nextMessage(bob)).toEqual({ dataType: 'text', data: 'm3' });
    await group.removeUser('bob');
    expect(await sdk.groupExists('room')).toBe(false);
    expect(await sdk.userExists('bob')).toBe(true);
    expect(await sdk.connectionExists(bob.connectionId)).toBe(true);
  });

  it('empty all of a connection or a user, and add by filter across the hub', async () => {
    const ann = await member('ann', { groups: ['a', 'b'] });
    const bob = await member('bob', { groups: ['a', 'b'] });
    await sdk.removeConnectionFromAllGroups(ann.connectionId);
    await sdk.removeUserFromAllGroups('bob');
    expect(await sdk.groupExists('a')).toBe(false);
    expect(await sdk.groupExists('b')).toBe(false);
    await sdk.addConnectionsToGroups(['c', 'd'], "userId eq 'bob'");
    expect(await sdk.groupExists('c')).toBe(true);
    await sdk.group('d').sendToAll('to d', { contentType: 'text/plain' });
    await marker('m4');
    expect(await nextMessage(ann)).toEqual({ dataType: 'text', data: 'm4' });
    expect(await nextMessage(bob)).toEqual({ dataType: 'text', data: 'to d' });
    await sdk.removeConnectionsFromGroups(['c', 'd'], 'true');
    expect(await sdk.groupExists('c')).toBe(false);
    expect(await sdk.groupExists('d')).toBe(false);
  });
});

describe('permissions', () => {
  it('are granted, checked and revoked, and the client can then join the group', async () => {
    const ann = await member('ann');
    expect(await sdk.hasPermission(ann.connectionId, 'joinLeaveGroup', { targetName: 'room' })).toBe(false);
    ann.client.ws.send(JSON.stringify({ type: 'joinGroup', group: 'room', ackId: 1 }));
    expect(JSON.parse((await ann.client.next()).text)).toMatchObject({
      type: 'ack',
      ackId: 1,
      success: false,
    });
    await sdk.grantPermission(ann.connectionId, 'joinLeaveGroup', { targetName: 'room' });
    expect(await sdk.hasPermission(ann.connectionId, 'joinLeaveGroup', { targetName: 'room' })).toBe(true);
    expect(await sdk.hasPermission(ann.connectionId, 'joinLeaveGroup', { targetName: 'other' })).toBe(false);
    ann.client.ws.send(JSON.stringify({ type: 'joinGroup', group: 'room', ackId: 2 }));
    expect(JSON.parse((await ann.client.next()).text)).toMatchObject({
      type: 'ack',
      ackId: 2,
      success: true,
    });
    expect(await sdk.groupExists('room')).toBe(true);
    await sdk.revokePermission(ann.connectionId, 'joinLeaveGroup', { targetName: 'room' });
    expect(await sdk.hasPermission(ann.connectionId, 'joinLeaveGroup', { targetName: 'room' })).toBe(false);
  });
});

describe('closes', () => {
  it('close one connection, a user, a group (with excluded) and the hub, with the reason', async () => {
    const ann = await member('ann');
    await sdk.closeConnection(ann.connectionId, { reason: 'maintenance' });
    expect(JSON.parse((await ann.client.next()).text)).toMatchObject({
      type: 'system',
      event: 'disconnected',
      message: 'maintenance',
    });
    await ann.client.closed;
    expect(await sdk.connectionExists(ann.connectionId)).toBe(false);

    const bob = await member('bob');
    await sdk.closeUserConnections('bob', { reason: 'bye bob' });
    await bob.client.closed;
    expect(await sdk.userExists('bob')).toBe(false);

    const cat = await member('cat', { groups: ['room'] });
    const dan = await member('dan', { groups: ['room'] });
    const url = `${service.url}/api/hubs/chat/groups/room/:closeConnections?api-version=2024-12-01&excluded=${encodeURIComponent(dan.connectionId)}&reason=later`;
    const closed = await http('POST', url, {
      headers: { Authorization: `Bearer ${await createRestToken(DEV_WEBPUBSUB_ACCESS_KEY, url)}` },
    });
    expect(closed.status).toBe(204);
    await cat.client.closed;
    expect(await sdk.connectionExists(dan.connectionId)).toBe(true);

    await sdk.closeAllConnections({ reason: 'all' });
    await dan.client.closed;
    expect(await sdk.connectionExists(dan.connectionId)).toBe(false);
  });
});
