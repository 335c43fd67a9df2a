/**
 * The local service's REST API against Microsoft's data-plane REST specs, driven by the hand-made operation
 * table (test/fixtures/rest-operations.ts): every operation of v1, 2020-10-01 and 2022-06-01 is called on a
 * running service with real connected clients, and must answer the table's success status and do what it
 * says; then its not-found case (404 where the spec has one, success where it has none) and each name rule
 * of its parameters (400, in the version's error shape).
 */
import { describe, expect, it } from 'vitest';
import { HubClient } from '../../src/lib/signalr/rest/client.js';
import { createRestToken } from '../../src/lib/signalr/tokens.js';
import type { RunningService } from '../../src/local/service/index.js';
import {
  GROUP_PATTERN,
  HUB_PATTERN,
  type Missing,
  SPEC_TABLES,
  type SpecOperation,
  type SpecTable,
  type SpecVersion,
} from '../fixtures/rest-operations.js';
import { type HttpResult, http, PRIMARY_KEY, useServiceTest } from '../support/local-service.js';
import { SignalRRawClient } from '../support/signalr-raw-client.js';

const { service, defer } = useServiceTest();

const HUB = 'chat';
const USER = 'ann';

/** What the path template's names become in one call. */
interface Names {
  hub: string;
  user: string;
  connectionId: string;
  group: string;
}

interface CallOptions {
  names: Names;
  query?: Array<[string, string]>;
  /** Leaves out api-version (to test its default or its requirement). */
  noApiVersion?: boolean;
  body?: string;
}

