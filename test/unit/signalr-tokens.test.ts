import { createHmac } from 'node:crypto';
import { decodeJwt, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  clientUrl,
  createClientToken,
  createRestToken,
  restAudience,
  TokenError,
  verifyToken,
} from '../../src/lib/signalr/index.js';

const KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH';
const OTHER_KEY = 'ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvuts';
const HUB_AUD = 'http://localhost:8080/api/v1/hubs/chat';

// Known answers from issue 2.
const VALID_UNTIL_2100 =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwOi8vbG9jYWxob3N0OjgwODAvYXBpL3YxL2h1YnMvY2hhdCIsImV4cCI6NDEwMjQ0NDgwMH0.i3Yxq6mHbQwbHEiMNJpjz4pv_RjGO_ikLV7z14KDkw4';
const EXPIRED_2000 =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwOi8vbG9jYWxob3N0OjgwODAvYXBpL3YxL2h1YnMvY2hhdCIsImV4cCI6OTQ2Njg0ODAwfQ.haPEQpHabDvYmljSOHC7OJv6yViTR5-fsHGVppVofKQ';
const WS_USER_URL = 'http://localhost:8080/ws/api/v1/hubs/chat/users/ann?x=1';
const WS_USER_AUD = 'http://localhost:8080/ws/api/v1/hubs/chat/users/ann';
const WS_USER_TOKEN =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwOi8vbG9jYWxob3N0OjgwODAvd3MvYXBpL3YxL2h1YnMvY2hhdC91c2Vycy9hbm4iLCJleHAiOjQxMDI0NDQ4MDB9.Cd6AA2Zq3okY0IEaNkf8A_USueBkNjI0b0yBntWd4g8';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenError);
  return (error as TokenError).code;
}

describe('known-answer tokens', () => {
  it('accepts the token valid until 2100 for aud http://localhost:8080/api/v1/hubs/chat', async () => {
    const payload = await verifyToken(VALID_UNTIL_2100, [KEY], { audiences: [HUB_AUD] });
    expect(payload.aud).toBe(HUB_AUD);
    expect(payload.exp).toBe(4102444800);
  });

  it('rejects the same claims with exp 946684800 as expired', async () => {
    expect(await codeOf(verifyToken(EXPIRED_2000, [KEY], { audiences: [HUB_AUD] }))).toBe('token-expired');
  });

  it('gives a REST call with a query the audience of its path only', async () => {
    expect(restAudience(WS_USER_URL)).toBe(WS_USER_AUD);
    await expect(verifyToken(WS_USER_TOKEN, [KEY], { audiences: [WS_USER_AUD] })).resolves.toMatchObject({
      aud: WS_USER_AUD,
    });
    // createRestToken signs the same audience for the URL with its query.
    const ours = await createRestToken(KEY, WS_USER_URL);
    expect(decodeJwt(ours).aud).toBe(WS_USER_AUD);
    await expect(verifyToken(ours, [KEY], { audiences: [WS_USER_AUD] })).resolves.toBeDefined();
  });

  it('drops a trailing slash from the audience', () => {
    expect(restAudience('http://localhost:8080/api/v1/hubs/chat/')).toBe(HUB_AUD);
  });
});

describe('token failures', () => {
  it("fails with 'token-signature' for a token signed by another key", async () => {
    expect(await codeOf(verifyToken(VALID_UNTIL_2100, [OTHER_KEY], { audiences: [HUB_AUD] }))).toBe(
      'token-signature',
    );
  });

  it('accepts a token signed by any of several keys', async () => {
    await expect(
      verifyToken(VALID_UNTIL_2100, [OTHER_KEY, KEY], { audiences: [HUB_AUD] }),
    ).resolves.toBeDefined();
  });

  it("fails with 'token-audience' for a token of another URL", async () => {
    expect(
      await codeOf(
        verifyToken(VALID_UNTIL_2100, [KEY], { audiences: ['http://localhost:8080/api/v1/hubs/x'] }),
      ),
    ).toBe('token-audience');
  });

  it("fails with 'no-expiry' for a token without exp", async () => {
    const noExp = await new SignJWT({ aud: HUB_AUD })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode(KEY));
    expect(await codeOf(verifyToken(noExp, [KEY], { audiences: [HUB_AUD] }))).toBe('token-no-expiry');
  });

  it("fails with 'not-yet-valid' for a token whose nbf is later than now beyond the skew", async () => {
    const now = Math.floor(Date.now() / 1000);
    const early = (nbf: number) =>
      new SignJWT({ aud: HUB_AUD })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setNotBefore(nbf)
        .setExpirationTime(now + 7200)
        .sign(new TextEncoder().encode(KEY));
    expect(await codeOf(verifyToken(await early(now + 3600), [KEY], { audiences: [HUB_AUD] }))).toBe(
      'token-not-yet-valid',
    );
    await expect(verifyToken(await early(now + 60), [KEY], { audiences: [HUB_AUD] })).resolves.toBeDefined();
  });

  it("fails with 'missing' and 'malformed' for absent and garbage tokens", async () => {
    expect(await codeOf(verifyToken(undefined, [KEY], { audiences: [HUB_AUD] }))).toBe('token-missing');
    expect(await codeOf(verifyToken('not.a.jwt', [KEY], { audiences: [HUB_AUD] }))).toBe('token-malformed');
  });
});

