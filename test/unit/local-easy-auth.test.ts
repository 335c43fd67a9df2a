import type { HttpRequest } from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import type { RouteDefinition } from '../../src/app/routes.js';
import {
  cookieValue,
  LOGIN_STATE_COOKIE,
  localObjectId,
  SESSION_COOKIE,
} from '../../src/local/functions-host/easy-auth.js';
import { type RunningFunctionsHost, startFunctionsHost } from '../../src/local/functions-host/host.js';
import { loginForm } from '../support/sign-in.js';

let host: RunningFunctionsHost | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

/** A function that answers with the principal headers it was given. */
function echo(name: string, route: string): RouteDefinition {
  return {
    name,
    methods: ['GET', 'POST'],
    route,
    authLevel: 'anonymous',
    handler: async (req: HttpRequest) => {
      const seen: Record<string, string> = {};
      req.headers.forEach((value, key) => {
        if (key.startsWith('x-ms-')) seen[key] = value;
      });
      return { jsonBody: seen };
    },
  };
}

/** The host with sign-in; `messages` is the upstream route's path, which stays reachable without it. */
async function start(mode: 'entra' | 'none' = 'entra') {
  host = await startFunctionsHost({
    port: 0,
    settingsFile: false,
    env: { CHAT_AUTH: mode },
    routes: [echo('whoami', 'whoami'), echo('messages', 'messages')],
    log: () => undefined,
  });
  return host.url;
}

const FORGED = {
  'x-ms-client-principal-name': 'boss@contoso.com',
  'x-ms-client-principal-id': '11111111-1111-1111-1111-111111111111',
  'x-ms-client-principal': Buffer.from(JSON.stringify({ claims: [{ typ: 'name', val: 'Boss' }] })).toString(
    'base64',
  ),
  'x-ms-token-aad-access-token': 'forged',
};

/** Posts the sign-in form as the browser that loaded the sign-in page would (its state cookie and `state`). */
async function signIn(base: string, form: Record<string, string>, returnTo = '/api/whoami') {
  const query = `?post_login_redirect_uri=${encodeURIComponent(returnTo)}`;
  const { stateCookie, state } = await loginForm(base, query);
  const res = await fetch(`${base}/.auth/login/aad${query}`, {
    method: 'POST',
    body: new URLSearchParams({ state, ...form }),
    headers: { cookie: stateCookie, origin: base },
    redirect: 'manual',
  });
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '';
  return {
    res,
    setCookie,
    cookie: `${SESSION_COOKIE}=${cookieValue(setCookie.split(';')[0], SESSION_COOKIE)}`,
  };
}

function claimsOf(seen: Record<string, string>): Record<string, string> {
  const principal = JSON.parse(
    Buffer.from(seen['x-ms-client-principal'] ?? '', 'base64').toString('utf8'),
  ) as {
    claims: Array<{ typ: string; val: string }>;
  };
  return Object.fromEntries(principal.claims.map((c) => [c.typ, c.val]));
}

