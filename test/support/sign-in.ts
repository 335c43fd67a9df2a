/**
 * Signing in to the built-in host's stand-in for App Service Authentication (`CHAT_AUTH=entra`), as a browser
 * would: the sign-in page (which sets the state cookie the form is bound to), the form's POST, then the session
 * cookie on every request.
 */

import { userIdOfObjectId } from '../../src/app/identity.js';
import {
  LOGIN_STATE_COOKIE,
  LOGIN_STATE_FIELD,
  SESSION_COOKIE,
} from '../../src/local/functions-host/easy-auth.js';

export interface SignedIn {
  /** The `Cookie` header value that carries the session. */
  readonly cookie: string;
  /** The object id the host assigned. */
  readonly objectId: string;
  /** The chat user id (the object id without dashes). */
  readonly userId: string;
}

/** The sign-in page's state: the cookie it set and the `state` its form carries. */
export async function loginForm(
  functionsUrl: string,
  query = '',
): Promise<{ stateCookie: string; state: string }> {
  const page = await fetch(`${functionsUrl}/.auth/login/aad${query}`);
  const stateCookie =
    page.headers
      .getSetCookie()
      .map((c) => c.split(';')[0] ?? '')
      .find((c) => c.startsWith(`${LOGIN_STATE_COOKIE}=`)) ?? '';
  const state = new RegExp(`name="${LOGIN_STATE_FIELD}" value="([^"]+)"`).exec(await page.text())?.[1];
  if (!stateCookie || !state) throw new Error(`the sign-in page (${page.status}) set no state`);
  return { stateCookie, state };
}

/**
 * Signs in as `name` (and `account`, which decides the object id when given), with the app `roles` ticked on
 * the sign-in page (`Chat.Moderator`, `Chat.Admin`).
 */
export async function signIn(
  functionsUrl: string,
  name: string,
  account?: string,
  roles: readonly string[] = [],
): Promise<SignedIn> {
  const { stateCookie, state } = await loginForm(functionsUrl);
  const form = new URLSearchParams({ name, state, ...(account !== undefined ? { account } : {}) });
  for (const role of roles) form.append('role', role);
  const res = await fetch(`${functionsUrl}/.auth/login/aad`, {
    method: 'POST',
    body: form,
    headers: { cookie: stateCookie },
    redirect: 'manual',
  });
  const cookie =
    res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0] ?? '')
      .find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '';
  if (res.status !== 302 || !cookie) throw new Error(`sign-in answered ${res.status}: ${await res.text()}`);
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
