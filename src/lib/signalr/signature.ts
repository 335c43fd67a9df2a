/**
 * The upstream signature: `X-ASRS-Signature: sha256=<hex>[,sha256=<hex>]`, one entry per access key, each
 * `hex(HMAC-SHA256(key = UTF-8 bytes of the AccessKey string, data = UTF-8 connection id))`.
 * See docs/architecture.md, "The upstream contract".
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { setBounded } from '../bounded-map.js';

/**
 * Connections whose expected digests are remembered: every upstream call of a connection carries the same
 * signature (it covers only the connection id), so its HMACs are computed once, not once per message.
 */
export const MAX_CACHED_SIGNATURES = 10_000;

/** The expected digests per set of keys and connection id, least recently used first. */
const expectedDigests = new Map<string, Buffer[]>();

function digestsOf(connectionId: string, accessKeys: readonly string[]): Buffer[] {
  // Each key length-prefixed, then the id: no two sets of keys and ids share a cache key.
  const cacheKey = `${accessKeys.map((key) => `${key.length}:${key}`).join('')}${connectionId}`;
  let digests = expectedDigests.get(cacheKey);
  if (digests === undefined) {
    digests = accessKeys.map((key) =>
      createHmac('sha256', Buffer.from(key, 'utf8')).update(connectionId, 'utf8').digest(),
    );
  }
  setBounded(expectedDigests, cacheKey, digests, MAX_CACHED_SIGNATURES);
  return digests;
}

/** The hex HMAC of one key over the connection id. */
export function computeSignature(accessKey: string, connectionId: string): string {
  return createHmac('sha256', Buffer.from(accessKey, 'utf8')).update(connectionId, 'utf8').digest('hex');
}

/** The header value the service sends: one `sha256=` entry per key, comma-separated. */
export function signatureHeader(accessKeys: readonly string[], connectionId: string): string {
  return accessKeys.map((key) => `sha256=${computeSignature(key, connectionId)}`).join(',');
}

/**
 * True when any entry of the header matches any of the keys. Hex is compared case-insensitively (as Azure's
 * own verifier does) and in constant time for each candidate pair.
 */
export function verifySignature(
  header: string | null | undefined,
  connectionId: string,
  accessKeys: readonly string[],
): boolean {
  if (!header || accessKeys.length === 0) return false;
  const expected = digestsOf(connectionId, accessKeys);
  let matched = false;
  for (const entry of header.split(',')) {
    const trimmed = entry.trim();
    const eq = trimmed.indexOf('=');
    if (eq < 0 || trimmed.slice(0, eq).trim().toLowerCase() !== 'sha256') continue;
    const hex = trimmed.slice(eq + 1).trim();
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) continue;
    const given = Buffer.from(hex, 'hex');
    for (const digest of expected) {
      // No early exit: every pair is compared so timing does not reveal which entry matched.
      if (timingSafeEqual(given, digest)) matched = true;
    }
  }
  return matched;
}
