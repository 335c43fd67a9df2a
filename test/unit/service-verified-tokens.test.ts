import { describe, expect, it } from 'vitest';
import { createRestToken } from '../../src/lib/signalr/tokens.js';
import { authenticate } from '../../src/local/service/auth/tokens.js';
import { rememberedClaims, tokenDigest } from '../../src/local/service/auth/verified-tokens.js';
import { Rejection } from '../../src/local/service/errors.js';

const KEY = 'a-key-of-the-service-under-test-0123456789';
const ORIGIN = 'http://localhost:8080';
const PATH = '/api/v1/hubs/chat';
const audience = `${ORIGIN}${PATH}`;

describe('REST tokens the service verified once', () => {
  it('are remembered under the keys that verified them, for their audience, until they expire', async () => {
    const keys = [KEY];
    const token = await createRestToken(KEY, audience, { ttlSeconds: 60 });
    const digest = tokenDigest(token);
    expect(rememberedClaims(digest, keys, [audience])).toBeUndefined();
    const payload = await authenticate(token, keys, [ORIGIN], [PATH]);
    expect(rememberedClaims(digest, keys, [audience])).toEqual(payload);
    // Another audience, another set of keys (a rotation), or past `exp` and the clock tolerance: verified again.
    expect(rememberedClaims(digest, keys, [`${ORIGIN}/api/v1/hubs/other`])).toBeUndefined();
    expect(rememberedClaims(digest, [KEY], [audience])).toBeUndefined();
    const expired = ((payload.exp as number) + 301) * 1000;
    expect(rememberedClaims(digest, keys, [audience], expired)).toBeUndefined();
  });

  it('never lets a token with other bytes through, nor one for another URL', async () => {
    const keys = [KEY];
    const token = await createRestToken(KEY, audience, { ttlSeconds: 60 });
    await authenticate(token, keys, [ORIGIN], [PATH]);
    const [header, body, signature] = token.split('.') as [string, string, string];
    const forged = `${header}.${body}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    await expect(authenticate(forged, keys, [ORIGIN], [PATH])).rejects.toBeInstanceOf(Rejection);
    await expect(authenticate(token, keys, [ORIGIN], ['/api/v1/hubs/other'])).rejects.toThrow(/audience/);
    // Under keys that do not include the signing key, the remembered verification does not count.
    await expect(
      authenticate(token, ['another-key-entirely-0123456789abcdef'], [ORIGIN], [PATH]),
    ).rejects.toThrow();
  });
});
