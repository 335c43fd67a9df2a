/**
 * The spec-driven test of the Web PubSub REST API: every operation of the kept 2024-12-01 spec
 * (test/fixtures/specs/webpubsub-2024-12-01.operations.json) called against the local service as the spec
 * describes it (its path, every parameter, its body), signed as Azure documents (HS256 with the Web PubSub
 * key, audience the request URL). Twice: on a hub with no connections, where each answers a status Microsoft's
 * client accepts (`clientStatuses`) or, where success needs a connection, the spec's `default` error shape; and
 * with a connection made from the spec's own `:generateToken`, where each answers a success status the client
 * accepts. Every operation also refuses an api-version Azure does not publish, in that error shape.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestToken } from '../../src/lib/signalr/tokens.js';
import { DEV_WEBPUBSUB_ACCESS_KEY } from '../../src/local/dev-constants.js';
import { type RunningService, startService } from '../../src/local/service/index.js';
import { connect, http } from '../support/local-service.js';

interface SpecParameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'body';
  readonly type: string;
  readonly required?: boolean;
  readonly enum?: readonly string[];
}
interface SpecOperation {
  readonly operationId: string;
  readonly method: string;
  readonly path: string;
  readonly parameters: readonly SpecParameter[];
  readonly responses: readonly string[];
  readonly clientStatuses: readonly string[];
}

const SPEC = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/specs/webpubsub-2024-12-01.operations.json'), 'utf8'),
) as { info: { version: string }; operations: SpecOperation[] };

/** A value for each parameter the spec lists (by name; the spec's enums give their first member). */
const VALUES: Readonly<Record<string, string | readonly string[]>> = {
  hub: 'chat',
  connectionId: 'no-such-connection',
  group: 'room',
  userId: 'ann',
  permission: 'joinLeaveGroup',
  targetName: 'room',
  excluded: ['x', 'y'],
  filter: "userId eq 'ann' or 'room' in groups",
  reason: 'maintenance',
  messageTtlSeconds: '30',
  role: ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup.room'],
  minutesToExpire: '5',
  maxpagesize: '10',
  top: '10',
  clientType: 'Default',
  // The service's continuation tokens are opaque; '0' is the one that starts a listing.
  continuationToken: '0',
};

/** Bodies by the spec's body type. */
const BODIES: Readonly<Record<string, { type: string; body: string }>> = {
  binary: { type: 'text/plain', body: 'hello' },
  AddToGroupsRequest: { type: 'application/json', body: '{"groups":["room"],"filter":"userId eq \'ann\'"}' },
  RemoveFromGroupsRequest: {
    type: 'application/json',
    body: '{"groups":["room"],"filter":"userId eq \'ann\'"}',
  },
};

/** Operations whose spec success needs a connection that exists: on an empty hub, 404 in the error shape. */
const NEEDS_CONNECTION = new Set([
  'WebPubSub_SendToConnection',
  'WebPubSub_AddConnectionToGroup',
  'WebPubSub_GrantPermission',
]);

/** The URL of an operation with every parameter the spec gives it, and `version` as its api-version. */
function urlOf(
  base: string,
  op: SpecOperation,
  version: string,
  values: Readonly<Record<string, string | readonly string[]>>,
): string {
  let path = op.path;
  const query = new URLSearchParams();
  for (const p of op.parameters) {
    if (p.in === 'body') continue;
    if (p.name === 'api-version') {
      query.append('api-version', version);
      continue;
    }
    const value = values[p.name] ?? p.enum?.[0];
    if (value === undefined) throw new Error(`No test value for ${op.operationId}'s ${p.name}`);
    if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(value as string));
    else for (const v of typeof value === 'string' ? [value] : value) query.append(p.name, v);
  }
  return `${base}${path}?${query}`;
}

async function call(
  base: string,
  op: SpecOperation,
  version = SPEC.info.version,
  values: Readonly<Record<string, string | readonly string[]>> = VALUES,
) {
  const url = urlOf(base, op, version, values);
  const body = op.parameters.find((p) => p.in === 'body');
  const content = body ? BODIES[body.type] : undefined;
  if (body && !content) throw new Error(`No test body for ${op.operationId}'s ${body.type}`);
  // As Microsoft's SDK and Learn's REST reference sign it: the audience is the request URL, query included.
  const token = await createRestToken(DEV_WEBPUBSUB_ACCESS_KEY, url);
  return http(op.method, url, {
    headers: {
      Authorization: `Bearer ${token}`,
      ...(content ? { 'Content-Type': content.type } : {}),
    },
    ...(content ? { body: content.body } : {}),
  });
}

let service: RunningService;

beforeAll(async () => {
  service = await startService({ port: 0, log: () => {} });
});
afterAll(async () => {
  await service?.close();
});

