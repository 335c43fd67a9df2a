/**
 * The local service's REST API against SignalR's 2023-07-01 and 2024-12-01 specs (the faithful extractions in
 * test/fixtures/specs/, read through test/fixtures/rest-operations-newer.ts): every operation of both is called
 * on a running service with real connected clients (raw WebSockets, and Microsoft's `@microsoft/signalr` for
 * client results) under its version, must answer the status the spec lists and do what it says; then each name
 * rule of its parameters is broken (400 in the `ErrorDetail` shape), and an operation the older versions lack
 * is refused under them.
 */
import { HttpTransportType, HubConnectionBuilder, LogLevel } from '@microsoft/signalr';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { clientUrl, createRestToken } from '../../src/lib/signalr/tokens.js';
import type { RunningService } from '../../src/local/service/index.js';
import { GROUP_PATTERN, HUB_PATTERN, V2022 } from '../fixtures/rest-operations.js';
import {
  NEWER_SPECS,
  type NewerOperation,
  type NewerSpec,
  successOf,
} from '../fixtures/rest-operations-newer.js';
import { type HttpResult, http, PRIMARY_KEY, useServiceTest } from '../support/local-service.js';
import { SignalRRawClient } from '../support/signalr-raw-client.js';

const { service, defer } = useServiceTest();

const HUB = 'chat';

interface Names {
  hub: string;
  user: string;
  connectionId: string;
  group: string;
  streamId: string;
}

/** Calls an operation: its path with `names`, `api-version` of `version`, the query and a JSON body. */
async function call(
  svc: RunningService,
  op: NewerOperation,
  version: string | null,
  names: Names,
  options: { query?: Array<[string, string]>; body?: unknown } = {},
): Promise<HttpResult> {
  const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(names[name as keyof Names]),
  );
  const url = new URL(`${svc.url}${path}`);
  for (const [name, value] of options.query ?? []) url.searchParams.append(name, value);
  if (version !== null) url.searchParams.set('api-version', version);
  const headers: Record<string, string> = {
    Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}`,
  };
  const hasBody = options.body !== undefined || op.parameters.some((p) => p.in === 'body');
  if (hasBody) headers['Content-Type'] = 'application/json';
  const body = options.body ?? { target: op.operationId, arguments: [1] };
  return http(op.method, url.toString(), { headers, ...(hasBody ? { body: JSON.stringify(body) } : {}) });
}

/** A v1 call that sets up or observes state (not the operation under test). */
async function v1(svc: RunningService, method: string, path: string, body?: unknown): Promise<number> {
  const url = `${svc.url}/api/v1/hubs/${HUB}${path}`;
  const headers: Record<string, string> = {
    Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}`,
  };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return (await http(method, url, { headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }))
    .status;
}

async function rawClient(svc: RunningService, user: string): Promise<SignalRRawClient> {
  const c = await SignalRRawClient.open(svc.url, HUB, user);
  defer(() => c.close());
  return c;
}

async function nextTarget(c: SignalRRawClient): Promise<string> {
  const m = await c.next((x) => x.type === 1);
  return m.type === 1 ? m.target : '';
}

/** Whether `c` received no Invocation before a marker sent to it now. */
async function receivedNothing(svc: RunningService, c: SignalRRawClient): Promise<boolean> {
  expect(await v1(svc, 'POST', `/connections/${c.connectionId}`, { target: 'marker', arguments: [] })).toBe(
    202,
  );
  return (await nextTarget(c)) === 'marker';
}

/** Ann (`a`) and Bo (`b`) connected, both in group `room`. */
async function world(svc: RunningService) {
  const a = await rawClient(svc, 'ann');
  const b = await rawClient(svc, 'bo');
  expect(await v1(svc, 'PUT', `/groups/room/connections/${a.connectionId}`)).toBe(200);
  expect(await v1(svc, 'PUT', `/groups/room/connections/${b.connectionId}`)).toBe(200);
  return { a, b };
}