/** Calls an operation of the table: its path with `names`, its version's api-version, a PayloadMessage body. */
async function callOperation(
  svc: RunningService,
  table: SpecTable,
  op: SpecOperation,
  options: CallOptions,
): Promise<HttpResult> {
  const { names } = options;
  const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = name === 'id' ? names.user : names[name as keyof Names];
    return encodeURIComponent(value);
  });
  const url = new URL(`${svc.url}${path}`);
  if (table.version !== 'v1' && !options.noApiVersion) url.searchParams.set('api-version', table.version);
  for (const [name, value] of options.query ?? []) url.searchParams.append(name, value);
  const headers: Record<string, string> = {
    Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}`,
  };
  const hasBody = op.parameters.some((p) => p.in === 'body');
  if (hasBody) headers['Content-Type'] = 'application/json';
  return http(op.method, url.toString(), {
    headers,
    ...(hasBody ? { body: options.body ?? payload(table.version, op.operationId) } : {}),
  });
}

/** A PayloadMessage as the version's spec spells it (v1: `Target`/`Arguments`). */
function payload(version: SpecVersion, target: string): string {
  return version === 'v1'
    ? JSON.stringify({ Target: target, Arguments: [version, 1] })
    : JSON.stringify({ target, arguments: [version, 1] });
}

/** A v1 call used to set up or observe state (not the operation under test). */
async function v1(svc: RunningService, method: string, path: string, body?: unknown): Promise<number> {
  const url = `${svc.url}/api/v1/hubs/${HUB}${path}`;
  const headers: Record<string, string> = {
    Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}`,
  };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await http(method, url, {
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return res.status;
}

async function client(svc: RunningService, user: string): Promise<SignalRRawClient> {
  const c = await SignalRRawClient.open(svc.url, HUB, user);
  defer(() => c.close());
  return c;
}

/** The next Invocation a client receives: its target. */
async function nextTarget(c: SignalRRawClient): Promise<string> {
  const m = await c.next((x) => x.type === 1);
  return m.type === 1 ? m.target : '';
}

/** Whether `c` received nothing before a marker sent to it now. */
async function receivedNothing(svc: RunningService, c: SignalRRawClient): Promise<boolean> {
  expect(await v1(svc, 'POST', `/connections/${c.connectionId}`, { target: 'marker', arguments: [] })).toBe(
    202,
  );
  return (await nextTarget(c)) === 'marker';
}

/** The world of one operation: `a` (user ann) and `b` (user bo), both connected; `a` in group `room`. */
async function world(svc: RunningService) {
  const a = await client(svc, USER);
  const b = await client(svc, 'bo');
  expect(await v1(svc, 'PUT', `/groups/room/connections/${a.connectionId}`)).toBe(200);
  expect(await v1(svc, 'PUT', `/groups/room/connections/${b.connectionId}`)).toBe(200);
  return { a, b };
}

function expectSuccess(op: SpecOperation, res: HttpResult): void {
  expect(op.success, `${op.operationId} answered ${res.status}: ${res.text}`).toContain(res.status);
}

/** Calls the operation with everything present and checks what it did. */
async function foundCase(svc: RunningService, table: SpecTable, op: SpecOperation): Promise<void> {
  const { a, b } = await world(svc);
  const names: Names = { hub: HUB, user: USER, connectionId: a.connectionId, group: 'room' };
  const excluded: Array<[string, string]> = op.parameters.some((p) => p.name === 'excluded')
    ? [['excluded', b.connectionId]]
    : [];
  const reason: Array<[string, string]> = op.parameters.some((p) => p.name === 'reason')
    ? [['reason', 'spec']]
    : [];
  const call = (extra: Partial<CallOptions> = {}) =>
    callOperation(svc, table, op, { names, query: [...excluded, ...reason], ...extra });
  switch (op.action) {
    case 'health':
    case 'connectionExists':
    case 'groupExists':
    case 'userExists':
      expectSuccess(op, await call());
      return;
    case 'broadcast':
    case 'sendToGroup': {
      expectSuccess(op, await call());
      expect(await nextTarget(a)).toBe(op.operationId);
      // b is in the hub and in the group, but excluded.
      expect(await receivedNothing(svc, b)).toBe(true);
      return;
    }
    case 'sendToUser':
    case 'sendToConnection':
      expectSuccess(op, await call());
      expect(await nextTarget(a)).toBe(op.operationId);
      expect(await receivedNothing(svc, b)).toBe(true);
      return;
    case 'closeConnections':
    case 'closeGroupConnections':
    case 'closeUserConnections':
    case 'closeConnection': {
      expectSuccess(op, await call());
      expect((await a.closed).reason).toBe('spec');
      expect(await v1(svc, 'GET', `/connections/${b.connectionId}`)).toBe(200);
      return;
    }
    case 'userInGroup':
      expect(await v1(svc, 'PUT', `/groups/team/users/${USER}`)).toBe(202);
      expectSuccess(op, await call({ names: { ...names, group: 'team' } }));
      return;
    case 'addConnectionToGroup':
      expectSuccess(op, await call({ names: { ...names, group: 'new' } }));
      expect(await v1(svc, 'GET', '/groups/new')).toBe(200);
      expect(await v1(svc, 'GET', `/groups/new/users/${USER}`)).toBe(200);
      return;
    case 'removeConnectionFromGroup':
      expectSuccess(op, await call());
      expect(await v1(svc, 'GET', `/groups/room/users/${USER}`)).toBe(404);
      expect(await v1(svc, 'GET', '/groups/room')).toBe(200);
      return;
    case 'removeConnectionFromAllGroups':
      expect(await v1(svc, 'PUT', `/groups/other/connections/${a.connectionId}`)).toBe(200);
      expectSuccess(op, await call());
      expect(await v1(svc, 'GET', `/groups/room/users/${USER}`)).toBe(404);
      expect(await v1(svc, 'GET', '/groups/other')).toBe(404);
      return;
    case 'addUserToGroup': {
      expectSuccess(op, await call({ names: { ...names, group: 'team' } }));
      expect(await v1(svc, 'GET', `/groups/team/users/${USER}`)).toBe(200);
      // The membership reaches the user's later connections too.
      const later = await client(svc, USER);
      expect(await v1(svc, 'POST', '/groups/team', { target: 'team', arguments: [] })).toBe(202);
      expect(await nextTarget(later)).toBe('team');
      return;
    }
    case 'removeUserFromGroup':
      expect(await v1(svc, 'PUT', `/groups/team/users/${USER}`)).toBe(202);
      expectSuccess(op, await call({ names: { ...names, group: 'team' } }));
      expect(await v1(svc, 'GET', `/groups/team/users/${USER}`)).toBe(404);
      return;
    case 'removeUserFromAllGroups':
      expect(await v1(svc, 'PUT', `/groups/team/users/${USER}`)).toBe(202);
      expectSuccess(op, await call());
      expect(await v1(svc, 'GET', `/groups/team/users/${USER}`)).toBe(404);
      expect(await v1(svc, 'GET', `/groups/room/users/${USER}`)).toBe(404);
      expect(await v1(svc, 'GET', '/groups/room')).toBe(200);
      return;
  }
}

/** The names of a call where `missing` is not there (ann is connected, in no group of these names). */
function missingNames(missing: Missing, a: SignalRRawClient): Names {
  const names: Names = { hub: HUB, user: USER, connectionId: a.connectionId, group: 'room' };
  switch (missing) {
    case 'connection':
      return { ...names, connectionId: 'no-such-connection' };
    case 'user':
      return { ...names, user: 'nobody' };
    case 'group':
      return { ...names, group: 'empty' };
    case 'user-in-group':
    case 'connection-in-group':
      return { ...names, group: 'elsewhere' };
  }
}

function expectError(table: SpecTable, res: HttpResult, status: number, method: string): void {
  expect(res.status, res.text).toBe(status);
  if (method === 'HEAD') {
    expect(res.text).toBe('');
  } else if (table.version === 'v1') {
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text.length).toBeGreaterThan(10);
  } else {
    const detail = JSON.parse(res.text) as { code: string; message: string };
    expect(detail.code).toBe(res.headers['x-ms-error-code']);
    expect(detail.message.length).toBeGreaterThan(10);
  }
  if (table.version !== 'v1') expect(res.headers['x-ms-error-code']).toBeTruthy();
}

