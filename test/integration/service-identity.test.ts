/**
 * The local service in identity mode (Azure SignalR with local auth disabled), without the app: the REST API and
 * `:generateToken` take only Entra tokens of the trusted tenant, a client connects with a generated token, and
 * upstream calls carry the service's own bearer token and no X-ASRS-Signature. Also the identity endpoint's
 * refusals of App Service's protocol.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_SERVICE_MSI_API_VERSION,
  DEV_APP_IDENTITY,
  DEV_SIGNALR_IDENTITY,
  type RunningIdentityEndpoint,
  startIdentityEndpoint,
} from '../../src/local/identity/index.js';
import { DEV_UPSTREAM_AUDIENCE, identityServiceOptions } from '../../src/local/identity-wiring.js';
import { type RunningService, startService } from '../../src/local/service/index.js';
import { ServiceOptionsError } from '../../src/local/service/options.js';
import { connect, http, recordingLog, startUpstream, type TestUpstream } from '../support/local-service.js';

let idp: RunningIdentityEndpoint;
let upstream: TestUpstream;
let service: RunningService;
const log = recordingLog();

beforeAll(async () => {
  idp = await startIdentityEndpoint();
  upstream = await startUpstream();
  service = await startService({
    ...identityServiceOptions(idp, `${upstream.url}/api/messages?event={event}`),
    port: 0,
    log: log.log,
  });
});

afterAll(async () => {
  await service?.close();
  await upstream?.close();
  await idp?.close();
});

const entra = (resource = 'https://signalr.azure.com') => idp.mint(DEV_APP_IDENTITY, resource);

describe('the identity endpoint (App Service managed identity protocol)', () => {
  const tokenUrl = (query: Record<string, string>) => `${idp.identityEndpoint}?${new URLSearchParams(query)}`;
  const good = { 'api-version': APP_SERVICE_MSI_API_VERSION, resource: 'https://signalr.azure.com' };

  it('issues an RS256 token with the claims Entra gives a managed identity', async () => {
    const response = await http('GET', tokenUrl({ ...good, client_id: DEV_APP_IDENTITY.clientId }), {
      headers: { 'X-IDENTITY-HEADER': idp.identityHeader },
    });
    expect(response.status).toBe(200);
    const body = JSON.parse(response.text) as Record<string, string>;
    expect(body).toMatchObject({ resource: 'https://signalr.azure.com', token_type: 'Bearer' });
    expect(Number(body.expires_on)).toBeGreaterThan(Date.now() / 1000);
    const metadata = (await (await fetch(idp.openIdConfiguration)).json()) as {
      issuer: string;
      jwks_uri: string;
    };
    const { payload, protectedHeader } = await jwtVerify(
      body.access_token as string,
      createRemoteJWKSet(new URL(metadata.jwks_uri)),
      { issuer: metadata.issuer, audience: 'https://signalr.azure.com' },
    );
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({
      oid: DEV_APP_IDENTITY.objectId,
      appid: DEV_APP_IDENTITY.clientId,
      tid: idp.tenantId,
      idtyp: 'app',
      ver: '1.0',
    });
  });

  it('refuses a wrong secret header, an unknown identity and another api-version', async () => {
    const wrongHeader = await http('GET', tokenUrl({ ...good, client_id: DEV_APP_IDENTITY.clientId }), {
      headers: { 'X-IDENTITY-HEADER': 'guess' },
    });
    expect(wrongHeader.status).toBe(401);
    const unknown = await http(
      'GET',
      tokenUrl({ ...good, client_id: '44444444-4444-4444-8444-444444444444' }),
      {
        headers: { 'X-IDENTITY-HEADER': idp.identityHeader },
      },
    );
    expect(unknown.status).toBe(400);
    const version = await http('GET', tokenUrl({ ...good, 'api-version': '2017-09-01' }), {
      headers: { 'X-IDENTITY-HEADER': idp.identityHeader },
    });
    expect(version.status).toBe(400);
  });
});

describe('the service with local auth disabled', () => {
  it('generates a client token for an Entra caller, and a client connects with it', async () => {
    const response = await http(
      'POST',
      `${service.url}/api/hubs/chat/:generateToken?userId=ann&api-version=2024-12-01`,
      { headers: { Authorization: `Bearer ${await entra()}` } },
    );
    expect(response.status).toBe(200);
    const { token } = JSON.parse(response.text) as { token: string };
    upstream.calls.length = 0;
    const negotiated = await http('POST', `${service.url}/client/negotiate?hub=chat&negotiateVersion=1`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(negotiated.status).toBe(200);
    const { connectionToken } = JSON.parse(negotiated.text) as { connectionToken: string };
    const client = await connect(
      `${service.url.replace('http', 'ws')}/client/?hub=chat&id=${connectionToken}&access_token=${encodeURIComponent(token)}`,
    );
    client.ws.send('{"protocol":"json","version":1}\x1e');
    const [connectCall] = await upstream.waitFor((call) => call.event === 'connected');
    expect(connectCall?.headers['x-asrs-user-id']).toBe('ann');
    // The service's own identity, for the template's resource; no access key to sign with.
    expect(connectCall?.headers['x-asrs-signature']).toBeUndefined();
    const bearer = /^Bearer (\S+)$/.exec(String(connectCall?.headers.authorization))?.[1] as string;
    const { payload } = await jwtVerify(
      bearer,
      createRemoteJWKSet(new URL(`${idp.url}/${idp.tenantId}/discovery/keys`)),
      {
        issuer: idp.issuer,
        audience: DEV_UPSTREAM_AUDIENCE,
      },
    );
    expect(payload.oid).toBe(DEV_SIGNALR_IDENTITY.objectId);
    await client.close();
  });

  it('refuses access-key tokens, other audiences and missing tokens on the REST API and :generateToken', async () => {
    const { createRestToken } = await import('../../src/lib/signalr/tokens.js');
    const { DEV_ACCESS_KEY } = await import('../../src/local/dev-constants.js');
    const url = `${service.url}/api/hubs/chat/:generateToken?userId=ann&api-version=2024-12-01`;
    const keyToken = await createRestToken(DEV_ACCESS_KEY, url);
    const refusedKey = await http('POST', url, { headers: { Authorization: `Bearer ${keyToken}` } });
    expect(refusedKey.status).toBe(401);
    expect(JSON.parse(refusedKey.text)).toMatchObject({ code: 'local-auth-disabled' });
    const wrongAudience = await http('POST', url, {
      headers: { Authorization: `Bearer ${await entra('https://management.azure.com')}` },
    });
    expect(wrongAudience.status).toBe(401);
    expect(JSON.parse(wrongAudience.text).message).toContain('https://signalr.azure.com');
    expect((await http('POST', url)).status).toBe(401);
    const send = await http('POST', `${service.url}/api/v1/hubs/chat`, {
      headers: { Authorization: `Bearer ${await entra()}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ target: 'x', arguments: [] }),
    });
    expect(send.status).toBe(202);
  });

  it('refuses Entra tokens without exp or not valid yet on the REST API and :generateToken', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases = [
      {
        token: await idp.mint(DEV_APP_IDENTITY, 'https://signalr.azure.com', { claims: { exp: undefined } }),
        says: 'no exp claim',
      },
      {
        token: await idp.mint(DEV_APP_IDENTITY, 'https://signalr.azure.com', { claims: { nbf: now + 3600 } }),
        says: 'not valid yet (nbf)',
      },
    ];
    for (const { token, says } of cases) {
      const send = await http('POST', `${service.url}/api/v1/hubs/chat`, {
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ target: 'x', arguments: [] }),
      });
      expect(send.status).toBe(401);
      expect(send.text).toContain(says);
      const generate = await http(
        'POST',
        `${service.url}/api/hubs/chat/:generateToken?userId=ann&api-version=2024-12-01`,
        { headers: { Authorization: `Bearer ${token}` } },
      );
      expect(generate.status).toBe(401);
      expect(JSON.parse(generate.text)).toMatchObject({ code: 'invalid-token' });
      expect(JSON.parse(generate.text).message).toContain(says);
    }
  });

  it('refuses a minutesToExpire that is not a whole number of minutes from 1 to int32, as Azure types it', async () => {
    const authorization = `Bearer ${await entra()}`;
    const generate = (minutes: string) =>
      http(
        'POST',
        `${service.url}/api/hubs/chat/:generateToken?userId=ann&minutesToExpire=${encodeURIComponent(minutes)}&api-version=2024-12-01`,
        { headers: { Authorization: authorization } },
      );
    for (const minutes of ['1e8', '1.5', '0', '-5', '2147483648', '99999999999', 'x', '']) {
      const refused = await generate(minutes);
      expect(refused.status, minutes).toBe(400);
      expect(JSON.parse(refused.text)).toMatchObject({ code: 'invalid-request' });
      expect(JSON.parse(refused.text).message).toContain('not valid for minutesToExpire');
    }
    const longest = await generate('2147483647');
    expect(longest.status).toBe(200);
    const { token } = JSON.parse(longest.text) as { token: string };
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      exp: number;
      iat: number;
    };
    expect(payload.exp - payload.iat).toBe(2_147_483_647 * 60);
  });

  it('is refused as an option set without metadata, with access keys, or with ManagedIdentity auth but no identity', async () => {
    await expect(startService({ auth: 'identity' })).rejects.toThrow(ServiceOptionsError);
    await expect(
      startService({
        auth: 'identity',
        entraOpenIdConfiguration: idp.openIdConfiguration,
        accessKeys: ['k'],
      }),
    ).rejects.toThrow('identity mode has no access keys');
    await expect(
      startService({
        upstream: [
          { urlTemplate: 'http://x/', auth: { type: 'ManagedIdentity', managedIdentity: { resource: 'r' } } },
        ],
      }),
    ).rejects.toThrow('has no managedIdentity');
  });
});
