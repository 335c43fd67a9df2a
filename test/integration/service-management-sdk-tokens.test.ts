/**
 * REST tokens as Microsoft's Management SDK mints them (Azure/azure-signalr, `src/Microsoft.Azure.SignalR.Management/
 * RestApiProvider.cs` and `src/Microsoft.Azure.SignalR.Common/Auth/AuthUtility.cs`): HS256 with a `kid` header
 * (the key's `GetHashCode()` as text), a `nameid` of `{machine}_{guid}`, `nbf`/`iat`/`exp`, and an audience of
 * `{scheme}://{host}/api/hubs/{hub lower case}{path}?api-version=2022-06-01` (or `?application=…&api-version=…`),
 * while the request's own query may carry more (`excluded`, `reason`). Azure accepts these tokens.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/local/service/index.js';
import { type HttpResult, http, PRIMARY_KEY, useServiceTest } from '../support/local-service.js';
import { SignalRRawClient } from '../support/signalr-raw-client.js';

const { service, defer } = useServiceTest();

/** A token as `RestApiAccessTokenGenerator.Generate(audience)` signs it with an access key. */
function sdkToken(audience: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ nameid: `BUILDHOST_${randomUUID().replaceAll('-', '')}` })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: '-1592186419' })
    .setNotBefore(now)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .setAudience(audience)
    .sign(new TextEncoder().encode(PRIMARY_KEY));
}

/** The SDK's audience base: scheme and host, no port (`ServiceEndpoint.BuildAudienceBaseUrlEndWithSlash`). */
function audienceBase(svc: RunningService): string {
  const endpoint = new URL(svc.endpoint);
  return `${endpoint.protocol}//${endpoint.hostname}/`;
}

async function send(svc: RunningService, pathAndQuery: string, token: string): Promise<HttpResult> {
  return http('POST', `${svc.url}/${pathAndQuery}`, {
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: '{"target":"sdk","arguments":[]}',
  });
}

describe("REST tokens of Microsoft's Management SDK", () => {
  it('are accepted with the query in the audience and a kid header, also when the request carries more query', async () => {
    const svc = await service();
    const ann = await SignalRRawClient.open(svc.url, 'chat', 'ann');
    defer(() => ann.close());
    const bo = await SignalRRawClient.open(svc.url, 'chat', 'bo');
    defer(() => bo.close());
    const base = audienceBase(svc);
    const broadcast = await sdkToken(`${base}api/hubs/chat/:send?api-version=2022-06-01`);
    const res = await send(
      svc,
      `api/hubs/chat/:send?api-version=2022-06-01&excluded=${bo.connectionId}`,
      broadcast,
    );
    expect(res.status, res.text).toBe(202);
    expect(await ann.next((m) => m.type === 1)).toMatchObject({ target: 'sdk' });
    // With an application, as GenerateRestApiEndpointAsync orders the query.
    const app = await sdkToken(`${base}api/hubs/chat/users/ann/:send?application=app&api-version=2022-06-01`);
    expect(
      (await send(svc, 'api/hubs/chat/users/ann/:send?application=app&api-version=2022-06-01', app)).status,
    ).toBe(202);
  });

  it('are refused when the audience names a query the request does not carry, or another path', async () => {
    const svc = await service();
    const base = audienceBase(svc);
    const otherVersion = await sdkToken(`${base}api/hubs/chat/:send?api-version=2020-10-01`);
    const refused = await send(svc, 'api/hubs/chat/:send?api-version=2022-06-01', otherVersion);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.text).message).toContain('followed by a query the request carries');
    const otherPath = await sdkToken(`${base}api/hubs/other/:send?api-version=2022-06-01`);
    expect((await send(svc, 'api/hubs/chat/:send?api-version=2022-06-01', otherPath)).status).toBe(401);
    const extra = await sdkToken(`${base}api/hubs/chat/:send?api-version=2022-06-01&excluded=x`);
    expect((await send(svc, 'api/hubs/chat/:send?api-version=2022-06-01', extra)).status).toBe(401);
  });
});