/** A name that breaks one rule of a parameter, with the rule. */
function badNames(
  op: SpecOperation,
): Array<{ rule: string; names?: Partial<Names>; query?: [string, string] }> {
  const cases: Array<{ rule: string; names?: Partial<Names>; query?: [string, string] }> = [];
  for (const p of op.parameters) {
    if (p.name === 'hub' && p.pattern === HUB_PATTERN)
      cases.push({ rule: 'hub pattern', names: { hub: '1chat' } });
    if (p.name === 'application' && p.pattern === HUB_PATTERN) {
      cases.push({ rule: 'application pattern', query: ['application', 'app-1'] });
    }
    const key = p.name === 'id' ? 'user' : (p.name as keyof Names);
    if (p.in !== 'path' || !['group', 'user', 'connectionId'].includes(key)) continue;
    if (p.maxLength !== undefined) {
      cases.push({
        rule: `${p.name} maxLength ${p.maxLength}`,
        names: { [key]: 'x'.repeat(p.maxLength + 1) },
      });
    }
    // An empty last segment is a trailing slash, which routing ignores: that URL addresses another operation.
    const last = op.path.endsWith(`{${p.name}}`);
    if (p.minLength !== undefined && !last) {
      cases.push({ rule: `${p.name} minLength ${p.minLength}`, names: { [key]: '' } });
    }
    if (p.pattern === GROUP_PATTERN)
      cases.push({ rule: `${p.name} not only whitespace`, names: { [key]: '  ' } });
  }
  return cases;
}

for (const table of SPEC_TABLES) {
  describe(`REST ${table.version} (${table.source.repository} ${table.source.path} @ ${table.source.commit.slice(0, 7)})`, () => {
    for (const op of table.operations) {
      it(`${op.operationId}: ${op.method} ${op.path} answers ${op.success.join(' or ')} and does it`, async () => {
        await foundCase(await service(), table, op);
      });

      const { notFound } = op;
      if (notFound.when !== undefined) {
        const missing = notFound.when;
        const status = notFound.kind === 'none' ? op.success.join(' or ') : '404';
        it(`${op.operationId} without the ${missing} answers ${status} (${notFound.kind === 'none' ? 'the spec has no 404' : `404 ${notFound.kind}`})`, async () => {
          const svc = await service();
          const a = await client(svc, USER);
          const res = await callOperation(svc, table, op, { names: missingNames(missing, a) });
          if (notFound.kind === 'none') expectSuccess(op, res);
          else expectError(table, res, 404, op.method);
        });
      }

      for (const bad of badNames(op)) {
        it(`${op.operationId} refuses a name breaking the ${bad.rule} with 400`, async () => {
          const svc = await service();
          const names: Names = { hub: HUB, user: USER, connectionId: 'c', group: 'room', ...bad.names };
          const res = await callOperation(svc, table, op, {
            names,
            ...(bad.query ? { query: [bad.query] } : {}),
          });
          expectError(table, res, 400, op.method);
        });
      }
    }
  });
}

