/**
 * Tokens whose signature the service has verified, remembered until they expire: the app signs one REST token
 * per audience and uses it for minutes, so without this every fan-out would verify the same HMAC again
 * (docs/local-service.md, "Tokens"). An entry is found by the SHA-256 of the whole token, so a lookup reveals
 * nothing about a signature, and only under the same array of access keys that verified it: keys replaced by
 * a rotation verify afresh. The claims' times (`exp`, `nbf`) and the audience are checked on every use.
 */
import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { setBounded } from '../../../lib/bounded-map.js';
import { CLOCK_SKEW_SECONDS } from '../../../lib/signalr/tokens.js';

/** Verified tokens remembered at most (the least recently used are forgotten first; one is only verified again). */
export const MAX_VERIFIED_TOKENS = 1_024;

interface Verified {
  readonly keys: readonly string[];
  readonly payload: JWTPayload;
}

const verified = new Map<string, Verified>();

/** The digest a token is remembered under. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64');
}

/**
 * The claims of a token verified before under `keys`, when it is still within its times (with the same clock
 * tolerance as a full verification) and its audience is one of `audiences`; otherwise undefined, and the
 * caller verifies it in full.
 */
export function rememberedClaims(
  digest: string,
  keys: readonly string[],
  audiences: readonly string[],
  now: number = Date.now(),
): JWTPayload | undefined {
  const entry = verified.get(digest);
  if (entry === undefined || entry.keys !== keys) return undefined;
  const { payload } = entry;
  const tolerance = CLOCK_SKEW_SECONDS;
  const seconds = now / 1000;
  if (typeof payload.exp !== 'number' || payload.exp + tolerance <= seconds) {
    verified.delete(digest);
    return undefined;
  }
  if (typeof payload.nbf === 'number' && payload.nbf - tolerance > seconds) return undefined;
  const aud = payload.aud;
  const audList = Array.isArray(aud) ? aud : aud === undefined ? [] : [aud];
  if (!audList.some((a) => audiences.includes(a))) return undefined;
  setBounded(verified, digest, entry, MAX_VERIFIED_TOKENS);
  return payload;
}

/** Remembers a token that has just been verified under `keys`. */
export function rememberVerified(digest: string, keys: readonly string[], payload: JWTPayload): void {
  setBounded(verified, digest, { keys, payload }, MAX_VERIFIED_TOKENS);
}
