/**
 * The credential of a Web PubSub REST call: an access-key JWT whose audience is the request's URL, or in
 * identity mode a Microsoft Entra token for `https://webpubsub.azure.com`. The same credential tells a Web
 * PubSub call from a SignalR one at the same `/api/hubs/…` path (docs/local-service.md, "The Web PubSub REST API").
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { decodeJwt } from 'jose';
import { EntraTokenVerifier } from '../../auth/entra.js';
import { acceptedOrigins, authenticate, requestToken, restAudiencePath } from '../../auth/tokens.js';
import type { ServiceContext } from '../../context.js';
import { Rejection } from '../../errors.js';

/** The `aud` of Entra tokens for Web PubSub's data plane: the scope `https://webpubsub.azure.com/.default`. */
export const WEBPUBSUB_ENTRA_AUDIENCE = 'https://webpubsub.azure.com';

/** Checks the credentials of the Web PubSub REST API for one running service. */
export class WebPubSubCredentials {
  readonly #entra: EntraTokenVerifier | undefined;

  constructor(private readonly ctx: ServiceContext) {
    const metadata = ctx.options.entraOpenIdConfiguration;
    this.#entra =
      ctx.options.auth === 'identity' && metadata
        ? new EntraTokenVerifier(metadata, WEBPUBSUB_ENTRA_AUDIENCE)
        : undefined;
  }

  /**
   * Whether a request carries a Web PubSub credential, read without trusting it: in identity mode an Entra token
   * whose audience is Web PubSub's, else a JWT whose HS256 signature one of the Web PubSub keys made (the keys of
   * the two services never overlap). Anything else belongs to the SignalR side, which answers it.
   */
  isWebPubSubCall(req: IncomingMessage, url: URL): boolean {
    let token: string | undefined;
    try {
      token = requestToken(req, url);
    } catch {
      return false;
    }
    if (!token) return false;
    if (this.#entra) {
      try {
        const aud = decodeJwt(token).aud;
        return Array.isArray(aud) ? aud.includes(WEBPUBSUB_ENTRA_AUDIENCE) : aud === WEBPUBSUB_ENTRA_AUDIENCE;
      } catch {
        return false;
      }
    }
    return signedWithAny(token, this.ctx.options.webPubSubAccessKeys);
  }

  /**
   * Verifies the call's token: Entra in identity mode; else HS256 with a Web PubSub key, a required `exp`, and
   * `aud` the request's URL as Learn's REST reference has it ("the SAME as your HTTP request url", which is what
   * Microsoft's SDK signs: scheme, host, port, path and query) or that URL without its query.
   */
  async verify(req: IncomingMessage, url: URL): Promise<void> {
    const token = requestToken(req, url);
    if (this.#entra) {
      await this.#entra.verify(token);
      return;
    }
    const path = restAudiencePath(url);
    const raw = req.url ?? '';
    const query = raw.includes('?') ? raw.slice(raw.indexOf('?')) : '';
    const paths = query ? [path, `${url.pathname}${query}`] : [path];
    await authenticate(
      token,
      this.ctx.options.webPubSubAccessKeys,
      acceptedOrigins(this.ctx.endpoint()),
      paths,
    );
  }

  /** The key that signs client tokens (`:generateToken`). */
  get signingKey(): string {
    const key = this.ctx.options.webPubSubAccessKeys[0];
    if (!key) throw new Rejection('internal-error');
    return key;
  }
}

/** Whether `token` is a JWS whose HS256 signature one of `keys` made (compared in constant time). */
function signedWithAny(token: string, keys: readonly string[]): boolean {
  const lastDot = token.lastIndexOf('.');
  if (lastDot <= 0 || token.indexOf('.') === lastDot) return false;
  const signed = token.slice(0, lastDot);
  const signature = Buffer.from(token.slice(lastDot + 1), 'base64url');
  let matched = false;
  for (const key of keys) {
    const expected = createHmac('sha256', key).update(signed).digest();
    if (expected.length === signature.length && timingSafeEqual(expected, signature)) matched = true;
  }
  return matched;
}