describe('the built-in host with CHAT_AUTH=entra (App Service Authentication on a laptop)', () => {
  it('sends a browser without a session to sign-in and back, and answers 401 to XMLHttpRequest', async () => {
    const base = await start();
    const res = await fetch(`${base}/api/whoami?x=1`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(
      `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent('/api/whoami?x=1')}`,
    );
    const xhr = await fetch(`${base}/api/whoami`, {
      headers: { 'x-requested-with': 'XMLHttpRequest', ...FORGED },
    });
    expect(xhr.status).toBe(401);
  });

  it('strips client-sent principal headers, also on the upstream route that needs no sign-in', async () => {
    const base = await start();
    const res = await fetch(`${base}/api/messages`, { method: 'POST', headers: FORGED });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
  });

  it('signs in with a session cookie (HttpOnly, SameSite=Lax) and writes the headers Azure writes, replacing forged ones', async () => {
    const base = await start();
    const page = await fetch(`${base}/.auth/login/aad?post_login_redirect_uri=%2Fapi%2Fwhoami`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="post_login_redirect_uri" value="/api/whoami"');
    const { res, setCookie, cookie } = await signIn(base, { name: 'Ann Lee' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/api/whoami');
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    const seen = (await (
      await fetch(`${base}/api/whoami`, { headers: { cookie, ...FORGED } })
    ).json()) as Record<string, string>;
    expect(seen['x-ms-client-principal-id']).toBe(localObjectId('Ann Lee'));
    expect(seen['x-ms-client-principal-idp']).toBe('aad');
    expect(seen['x-ms-client-principal-name']).not.toContain('boss');
    expect(seen['x-ms-token-aad-access-token']).toBeUndefined();
    const claims = claimsOf(seen);
    expect(claims.name).toBe('Ann Lee');
    expect(claims['http://schemas.microsoft.com/identity/claims/objectidentifier']).toBe(
      localObjectId('Ann Lee'),
    );
  });

  it('keeps the object id across sign-ins and tells two people with the same name apart by account', async () => {
    const base = await start();
    const id = async (form: Record<string, string>) => {
      const { cookie } = await signIn(base, form);
      const seen = (await (await fetch(`${base}/api/whoami`, { headers: { cookie } })).json()) as Record<
        string,
        string
      >;
      return seen['x-ms-client-principal-id'];
    };
    const first = await id({ name: 'Ann', account: 'ann.lee' });
    expect(await id({ name: 'Ann', account: 'ann.lee' })).toBe(first);
    expect(await id({ name: 'Ann', account: 'ann.smith' })).not.toBe(first);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('refuses a tampered or foreign session cookie', async () => {
    const base = await start();
    const { cookie } = await signIn(base, { name: 'Ann' });
    const [payload, signature] = (cookie.split('=')[1] ?? '').split('.');
    const other = Buffer.from(
      JSON.stringify({ oid: localObjectId('Boss'), name: 'Boss', upn: 'boss@localhost', exp: 9e9 }),
    ).toString('base64url');
    for (const forged of [`${other}.${signature}`, `${payload}.x${signature}`, `${payload}`]) {
      const res = await fetch(`${base}/api/whoami`, {
        headers: { cookie: `${SESSION_COOKIE}=${forged}` },
        redirect: 'manual',
      });
      expect(res.status, forged).toBe(302);
    }
    // A cookie from another run of the host (another key) does not count either.
    await host?.close();
    const again = await start();
    const stale = await fetch(`${again}/api/whoami`, { headers: { cookie }, redirect: 'manual' });
    expect(stale.status).toBe(302);
  });

  it('answers /.auth/me as App Service does, and 401 without a session', async () => {
    const base = await start();
    expect((await fetch(`${base}/.auth/me`)).status).toBe(401);
    const { cookie } = await signIn(base, { name: 'Zoë', account: 'zoe' });
    const me = (await (await fetch(`${base}/.auth/me`, { headers: { cookie } })).json()) as Array<{
      provider_name: string;
      user_id: string;
      user_claims: Array<{ typ: string; val: string }>;
    }>;
    expect(me).toHaveLength(1);
    expect(me[0]?.provider_name).toBe('aad');
    expect(me[0]?.user_id).toBe('zoe@localhost');
    expect(me[0]?.user_claims).toContainEqual({ typ: 'name', val: 'Zoë' });
  });

  it('signs out: the cookie is cleared and the redirect stays on the site', async () => {
    const base = await start();
    const out = await fetch(`${base}/.auth/logout?post_logout_redirect_uri=/api/home`, {
      redirect: 'manual',
    });
    expect(out.status).toBe(302);
    expect(out.headers.get('location')).toBe('/api/home');
    expect(out.headers.get('set-cookie')).toMatch(new RegExp(`^${SESSION_COOKIE}=;.*Max-Age=0`));
    for (const target of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
      const res = await fetch(`${base}/.auth/logout?post_logout_redirect_uri=${encodeURIComponent(target)}`, {
        redirect: 'manual',
      });
      expect(res.headers.get('location'), target).toBe('/.auth/logout/complete');
    }
    const { res } = await signIn(base, { name: 'Ann' }, '//evil.example/');
    expect(res.headers.get('location')).toBe('/api/home');
  });

  it('refuses a sign-in without a name or with an account outside the rules, and says why', async () => {
    const base = await start();
    const blank = await signIn(base, { name: ' \u202e ' });
    expect(blank.res.status).toBe(400);
    expect(await blank.res.text()).toContain('Give the name to show');
    const bad = await signIn(base, { name: 'Ann', account: 'ann lee<script>' });
    expect(bad.res.status).toBe(400);
    const body = await bad.res.text();
    expect(body).toContain('The account may hold');
    expect(body).not.toContain('<script>');
  });

  it('accepts an email address as account: it is the sign-in name, and decides the object id', async () => {
    const base = await start();
    const { res, cookie } = await signIn(base, { name: 'Ann', account: 'Ann.Lee+chat@Contoso.example' });
    expect(res.status).toBe(302);
    const seen = (await (await fetch(`${base}/api/whoami`, { headers: { cookie } })).json()) as Record<
      string,
      string
    >;
    expect(seen['x-ms-client-principal-name']).toBe('ann.lee+chat@contoso.example');
    expect(seen['x-ms-client-principal-id']).toBe(localObjectId('ann.lee+chat@contoso.example'));
    for (const account of ['ann@', '@contoso.example', 'ann@contoso..example', 'a@b@c', 'ann lee@contoso']) {
      expect((await signIn(base, { name: 'Ann', account })).res.status, account).toBe(400);
    }
  });
});

describe('the development sign-in against login CSRF', () => {
  /** What a page on another site can do: post the form, with the browser's cookies for this host. */
  async function crossSitePost(base: string, headers: Record<string, string>, state?: string) {
    return fetch(`${base}/.auth/login/aad`, {
      method: 'POST',
      body: new URLSearchParams({ name: 'Mallory', account: 'mallory', ...(state ? { state } : {}) }),
      headers,
      redirect: 'manual',
    });
  }

  it('binds the form to the browser: a state cookie (HttpOnly, SameSite=Strict, the sign-in path only) and its HMAC in the form', async () => {
    const base = await start();
    const page = await fetch(`${base}/.auth/login/aad`);
    const [setCookie] = page.headers.getSetCookie();
    expect(setCookie).toMatch(new RegExp(`^${LOGIN_STATE_COOKIE}=[\\w-]{20,};`));
    expect(setCookie).toMatch(/; Path=\/\.auth\/login\/aad;/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(await page.text()).toMatch(/<input type="hidden" name="state" value="[\w-]{40,}">/);
    // Each page load gets its own state.
    expect((await loginForm(base)).state).not.toBe((await loginForm(base)).state);
  });

  it("refuses another site's auto-submitted form, which signs no one in", async () => {
    const base = await start();
    // The attacker loads the form themselves: their own state and cookie, which the victim's browser lacks.
    const { state } = await loginForm(base);
    const attempts = [
      await crossSitePost(base, { origin: 'https://evil.example' }, state),
      await crossSitePost(base, { origin: 'null' }, state),
      await crossSitePost(base, { 'sec-fetch-site': 'cross-site' }, state),
      await crossSitePost(base, { 'sec-fetch-site': 'same-site', origin: 'http://localhost:1' }, state),
      // A browser that sends no Origin: the SameSite=Strict state cookie is not sent cross-site.
      await crossSitePost(base, {}, state),
      await crossSitePost(base, {}),
      // Even a state cookie the victim holds from an earlier visit does not match the attacker's state.
      await crossSitePost(base, { cookie: (await loginForm(base)).stateCookie }, state),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(403);
      expect(res.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=`))).toBe(false);
      const body = await res.text();
      expect(body).toMatch(/another site|not opened in this browser/);
      // The refused form is not filled in again with the attacker's account.
      expect(body).not.toContain('mallory');
    }
  });

  it('refuses a state cookie used with the HMAC of another, a forged state, and one from another run of the host', async () => {
    const base = await start();
    const first = await loginForm(base);
    const second = await loginForm(base);
    const post = (cookie: string, state: string) =>
      fetch(`${base}/.auth/login/aad`, {
        method: 'POST',
        body: new URLSearchParams({ name: 'Ann', state }),
        headers: { cookie, origin: base },
        redirect: 'manual',
      });
    expect((await post(first.stateCookie, second.state)).status).toBe(403);
    // The same state with its last character changed (to one it is not).
    const forged = `${first.state.slice(0, -1)}${first.state.endsWith('A') ? 'B' : 'A'}`;
    expect((await post(first.stateCookie, forged)).status).toBe(403);
    await host?.close();
    const again = await start();
    const stale = await fetch(`${again}/.auth/login/aad`, {
      method: 'POST',
      body: new URLSearchParams({ name: 'Ann', state: first.state }),
      headers: { cookie: first.stateCookie, origin: again },
      redirect: 'manual',
    });
    expect(stale.status).toBe(403);
    // The control: the same browser's own cookie and state sign in, and the state cookie is cleared.
    const own = await loginForm(again);
    const ok = await fetch(`${again}/.auth/login/aad`, {
      method: 'POST',
      body: new URLSearchParams({ name: 'Ann', state: own.state }),
      headers: { cookie: own.stateCookie, origin: again },
      redirect: 'manual',
    });
    expect(ok.status).toBe(302);
    expect(ok.headers.getSetCookie()).toContainEqual(
      expect.stringMatching(new RegExp(`^${LOGIN_STATE_COOKIE}=;.*Max-Age=0`)),
    );
  });
});

describe('the built-in host with CHAT_AUTH=none', () => {
  it('has no sign-in endpoints and passes requests through unchanged (the app ignores principal headers)', async () => {
    const base = await start('none');
    expect((await fetch(`${base}/.auth/login/aad`)).status).toBe(404);
    const res = await fetch(`${base}/api/whoami`, { headers: { 'x-ms-client-principal-name': 'boss' } });
    expect(res.status).toBe(200);
  });
});
