/**
 * REST tokens in key mode: one per audience, reused for its lifetime and signed afresh before it ends; every
 * token handed out verifies for its audience at the moment it is used.
 */
import { describe, expect, it } from 'vitest';
import { parseConnectionString, verifyToken } from '../../src/lib/signalr/index.js';
import { RestAuthorization } from '../../src/lib/signalr/rest/auth.js';

const KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH';
const connection = parseConnectionString(`Endpoint=http://localhost:8080;AccessKey=${KEY};Version=1.0;`);
const HUB = 'http://localhost:8080/api/v1/hubs/chat';

describe('REST tokens per audience', () => {
  it('reuses one token per audience until shortly before it expires, then signs a new one', async () => {
    let now = Date.parse('2026-11-29T12:00:00Z');
    const auth = new RestAuthorization(connection, 300, undefined, () => now);
    const first = await auth.header(new URL(`${HUB}?api-version=2022-06-01`));
    // The query is not part of the audience: the same token.
    expect(await auth.header(new URL(`${HUB}?api-version=2024-01-01`))).toBe(first);
    const user = await auth.header(new URL(`${HUB}/users/ann/:send`));
    expect(user).not.toBe(first);
    const token = first.replace(/^Bearer /, '');
    await expect(
      verifyToken(token, [KEY], { audiences: [HUB], clockToleranceSeconds: 0, now: () => now }),
    ).resolves.toBeDefined();

    // Still reused 3 minutes later (more than the refresh margin left), and valid then.
    now += 180_000;
    expect(await auth.header(new URL(HUB))).toBe(first);
    await expect(
      verifyToken(token, [KEY], { audiences: [HUB], clockToleranceSeconds: 0, now: () => now }),
    ).resolves.toBeDefined();
    // With less than a minute left, a fresh token that outlives the old one.
    now += 61_000;
    const renewed = await auth.header(new URL(HUB));
    expect(renewed).not.toBe(first);
    now += 120_000; // past the first token's expiry
    await expect(
      verifyToken(token, [KEY], { audiences: [HUB], clockToleranceSeconds: 0, now: () => now }),
    ).rejects.toThrow();
    await expect(
      verifyToken(renewed.replace(/^Bearer /, ''), [KEY], {
        audiences: [HUB],
        clockToleranceSeconds: 0,
        now: () => now,
      }),
    ).resolves.toBeDefined();
  });

  it('renews at half the lifetime when the lifetime is short', async () => {
    let now = Date.parse('2026-11-29T12:00:00Z');
    const auth = new RestAuthorization(connection, 60, undefined, () => now);
    const first = await auth.header(new URL(HUB));
    now += 29_000;
    expect(await auth.header(new URL(HUB))).toBe(first);
    now += 1_000;
    expect(await auth.header(new URL(HUB))).not.toBe(first);
  });
});
