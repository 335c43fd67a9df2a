/**
 * Signing in to the built-in host's stand-in for App Service Authentication (`CHAT_AUTH=entra`), as a browser
 * would: the sign-in form's POST, then the session cookie on every request.
 */

import { userIdOfObjectId } from '../../src/app/identity.js';
import { SESSION_COOKIE } from '../../src/local/easy-auth.js';

export interface SignedIn {
  /** The `Cookie` header value that carries the session. */
  readonly cookie: string;
  /** The object id the host assigned. */
  readonly objectId: string;
  /** The chat user id (the object id without dashes). */
  readonly userId: string;
}

/** Signs in as `name` (and `account`, which decides the object id when given). */
export async function signIn(functionsUrl: string, name: string, account?: string): Promise<SignedIn> {
  const form = new URLSearchParams({ name, ...(account !== undefined ? { account } : {}) });
  const res = await fetch(`${functionsUrl}/.auth/login/aad`, {
    method: 'POST',
    body: form,
    redirect: 'manual',
  });
  const setCookie = res.headers.get('set-cookie');
  if (res.status !== 302 || !setCookie)
    throw new Error(`sign-in answered ${res.status}: ${await res.text()}`);
  const cookie = setCookie.split(';')[0] ?? '';
  if (!cookie.startsWith(`${SESSION_COOKIE}=`)) throw new Error(`unexpected cookie ${cookie}`);
  const me = (await (await fetch(`${functionsUrl}/.auth/me`, { headers: { cookie } })).json()) as Array<{
    user_claims: Array<{ typ: string; val: string }>;
  }>;
  const objectId =
    me[0]?.user_claims.find((c) => c.typ === 'http://schemas.microsoft.com/identity/claims/objectidentifier')
      ?.val ?? '';
  const userId = userIdOfObjectId(objectId);
  if (userId === undefined) throw new Error(`no object id in /.auth/me for ${name}`);
  return { cookie, objectId, userId };
}
