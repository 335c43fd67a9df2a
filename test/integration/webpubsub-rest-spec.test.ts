/**
 * The spec-driven test of the Web PubSub REST API: every operation of the kept 2024-12-01 spec
 * (test/fixtures/specs/webpubsub-2024-12-01.operations.json) called against the local service as the spec
 * describes it (its path, every parameter, its body), signed as Azure documents (HS256 with the Web PubSub
 * key, audience the request URL), each answered with a status Microsoft's client accepts (`clientStatuses`)
 * or, where the spec's success needs a live connection, with the spec's `default` error shape; and every
 * operation refusing an api-version Azure does not publish in that shape.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestToken } from '../../src/lib/signalr/tokens.js';
import { DEV_WEBPUBSUB_ACCESS_KEY } from '../../src/local/dev-constants.js';
import { type RunningService, startService } from '../../src/local/service/index.js';
import { http } from '../support/local-service.js';

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
function urlOf(base: string, op: SpecOperation, version: string): string {
  let path = op.path;
  const query = new URLSearchParams();
  for (const p of op.parameters) {
    if (p.in === 'body') continue;
    if (p.name === 'api-version') {
      query.append('api-version', version);
      continue;
    }
    const value = VALUES[p.name] ?? p.enum?.[0];
    if (value === undefined) throw new Error(`No test value for ${op.operationId}'s ${p.name}`);
    if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(value as string));
    else for (const v of typeof value === 'string' ? [value] : value) query.append(p.name, v);
  }
  return `${base}${path}?${query}`;
}

async function call(base: string, op: SpecOperation, version = SPEC.info.version) {
  const url = urlOf(base, op, version);
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