/** A connection of Microsoft's client that answers `add` with the sum of its arguments (a client result). */
async function officialClient(svc: RunningService, user: string) {
  const token = await new SignJWT({ 'asrs.s.uid': user })
    .setProtectedHeader({ alg: 'HS256' })
    .setAudience(clientUrl(svc.url, HUB))
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(PRIMARY_KEY));
  const connection = new HubConnectionBuilder()
    .withUrl(clientUrl(svc.url, HUB), {
      transport: HttpTransportType.WebSockets,
      accessTokenFactory: () => token,
    })
    .configureLogging(LogLevel.None)
    .build();
  connection.on('add', (x: number, y: number) => x + y);
  connection.on('fail', () => {
    throw new Error('no such thing');
  });
  await connection.start();
  defer(() => connection.stop());
  return connection;
}

/** Calls the operation with everything present and checks what it did. */
async function foundCase(svc: RunningService, spec: NewerSpec, op: NewerOperation): Promise<void> {
  const version = spec.info.version;
  const { a, b } = await world(svc);
  const names: Names = { hub: HUB, user: 'ann', connectionId: a.connectionId, group: 'room', streamId: 's1' };
  const has = (name: string) => op.parameters.some((p) => p.name === name);
  const query: Array<[string, string]> = [
    ...(has('excluded') ? ([['excluded', b.connectionId]] as Array<[string, string]>) : []),
    ...(has('reason') ? ([['reason', 'spec']] as Array<[string, string]>) : []),
  ];
  const expectSuccess = (res: HttpResult) =>
    expect(res.status, `${op.operationId} answered ${res.status}: ${res.text}`).toBe(successOf(op));
  const run = (extra: { names?: Partial<Names>; query?: Array<[string, string]>; body?: unknown } = {}) =>
    call(
      svc,
      op,
      version,
      { ...names, ...extra.names },
      { query: [...query, ...(extra.query ?? [])], body: extra.body },
    );
  switch (op.operationId) {
    case 'Auth_GetAccessKey': {
      const res = await run();
      expectSuccess(res);
      const { AccessKey, KeyId } = JSON.parse(res.text) as { AccessKey: string; KeyId: string };
      expect(typeof KeyId).toBe('string');
      // Microsoft's SDKs sign client tokens with this key and put its id in the JWT header as `kid`.
      const token = await new SignJWT({ 'asrs.s.uid': 'cy' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: KeyId })
        .setAudience(clientUrl(svc.url, HUB))
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(AccessKey));
      const negotiated = await http('POST', `${svc.url}/client/negotiate?hub=${HUB}&negotiateVersion=1`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(negotiated.status, negotiated.text).toBe(200);
      return;
    }
    case 'HubProxyV20221101_GenerateClientToken': {
      const res = await run({ query: [['userId', 'cy']] });
      expectSuccess(res);
      const { token } = JSON.parse(res.text) as { token: string };
      const negotiated = await http('POST', `${svc.url}/client/negotiate?hub=${HUB}&negotiateVersion=1`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(negotiated.status, negotiated.text).toBe(200);
      return;
    }
    case 'HealthApi_GetServiceStatus':
    case 'SignalR_CheckConnectionExistence':
    case 'SignalR_CheckGroupExistence':
    case 'SignalR_CheckUserExistence':
      expectSuccess(await run());
      return;
    case 'SignalR_Broadcast':
    case 'SignalR_GroupBroadcast':
    case 'SignalR_SendToUser':
    case 'SignalR_SendToConnection':
      expectSuccess(await run());
      expect(await nextTarget(a)).toBe(op.operationId);
      expect(await receivedNothing(svc, b)).toBe(true);
      return;
    case 'SignalR_CloseConnections':
    case 'SignalR_CloseGroupConnections':
    case 'SignalR_CloseUserConnections':
    case 'SignalR_CloseConnection':
      expectSuccess(await run());
      expect((await a.closed).reason).toBe('spec');
      expect(a.frames.at(-1)).toBe('{"type":7,"error":"spec","allowReconnect":true}\x1e');
      expect(await v1(svc, 'GET', `/connections/${b.connectionId}`)).toBe(200);
      return;
    case 'SignalR_CheckUserExistenceInGroup':
      expect(await v1(svc, 'PUT', '/groups/team/users/ann')).toBe(202);
      expectSuccess(await run({ names: { group: 'team' } }));
      return;
    case 'SignalR_AddConnectionToGroup':
      expectSuccess(await run({ names: { group: 'new' } }));
      expect(await v1(svc, 'GET', '/groups/new/users/ann')).toBe(200);
      return;
    case 'SignalR_RemoveConnectionFromGroup':
      expectSuccess(await run());
      expect(await v1(svc, 'GET', '/groups/room/users/ann')).toBe(404);
      return;
    case 'SignalR_RemoveConnectionFromAllGroups':
      expect(await v1(svc, 'PUT', `/groups/other/connections/${a.connectionId}`)).toBe(200);
      expectSuccess(await run());
      expect(await v1(svc, 'GET', '/groups/room/users/ann')).toBe(404);
      expect(await v1(svc, 'GET', '/groups/other')).toBe(404);
      return;
    case 'SignalR_AddUserToGroup':
      expectSuccess(await run({ names: { group: 'team' }, query: [['ttl', '60']] }));
      expect(await v1(svc, 'GET', '/groups/team/users/ann')).toBe(200);
      return;
    case 'SignalR_RemoveUserFromGroup':
      expect(await v1(svc, 'PUT', '/groups/team/users/ann')).toBe(202);
      expectSuccess(await run({ names: { group: 'team' } }));
      expect(await v1(svc, 'GET', '/groups/team/users/ann')).toBe(404);
      return;
    case 'SignalR_RemoveUserFromAllGroups':
      expect(await v1(svc, 'PUT', '/groups/team/users/ann')).toBe(202);
      expectSuccess(await run());
      expect(await v1(svc, 'GET', '/groups/team/users/ann')).toBe(404);
      expect(await v1(svc, 'GET', '/groups/room/users/ann')).toBe(404);
      return;
    case 'HubProxyV20230701_Execute': {
      const commands = [
        { type: 'JoinGroup', group: 'executed' },
        { type: 'SendMessage', message: { target: 'executed', arguments: [version] } },
      ];
      expectSuccess(await run({ query: [['filter', "userId eq 'ann'"]], body: commands }));
      expect(await a.next((m) => m.type === 1)).toMatchObject({ target: 'executed', arguments: [version] });
      expect(await v1(svc, 'GET', '/groups/executed/users/ann')).toBe(200);
      expect(await v1(svc, 'GET', '/groups/executed/users/bo')).toBe(404);
      expect(await receivedNothing(svc, b)).toBe(true);
      return;
    }
    case 'HubProxyV20241201_InvokeClientConnection': {
      const official = await officialClient(svc, 'dee');
      const id = official.connectionId as string;
      const res = await run({ names: { connectionId: id }, body: { target: 'add', arguments: [2, 3] } });
      expectSuccess(res);
      expect(JSON.parse(res.text)).toEqual({ result: 5 });
      return;
    }
    case 'HubProxyV20241201_SendToConnectionStream':
      expectSuccess(await run({ query: [['completed', 'true']], body: { n: 1 } }));
      expect(await a.next((m) => m.type === 2)).toEqual({ type: 2, invocationId: 's1', item: { n: 1 } });
      expect(await a.next((m) => m.type === 3)).toEqual({ type: 3, invocationId: 's1' });
      return;
    case 'HubProxyV20241201_CompleteConnectionStream':
      expectSuccess(await run());
      expect(await a.next((m) => m.type === 3)).toEqual({ type: 3, invocationId: 's1', error: 'spec' });
      return;
    case 'HubProxyV20241201_ListConnectionsInGroup': {
      const res = await run();
      expectSuccess(res);
      const ids = [a.connectionId, b.connectionId].sort();
      const users = Object.fromEntries([
        [a.connectionId, 'ann'],
        [b.connectionId, 'bo'],
      ]);
      expect(JSON.parse(res.text)).toEqual({
        value: ids.map((id) => ({ connectionId: id, userId: users[id] })),
      });
      return;
    }
    default:
      throw new Error(`No check for ${op.operationId}: add one`);
  }
}

/** A value that breaks one rule of a parameter. */
function badNames(op: NewerOperation): Array<{ rule: string; names: Partial<Names> }> {
  const cases: Array<{ rule: string; names: Partial<Names> }> = [];
  for (const p of op.parameters) {
    if (p.in !== 'path') continue;
    const key = p.name as keyof Names;
    if (p.pattern === HUB_PATTERN) cases.push({ rule: `${p.name} pattern`, names: { [key]: '1chat' } });
    if (p.pattern === GROUP_PATTERN)
      cases.push({ rule: `${p.name} not only whitespace`, names: { [key]: '  ' } });
    if (p.maxLength !== undefined) {
      cases.push({
        rule: `${p.name} maxLength ${p.maxLength}`,
        names: { [key]: 'x'.repeat(p.maxLength + 1) },
      });
    }
  }
  return cases;
}

const IN_2022 = new Set(V2022.operations.map((op) => op.operationId));

for (const spec of NEWER_SPECS) {
  const version = spec.info.version;
  describe(`REST ${version} (${spec.source.repository} ${spec.source.path} @ ${spec.source.commit.slice(0, 7)})`, () => {
    for (const op of spec.operations) {
      it(`${op.operationId}: ${op.method} ${op.path} answers ${successOf(op)} and does it`, async () => {
        await foundCase(await service(), spec, op);
      });

      for (const bad of badNames(op)) {
        it(`${op.operationId} refuses a name breaking the ${bad.rule} with 400 ErrorDetail`, async () => {
          const svc = await service();
          const names = {
            hub: HUB,
            user: 'ann',
            connectionId: 'c',
            group: 'room',
            streamId: 's',
            ...bad.names,
          };
          const res = await call(svc, op, version, names);
          expect(res.status, res.text).toBe(400);
          if (op.method !== 'HEAD') {
            const detail = JSON.parse(res.text) as { code: string; message: string };
            expect(detail.code).toBe(res.headers['x-ms-error-code']);
            expect(detail.message.length).toBeGreaterThan(10);
          }
        });
      }

      if (
        !IN_2022.has(op.operationId) &&
        op.path.startsWith('/api/hubs/') &&
        !op.path.endsWith(':generateToken')
      ) {
        it(`${op.operationId} is refused under 2022-06-01 (400 naming the versions that have it)`, async () => {
          const svc = await service();
          const names = { hub: HUB, user: 'ann', connectionId: 'c', group: 'room', streamId: 's' };
          const res = await call(svc, op, '2022-06-01', names, { body: [] });
          expect(res.status, res.text).toBe(400);
          expect(JSON.parse(res.text).message).toContain(
            version === '2023-07-01' ? '2023-07-01' : '2024-12-01',
          );
        });
      }
    }
  });
}

/** A call on `/api/hubs/chat…?api-version=2024-12-01`. */
async function rest(svc: RunningService, method: string, path: string, body?: unknown): Promise<HttpResult> {
  const url = new URL(`${svc.url}/api/hubs/${HUB}${path}`);
  if (!url.searchParams.has('api-version')) url.searchParams.set('api-version', '2024-12-01');
  return restUrl(method, url, body);
}

async function restUrl(method: string, url: URL, body?: unknown): Promise<HttpResult> {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}`,
  };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return http(method, url.toString(), {
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

describe('the newer operations in detail', () => {
  it(':invoke answers 502 with the client error, 404 without the connection, 504 when the client does not answer or leaves', async () => {
    const svc = await service({ clientInvocationTimeoutMs: 300 });
    const official = await officialClient(svc, 'dee');
    const failed = await rest(svc, 'POST', `/connections/${official.connectionId}/:invoke`, {
      target: 'fail',
    });
    expect(failed.status, failed.text).toBe(502);
    expect(JSON.parse(failed.text).code).toBe('client-invocation-failed');
    const missing = await rest(svc, 'POST', '/connections/nobody/:invoke', {
      target: 'add',
      arguments: [1, 2],
    });
    expect(missing.status).toBe(404);
    expect(missing.headers['x-ms-error-code']).toBe('Error.Connection.NotExisted');
    // A raw client never answers: the invocation reaches it with an id, and the call times out.
    const a = await rawClient(svc, 'ann');
    const silent = await rest(svc, 'POST', `/connections/${a.connectionId}/:invoke`, {
      target: 'ask',
      arguments: [],
    });
    expect(silent.status).toBe(504);
    expect(JSON.parse(silent.text).message).toContain('clientInvocationTimeoutMs');
    expect(await a.next((m) => m.type === 1)).toMatchObject({
      target: 'ask',
      invocationId: expect.any(String),
    });
    const leaving = rest(svc, 'POST', `/connections/${a.connectionId}/:invoke`, {
      target: 'ask',
      arguments: [],
    });
    await a.next((m) => m.type === 1);
    await a.close();
    expect((await leaving).status).toBe(504);
  });

  it('lists a group page by page with nextLink, honours top, and refuses a page size outside 1..200', async () => {
    const svc = await service();
    const clients = [await rawClient(svc, 'u1'), await rawClient(svc, 'u2'), await rawClient(svc, 'u3')];
    for (const c of clients)
      expect(await v1(svc, 'PUT', `/groups/g/connections/${c.connectionId}`)).toBe(200);
    const ids = clients.map((c) => c.connectionId).sort();
    const first = JSON.parse((await rest(svc, 'GET', '/groups/g/connections?maxpagesize=2')).text);
    expect(first.value.map((m: { connectionId: string }) => m.connectionId)).toEqual(ids.slice(0, 2));
    const second = JSON.parse((await restUrl('GET', new URL(first.nextLink))).text);
    expect(second).toEqual({ value: [expect.objectContaining({ connectionId: ids[2] })] });
    const top = JSON.parse((await rest(svc, 'GET', '/groups/g/connections?top=1')).text);
    expect(top.value).toHaveLength(1);
    expect(top.nextLink).toBeUndefined();
    expect(JSON.parse((await rest(svc, 'GET', '/groups/empty/connections')).text)).toEqual({ value: [] });
    expect((await rest(svc, 'GET', '/groups/g/connections?maxpagesize=201')).status).toBe(400);
    expect((await rest(svc, 'GET', '/groups/g/connections?maxpagesize=0')).status).toBe(400);
  });

  it(':execute runs nothing when the filter or a command is invalid, and closes, leaves and sends in order', async () => {
    const svc = await service();
    const { a, b } = await world(svc);
    const send = { type: 'SendMessage', message: { target: 'early', arguments: [] } };
    const badFilter = await rest(svc, 'POST', `/:execute?filter=${encodeURIComponent('userId = 1')}`, [send]);
    expect(badFilter.status).toBe(400);
    expect(JSON.parse(badFilter.text).message).toContain('not valid OData');
    const badCommand = await rest(svc, 'POST', '/:execute', [send, { type: 'Explode' }]);
    expect(badCommand.status).toBe(400);
    expect(JSON.parse(badCommand.text).message).toContain("command 1's");
    expect((await rest(svc, 'POST', '/:execute', { type: 'JoinGroup' })).status).toBe(400);
    expect(await receivedNothing(svc, a)).toBe(true);
    const filter = encodeURIComponent(`'room' in groups and connectionId ne '${b.connectionId}'`);
    const res = await rest(svc, 'POST', `/:execute?filter=${filter}`, [
      { type: 'LeaveGroup', group: 'room' },
      { type: 'CloseConnection', reason: 'executed' },
    ]);
    expect(res.status).toBe(202);
    expect(await a.closed).toEqual({ code: 1000, reason: 'executed' });
    expect(a.frames.at(-1)).toBe('{"type":7,"error":"executed","allowReconnect":true}\x1e');
    expect(await v1(svc, 'GET', `/connections/${b.connectionId}`)).toBe(200);
  });

  it("/api/auth/accessKey needs the REST token and api-version 2023-07-01 or later; /api/v1/auth/accessKey (the SDKs') none", async () => {
    const svc = await service();
    const url = (path: string) => new URL(`${svc.url}${path}`);
    expect((await http('GET', `${svc.url}/api/auth/accessKey?api-version=2024-12-01`)).status).toBe(401);
    expect((await restUrl('GET', url('/api/auth/accessKey'))).status).toBe(400);
    expect((await restUrl('GET', url('/api/auth/accessKey?api-version=2022-06-01'))).status).toBe(400);
    expect((await restUrl('POST', url('/api/auth/accessKey?api-version=2024-12-01'))).status).toBe(405);
    const v1Key = await restUrl('GET', url('/api/v1/auth/accessKey'));
    expect(v1Key.status).toBe(200);
    const latest = await restUrl('GET', url('/api/auth/accessKey?api-version=2023-07-01'));
    expect(JSON.parse(latest.text)).toEqual(JSON.parse(v1Key.text));
  });
});