describe(`every operation of Web PubSub ${SPEC.info.version} on a hub with no connections`, () => {
  it('covers the whole spec', () => {
    expect(SPEC.operations).toHaveLength(25);
  });

  for (const op of SPEC.operations) {
    it(`${op.operationId}: ${op.method} ${op.path}`, async () => {
      const response = await call(service.url, op);
      if (NEEDS_CONNECTION.has(op.operationId)) {
        expect(response.status).toBe(404);
        expect(response.headers['x-ms-error-code']).toBe('connection-not-found');
        expect(JSON.parse(response.text)).toEqual({
          error: { code: 'connection-not-found', message: expect.stringContaining('no-such-connection') },
        });
        return;
      }
      expect(op.clientStatuses).toContain(String(response.status));
      if (op.operationId === 'WebPubSub_GenerateClientToken') {
        expect(JSON.parse(response.text)).toEqual({ token: expect.any(String) });
      } else if (op.operationId === 'WebPubSub_ListConnectionsInGroup') {
        expect(JSON.parse(response.text)).toEqual({ value: [] });
      } else {
        expect(response.text).toBe('');
      }
    });
  }
});

describe(`every operation of Web PubSub ${SPEC.info.version} with a live connection`, () => {
  // The operations that end or empty what the others need run last, in this order.
  const LAST = [
    'WebPubSub_RemoveConnectionsFromGroups',
    'WebPubSub_RemoveConnectionFromGroup',
    'WebPubSub_RemoveConnectionFromAllGroups',
    'WebPubSub_RemoveUserFromGroup',
    'WebPubSub_RemoveUserFromAllGroups',
    'WebPubSub_RevokePermission',
    'WebPubSub_CloseGroupConnections',
    'WebPubSub_CloseUserConnections',
    'WebPubSub_CloseConnection',
    'WebPubSub_CloseAllConnections',
  ];
  const ordered = [
    ...SPEC.operations.filter((o) => !LAST.includes(o.operationId)),
    ...LAST.map((id) => SPEC.operations.find((o) => o.operationId === id) as SpecOperation),
  ];

  it('answers each with a success status the client accepts, and the hub shows its effect', async () => {
    expect(ordered).toHaveLength(SPEC.operations.length);
    const token = await call(
      service.url,
      SPEC.operations.find((o) => o.operationId === 'WebPubSub_GenerateClientToken') as SpecOperation,
    );
    const { token: clientToken } = JSON.parse(token.text) as { token: string };
    const client = await connect(
      `${service.url.replace('http', 'ws')}/client/hubs/chat?access_token=${clientToken}`,
      'json.webpubsub.azure.v1',
    );
    const connected = JSON.parse((await client.next()).text);
    // The token :generateToken made carries the user and the group the spec's call asked for.
    expect(connected).toMatchObject({ type: 'system', event: 'connected', userId: 'ann' });
    const values = { ...VALUES, connectionId: connected.connectionId as string, excluded: ['other'] };
    const statuses: Record<string, number> = {};
    for (const op of ordered) {
      const response = await call(service.url, op, SPEC.info.version, values);
      statuses[op.operationId] = response.status;
      expect(op.clientStatuses, `${op.operationId} answered ${response.status} ${response.text}`).toContain(
        String(response.status),
      );
      if (op.operationId === 'WebPubSub_ListConnectionsInGroup') {
        expect(JSON.parse(response.text).value).toEqual([
          { connectionId: connected.connectionId, userId: 'ann' },
        ]);
      }
    }
    // With the connection there, every check found what it looked for.
    for (const check of ['ConnectionExists', 'GroupExists', 'UserExists', 'CheckPermission']) {
      expect(statuses[`WebPubSub_${check}`], check).toBe(200);
    }
    // The closes ended it.
    await client.closed;
  });
});

describe('api-versions', () => {
  it('refuses on every operation one Azure does not publish, in the spec default error shape', async () => {
    for (const op of SPEC.operations.filter((o) => o.path !== '/api/health')) {
      const response = await call(service.url, op, '2020-10-01');
      expect(response.status, op.operationId).toBe(400);
      expect(response.headers['x-ms-error-code'], op.operationId).toBe('invalid-request');
      if (op.method !== 'HEAD') {
        expect(JSON.parse(response.text).error.message, op.operationId).toContain('2024-12-01');
      }
    }
  });

  it('accepts each published stable version, and refuses an operation older versions lack', async () => {
    const send = SPEC.operations.find((o) => o.operationId === 'WebPubSub_SendToAll') as SpecOperation;
    for (const version of ['2021-10-01', '2022-11-01', '2023-07-01', '2024-01-01', '2024-12-01']) {
      expect((await call(service.url, send, version)).status, version).toBe(202);
    }
    const addToGroups = SPEC.operations.find(
      (o) => o.operationId === 'WebPubSub_AddConnectionsToGroups',
    ) as SpecOperation;
    const old = await call(service.url, addToGroups, '2022-11-01');
    expect(old.status).toBe(400);
    expect(JSON.parse(old.text).error.message).toContain('2023-07-01');
  });
});