describe('REST details around the specs', () => {
  it('accepts every character of the hub pattern, and the v1 paths apply it too (as the emulator does)', async () => {
    const svc = await service();
    const hub = 'Chat_1`,.[]';
    const send = async (path: string) => {
      const url = `${svc.url}${path}`;
      return http('POST', url, {
        headers: {
          Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}`,
          'Content-Type': 'application/json',
        },
        body: '{"target":"t"}',
      });
    };
    expect((await send(`/api/hubs/${encodeURIComponent(hub)}/:send?api-version=2022-06-01`)).status).toBe(
      202,
    );
    expect((await send(`/api/v1/hubs/${encodeURIComponent(hub)}`)).status).toBe(202);
    const long = await send(`/api/v1/hubs/${'h'.repeat(129)}`);
    expect(long.status).toBe(400);
    expect(long.text).toContain('Valid hub name should be in between 1 and 128 characters long');
    expect((await send(`/api/v1/hubs/${'h'.repeat(128)}`)).status).toBe(202);
  });

  it('needs api-version where 2022-06-01 is the only spec of the operation, defaults it to 2020-10-01 elsewhere, and refuses unknown ones', async () => {
    const svc = await service();
    const call = async (method: string, path: string) => {
      const url = `${svc.url}${path}`;
      return http(method, url, {
        headers: { Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}` },
      });
    };
    const required = await call('POST', '/api/hubs/chat/:closeConnections');
    expect(required.status).toBe(400);
    expect(required.headers['x-ms-error-code']).toBe('invalid-request');
    expect(JSON.parse(required.text).message).toContain('api-version=2022-06-01');
    // Without api-version, 2020-10-01: RemoveUserFromGroup answers 200 (2022-06-01: 204).
    expect((await call('DELETE', '/api/hubs/chat/users/ann/groups/g')).status).toBe(200);
    expect((await call('DELETE', '/api/hubs/chat/users/ann/groups/g?api-version=2022-06-01')).status).toBe(
      204,
    );
    const unknown = await call('DELETE', '/api/hubs/chat/users/ann/groups/g?api-version=2019-01-01');
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.text).message).toContain('2020-10-01 or 2022-06-01');
    // Health needs no token.
    expect((await http('HEAD', `${svc.url}/api/health?api-version=2022-06-01`)).status).toBe(200);
    expect((await http('HEAD', `${svc.url}/api/v1/health`)).status).toBe(200);
    expect((await http('GET', `${svc.url}/api/health`)).status).toBe(200);
    expect((await http('POST', `${svc.url}/api/health`)).status).toBe(405);
  });

  it('routes what the emulator routes beyond the specs: GET checks on /api, both path orders, and 2022-06-01 operations under /api/v1', async () => {
    const svc = await service();
    const a = await client(svc, USER);
    const call = async (method: string, path: string) => {
      const url = `${svc.url}${path}`;
      return (
        await http(method, url, {
          headers: { Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}` },
        })
      ).status;
    };
    const v = '?api-version=2022-06-01';
    // Azure's Management SDK checks user-in-group with GET on the 2022-06-01 path.
    expect(await call('PUT', `/api/hubs/chat/users/ann/groups/g${v}`)).toBe(200);
    expect(await call('GET', `/api/hubs/chat/users/ann/groups/g${v}`)).toBe(200);
    expect(await call('GET', `/api/hubs/chat/groups/g/users/ann${v}`)).toBe(200);
    expect(await call('GET', `/api/hubs/chat/connections/${a.connectionId}${v}`)).toBe(200);
    expect(await call('PUT', `/api/v1/hubs/chat/connections/${a.connectionId}/groups/h`)).toBe(200);
    expect(await call('HEAD', '/api/v1/hubs/chat/groups/h')).toBe(200);
    expect(await call('DELETE', `/api/v1/hubs/chat/connections/${a.connectionId}/groups`)).toBe(200);
    expect(await call('HEAD', '/api/v1/hubs/chat/groups/h')).toBe(404);
    expect(await call('POST', '/api/v1/hubs/chat/users/ann/:closeConnections')).toBe(204);
    expect((await a.closed).code).toBe(1000);
  });

  it('keeps a user in a group for ttl seconds, and ttl=0 adds only the current connections', async () => {
    const svc = await service();
    const a = await client(svc, USER);
    expect(await v1(svc, 'PUT', '/groups/now/users/ann?ttl=0')).toBe(202);
    expect(await v1(svc, 'GET', '/groups/now')).toBe(200);
    const later = await client(svc, USER);
    expect(await v1(svc, 'POST', '/groups/now', { target: 'now', arguments: [] })).toBe(202);
    expect(await nextTarget(a)).toBe('now');
    expect(await receivedNothing(svc, later)).toBe(true);
    expect(await v1(svc, 'PUT', '/groups/g/users/ann?ttl=-1')).toBe(400);
    expect(await v1(svc, 'PUT', '/groups/g/users/ann?ttl=soon')).toBe(400);
  });

  it('refuses a body that is not JSON with 415, and accepts the spec casing of each version', async () => {
    const svc = await service();
    const a = await client(svc, USER);
    const url = `${svc.url}/api/v1/hubs/chat`;
    const headers = { Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}` };
    const text = await http('POST', url, {
      headers: { ...headers, 'Content-Type': 'text/plain' },
      body: '{"target":"t"}',
    });
    expect(text.status).toBe(415);
    const empty = await http('POST', url, { headers: { ...headers, 'Content-Type': 'application/json' } });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Message in request body is required');
    const pascal = await http('POST', url, {
      headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8' },
      body: '{"Target":"pascal","Arguments":[1]}',
    });
    expect(pascal.status).toBe(202);
    expect(await a.next((m) => m.type === 1)).toMatchObject({ target: 'pascal', arguments: [1] });
  });
});

describe('the REST client (HubClient) against the service', () => {
  it('runs every operation', async () => {
    const svc = await service();
    const hub = new HubClient({
      connection: { endpoint: svc.url, credential: { kind: 'key', accessKey: PRIMARY_KEY } },
      hub: HUB,
    });
    const a = await client(svc, USER);
    const id = a.connectionId;
    await hub.sendToAll({ target: 'all', arguments: [] });
    await hub.sendToUser(USER, { target: 'user', arguments: [] });
    await hub.sendToConnection(id, { target: 'connection', arguments: [] });
    await hub.addConnectionToGroup('g', id);
    expect(await hub.groupExists('g')).toBe(true);
    await hub.sendToGroup('g', { target: 'group', arguments: [] });
    await hub.removeConnectionFromGroup('g', id);
    expect(await hub.groupExists('g')).toBe(false);
    await expect(hub.addUserToGroup('team', USER, { ttlSeconds: 2 ** 31 })).rejects.toThrow(/at most/);
    await hub.addUserToGroup('now', USER, { ttlSeconds: 0 });
    expect(await hub.groupExists('now')).toBe(true);
    await hub.addUserToGroup('team', USER, { ttlSeconds: 60 });
    expect(await hub.groupExists('team')).toBe(true);
    await hub.removeUserFromGroup('team', USER);
    await hub.addUserToGroup('team', USER);
    await hub.removeUserFromAllGroups(USER);
    expect(await hub.groupExists('team')).toBe(false);
    expect(await hub.userExists(USER)).toBe(true);
    expect(await hub.userExists('nobody')).toBe(false);
    expect(await hub.connectionExists(id)).toBe(true);
    expect([await nextTarget(a), await nextTarget(a), await nextTarget(a), await nextTarget(a)]).toEqual([
      'all',
      'user',
      'connection',
      'group',
    ]);
    await hub.closeConnection(id, { reason: 'done' });
    expect((await a.closed).reason).toBe('done');
    expect(await hub.connectionExists(id)).toBe(false);
    // Closing a connection that is gone is not an error (the spec has no 404 for it).
    await hub.closeConnection(id);
  });
});
