/**
 * The upstream bearer check of identity mode against a real HTTP server publishing OpenID metadata and a key
 * set, with tokens signed by jose directly (not by the local identity endpoint, which could share a mistake).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptedIssuers, UpstreamTokenValidator } from '../../src/lib/upstream/bearer.js';
import { UpstreamError } from '../../src/lib/upstream/errors.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const V1 = `https://sts.windows.net/${TENANT}/`;
const V2 = `https://login.microsoftonline.com/${TENANT}/v2.0`;
const AUDIENCE = '33333333-3333-4333-8333-333333333333';
const CALLER = '22222222-2222-4222-8222-0000000000b2';

let server: Server;
let base = '';
const hits = { metadata: 0, keys: 0 };
let metadataStatus = 200;
let privateKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey as CryptoKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', use: 'sig' };
  server = createServer((req, res) => {
    if (req.url === `/${TENANT}/.well-known/openid-configuration`) {
      hits.metadata++;
      res.writeHead(metadataStatus, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: V1, jwks_uri: `${base}/common/discovery/keys` }));
    } else if (req.url === '/common/discovery/keys') {
      hits.keys++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((done) => server.close(() => done())));

function validator(): UpstreamTokenValidator {
  return new UpstreamTokenValidator({
    issuer: V1,
    audience: AUDIENCE,
    openIdConfiguration: `${base}/${TENANT}/.well-known/openid-configuration`,
    callerId: CALLER,
  });
}

async function token(claims: JWTPayload = {}, ttlSeconds = 3600): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: V1, aud: AUDIENCE, oid: CALLER, tid: TENANT, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(privateKey);
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; status: number }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  const { code, status } = error as UpstreamError;
  return { code, status };
}

describe('acceptedIssuers', () => {
  it('pairs the v1 and v2 issuers of one tenant, and nothing else', () => {
    expect(acceptedIssuers(V1)).toEqual([V1, V2]);
    expect(acceptedIssuers(V2)).toEqual([V2, V1]);
    expect(acceptedIssuers('http://127.0.0.1:8081/t/')).toEqual(['http://127.0.0.1:8081/t/']);
  });
});

describe('UpstreamTokenValidator', () => {
  it('accepts v1 and v2 tokens of the tenant, fetching the metadata and the keys once', async () => {
    const check = validator();
    hits.metadata = 0;
    hits.keys = 0;
    await expect(check.validate(`Bearer ${await token()}`)).resolves.toMatchObject({ oid: CALLER });
    await expect(
      check.validate(`bearer ${await token({ iss: V2, azp: 'x', ver: '2.0' })}`),
    ).resolves.toMatchObject({
      ver: '2.0',
    });
    // A GUID in upper case is the same caller.
    await expect(
      check.validate(`Bearer ${await token({ oid: CALLER.toUpperCase() })}`),
    ).resolves.toBeDefined();
    expect(hits).toEqual({ metadata: 1, keys: 1 });
  });

  it('refuses each failed check with its catalogued 401', async () => {
    const check = validator();
    expect(await refusal(check.validate(null))).toEqual({ code: 'missing-bearer-token', status: 401 });
    expect(await refusal(check.validate(`Basic ${await token()}`))).toMatchObject({
      code: 'missing-bearer-token',
    });
    expect(await refusal(check.validate('Bearer not-a-jwt'))).toMatchObject({
      code: 'bearer-token-malformed',
    });
    expect(await refusal(check.validate(`Bearer ${await token({}, -600)}`))).toMatchObject({
      code: 'bearer-token-expired',
    });
    expect(
      await refusal(check.validate(`Bearer ${await token({ aud: 'https://signalr.azure.com' })}`)),
    ).toMatchObject({ code: 'bearer-token-audience' });
    const otherTenant = 'https://sts.windows.net/99999999-9999-4999-8999-999999999999/';
    expect(await refusal(check.validate(`Bearer ${await token({ iss: otherTenant })}`))).toMatchObject({
      code: 'bearer-token-issuer',
    });
    expect(
      await refusal(check.validate(`Bearer ${await token({ oid: '11111111-1111-4111-8111-0000000000a1' })}`)),
    ).toMatchObject({ code: 'bearer-token-caller' });
    const hs256 = await new SignJWT({ iss: V1, aud: AUDIENCE, oid: CALLER })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('a shared secret of the old key mode'));
    expect(await refusal(check.validate(`Bearer ${hs256}`))).toMatchObject({
      code: 'bearer-token-signature',
    });
    const stranger = (await generateKeyPair('RS256')).privateKey;
    const forged = await new SignJWT({ iss: V1, aud: AUDIENCE, oid: CALLER })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setExpirationTime('1h')
      .sign(stranger);
    expect(await refusal(check.validate(`Bearer ${forged}`))).toMatchObject({
      code: 'bearer-token-signature',
    });
  });

  it('refuses a token without exp and a token not valid yet (nbf beyond the clock skew)', async () => {
    const check = validator();
    const now = Math.floor(Date.now() / 1000);
    const noExp = await new SignJWT({ iss: V1, aud: AUDIENCE, oid: CALLER, tid: TENANT })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' })
      .setIssuedAt(now)
      .sign(privateKey);
    const refusedNoExp = await check.validate(`Bearer ${noExp}`).catch((e: unknown) => e as UpstreamError);
    expect(refusedNoExp).toMatchObject({ code: 'bearer-token-malformed', status: 401 });
    expect((refusedNoExp as UpstreamError).message).toContain('exp claim');
    const early = await token({ nbf: now + 3600 });
    const refusedEarly = await check.validate(`Bearer ${early}`).catch((e: unknown) => e as UpstreamError);
    expect(refusedEarly).toMatchObject({ code: 'bearer-token-malformed', status: 401 });
    expect((refusedEarly as UpstreamError).message).toContain('not valid yet (nbf)');
    // Within the five minutes of skew a token is taken, as Entra's own clients allow.
    await expect(check.validate(`Bearer ${await token({ nbf: now + 60 })}`)).resolves.toBeDefined();
  });

  it('answers 503 while the metadata cannot be fetched, and fetches it again on the next call', async () => {
    const check = validator();
    metadataStatus = 500;
    try {
      expect(await refusal(check.validate(`Bearer ${await token()}`))).toEqual({
        code: 'signing-keys-unavailable',
        status: 503,
      });
    } finally {
      metadataStatus = 200;
    }
    await expect(check.validate(`Bearer ${await token()}`)).resolves.toBeDefined();
  });

  it('refuses a policy whose metadata would come over plain http from another host', () => {
    expect(
      () =>
        new UpstreamTokenValidator({
          issuer: V1,
          audience: AUDIENCE,
          openIdConfiguration: `http://login.example/${TENANT}/.well-known/openid-configuration`,
          callerId: CALLER,
        }),
    ).toThrow('must be an https URL');
    expect(
      () =>
        new UpstreamTokenValidator({ issuer: V1, audience: '', openIdConfiguration: base, callerId: CALLER }),
    ).toThrow('non-empty audience');
  });
});