describe('client tokens', () => {
  it('carries aud = the client URL, nameid and extra claims', async () => {
    const signalrUrl = clientUrl('http://localhost:8080', 'chat');
    const otherHub = clientUrl('http://localhost:8080', 'other');
    expect(signalrUrl).toBe('http://localhost:8080/client/?hub=chat');
    const token = await createClientToken(KEY, signalrUrl, { userId: 'ann', claims: { role: 'admin' } });
    const payload = await verifyToken(token, [KEY], { audiences: [signalrUrl] });
    expect(payload).toMatchObject({ aud: signalrUrl, nameid: 'ann', role: 'admin' });
    expect(await codeOf(verifyToken(token, [KEY], { audiences: [otherHub] }))).toBe('token-audience');
  });
});

describe('against jose (the tokens are signed and checked with node:crypto)', () => {
  const key = new TextEncoder().encode(KEY);
  const at = 1_767_225_600_000; // 2026-01-01T00:00:00Z

  it('signs byte for byte what jose signs with the same claims', async () => {
    const seconds = at / 1000;
    const jose = (payload: Record<string, unknown>, ttl: number) =>
      new SignJWT(payload)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuedAt(seconds)
        .setNotBefore(seconds)
        .setExpirationTime(seconds + ttl)
        .sign(key);
    expect(await createRestToken(KEY, WS_USER_URL, { now: () => at, ttlSeconds: 300 })).toBe(
      await jose({ aud: WS_USER_AUD }, 300),
    );
    const client = clientUrl('http://localhost:8080', 'chat');
    expect(
      await createClientToken(KEY, client, { userId: 'änn', claims: { role: ['a', 'b'] }, now: () => at }),
    ).toBe(await jose({ role: ['a', 'b'], aud: client, nameid: 'änn' }, 3600));
  });

  it('accepts and refuses what jose does', async () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const sign = (header: string, body: string, k = KEY) =>
      `${header}.${body}.${createHmac('sha256', k).update(`${header}.${body}`).digest('base64url')}`;
    const hs256 = encode({ alg: 'HS256', typ: 'JWT' });
    const now = Math.floor(Date.now() / 1000);
    const claims = { aud: HUB_AUD, exp: now + 600 };
    const cases: Array<[string, string, string]> = [
      ['good', sign(hs256, encode(claims)), 'ok'],
      ['no typ', sign(encode({ alg: 'HS256' }), encode(claims)), 'ok'],
      ['other key', sign(hs256, encode(claims), OTHER_KEY), 'token-signature'],
      ['alg none', `${encode({ alg: 'none' })}.${encode(claims)}.`, 'token-malformed'],
      ['alg HS512', sign(encode({ alg: 'HS512' }), encode(claims)), 'token-malformed'],
      ['crit', sign(encode({ alg: 'HS256', crit: ['x'], x: 1 }), encode(claims)), 'token-malformed'],
      [
        'b64 false',
        sign(encode({ alg: 'HS256', b64: false, crit: ['b64'] }), encode(claims)),
        'token-malformed',
      ],
      ['array claims', sign(hs256, encode([claims])), 'token-malformed'],
      ['not UTF-8', sign(hs256, Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')), 'token-malformed'],
      ['iat a string', sign(hs256, encode({ ...claims, iat: 'now' })), 'token-malformed'],
      ['exp a string', sign(hs256, encode({ ...claims, exp: String(now + 600) })), 'token-no-expiry'],
      ['no exp', sign(hs256, encode({ aud: HUB_AUD })), 'token-no-expiry'],
      ['expired', sign(hs256, encode({ ...claims, exp: now - 400 })), 'token-expired'],
      ['expired within the skew', sign(hs256, encode({ ...claims, exp: now - 200 })), 'ok'],
      ['nbf later', sign(hs256, encode({ ...claims, nbf: now + 400 })), 'token-not-yet-valid'],
      ['nbf a string', sign(hs256, encode({ ...claims, nbf: 'x' })), 'token-not-yet-valid'],
      ['two parts', `${hs256}.${encode(claims)}`, 'token-malformed'],
      ['other audience', sign(hs256, encode({ ...claims, aud: `${HUB_AUD}/x` })), 'token-audience'],
    ];
    for (const [name, token, expected] of cases) {
      const ours = await verifyToken(token, [KEY], { audiences: [HUB_AUD] }).then(
        () => 'ok',
        (e: unknown) => (e as TokenError).code,
      );
      expect(ours, name).toBe(expected);
      // jose, with the options the service checks with, agrees on whether the token passes.
      const theirs = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        clockTolerance: 300,
        requiredClaims: ['exp'],
        audience: HUB_AUD,
      }).then(
        () => 'ok',
        () => 'refused',
      );
      expect(theirs, name).toBe(expected === 'ok' ? 'ok' : 'refused');
    }
    // Stricter than jose in one thing: a part in any form but base64url without padding (which jose tolerates).
    const padded = `${sign(hs256, encode(claims))}=`;
    await expect(jwtVerify(padded, key, { audience: HUB_AUD })).resolves.toBeDefined();
    expect(await codeOf(verifyToken(padded, [KEY], { audiences: [HUB_AUD] }))).toBe('token-malformed');
  });
});
