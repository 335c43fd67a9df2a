/**
 * App Service Authentication (Easy Auth) on a laptop, in front of the built-in Functions host with
 * `CHAT_AUTH=entra`: a development sign-in page, a signed session cookie, `/.auth/logout` and `/.auth/me`, and the
 * `x-ms-client-principal*` headers written as the platform writes them (docs/architecture.md, "Tokens and
 * identity").
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cleanDisplayName } from '../../lib/display-name.js';
import { BodyTooLargeError, readCappedBody } from '../http-body.js';

/** The paths of the platform's endpoints. */
export const EASY_AUTH_PATHS = {
  login: '/.auth/login/aad',
  logout: '/.auth/logout',
  logoutComplete: '/.auth/logout/complete',
  me: '/.auth/me',
} as const;

/** App Service's session cookie name. */
export const SESSION_COOKIE = 'AppServiceAuthSession';
/**
 * The cookie that binds a sign-in form to the browser that loaded it (as the platform's own sign-in binds its
 * `state` to a nonce cookie): a random value, whose HMAC the form carries as `state`.
 */
export const LOGIN_STATE_COOKIE = 'AppServiceAuthLoginState';
/** The form field that carries the HMAC of the state cookie. */
export const LOGIN_STATE_FIELD = 'state';
/** How long a sign-in form stays usable. */
export const DEFAULT_LOGIN_FORM_TTL_SECONDS = 15 * 60;
/** How long a sign-in lasts (App Service's default session is 8 hours). */
export const DEFAULT_SESSION_TTL_SECONDS = 8 * 3600;
/** Largest sign-in form accepted. */
export const MAX_LOGIN_FORM_BYTES = 4096;
/** Longest account name, in characters (an email address fits: 64 before the `@` is its own limit). */
export const MAX_ACCOUNT_LENGTH = 128;

/** The claim types the platform writes for a Microsoft Entra user (those the app reads among them). */
export const ENTRA_CLAIM_TYPES = {
  objectId: 'http://schemas.microsoft.com/identity/claims/objectidentifier',
  nameIdentifier: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier',
  name: 'name',
  preferredUsername: 'preferred_username',
  tenantId: 'http://schemas.microsoft.com/identity/claims/tenantid',
} as const;

/** The tenant id the local sign-in claims (all zeros: no real tenant). */
export const LOCAL_TENANT_ID = '00000000-0000-0000-0000-000000000000';

export interface LocalEasyAuthOptions {
  /** Paths (with the route prefix, e.g. `/api/messages`) reachable without signing in. */
  excludedPaths: readonly string[];
  /** The cookie signing key; default 32 random bytes per run. */
  key?: Buffer;
  /** See {@link DEFAULT_SESSION_TTL_SECONDS}. */
  sessionTtlSeconds?: number;
  /** See {@link DEFAULT_LOGIN_FORM_TTL_SECONDS}. */
  loginFormTtlSeconds?: number;
  /** The clock, for tests. */
  now?: () => number;
}

/** A signed-in local user. */
export interface LocalUser {
  /** The object id (a UUID). */
  readonly oid: string;
  /** The display name (`name` claim). */
  readonly name: string;
  /** The sign-in name (`preferred_username` claim, `x-ms-client-principal-name`): ASCII. */
  readonly upn: string;
  /** App roles granted at sign-in (`roles` claims), as an admin would assign them in Entra. */
  readonly roles?: readonly string[];
}

/** The app roles the local sign-in page offers (infra/modules/entra-app.bicep declares them). */
export const LOCAL_APP_ROLES = ['Chat.Moderator', 'Chat.Admin'] as const;

/** The object id for an account: a UUID (version 8, from SHA-256 of the account in lower case), so it is stable. */
export function localObjectId(account: string): string {
  const hash = createHash('sha256').update(`chat-local-sign-in:${account.trim().toLowerCase()}`).digest();
  const bytes = Buffer.from(hash.subarray(0, 16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The claims the platform would list for `user`. */
export function claimsOf(user: LocalUser): Array<{ typ: string; val: string }> {
  return [
    { typ: ENTRA_CLAIM_TYPES.objectId, val: user.oid },
    { typ: ENTRA_CLAIM_TYPES.nameIdentifier, val: user.oid },
    { typ: ENTRA_CLAIM_TYPES.name, val: user.name },
    { typ: ENTRA_CLAIM_TYPES.preferredUsername, val: user.upn },
    { typ: ENTRA_CLAIM_TYPES.tenantId, val: LOCAL_TENANT_ID },
    // Easy Auth lists each app role of the token's `roles` claim as its own claim of type `roles`.
    ...(user.roles ?? []).map((val) => ({ typ: 'roles', val })),
  ];
}

/** The `x-ms-client-principal*` headers App Service writes for a signed-in Microsoft Entra user. */
export function principalHeadersOf(user: LocalUser): Record<string, string> {
  const principal = {
    auth_typ: 'aad',
    claims: claimsOf(user),
    name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
    role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
  };
  return {
    'x-ms-client-principal': Buffer.from(JSON.stringify(principal), 'utf8').toString('base64'),
    'x-ms-client-principal-id': user.oid,
    'x-ms-client-principal-name': user.upn,
    'x-ms-client-principal-idp': 'aad',
  };
}

/** Headers only the platform may write: removed from every request before the app sees it. */
export function isPlatformHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith('x-ms-client-principal') || lower.startsWith('x-ms-token-');
}

/** A same-site path to return to (`/…`, not `//…` or `/\…`); anything else becomes `fallback`. */
export function safeReturnPath(value: string | null | undefined, fallback: string): string {
  if (!value?.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return fallback;
  if (/\p{Cc}/u.test(value)) return fallback;
  return value;
}

/** A plain account (`ann.lee`) or an email address (`ann.lee+chat@contoso.com`), ASCII only. */
const ACCOUNT_PATTERN = /^[A-Za-z0-9._+-]+(@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*)?$/;

/** What the app sees of a request that may go on to a function. */
export type EasyAuthOutcome =
  | { readonly kind: 'answered' }
  | { readonly kind: 'forward'; readonly headers: Record<string, string> };

export class LocalEasyAuth {
  readonly #key: Buffer;
  readonly #ttl: number;
  readonly #formTtl: number;
  readonly #now: () => number;
  readonly #excluded: ReadonlySet<string>;

  constructor(options: LocalEasyAuthOptions) {
    this.#key = options.key ?? randomBytes(32);
    this.#ttl = options.sessionTtlSeconds ?? DEFAULT_SESSION_TTL_SECONDS;
    this.#formTtl = options.loginFormTtlSeconds ?? DEFAULT_LOGIN_FORM_TTL_SECONDS;
    this.#now = options.now ?? Date.now;
    this.#excluded = new Set(options.excludedPaths.map((p) => p.toLowerCase().replace(/\/+$/, '')));
  }

  /**
   * Handles the platform's endpoints and guards the rest. `headers` are the request's headers (one string
   * each); the outcome says whether the request was answered here or goes on with the headers to use.
   */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    pathname: string,
    headers: Record<string, string>,
  ): Promise<EasyAuthOutcome> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = pathname.toLowerCase().replace(/\/+$/, '') || '/';
    if (path === EASY_AUTH_PATHS.login) return this.#login(req, res, url);
    if (path === EASY_AUTH_PATHS.logoutComplete) return page(res, 200, LOGGED_OUT_PAGE);
    if (path === EASY_AUTH_PATHS.logout) {
      const to = safeReturnPath(
        url.searchParams.get('post_logout_redirect_uri'),
        EASY_AUTH_PATHS.logoutComplete,
      );
      res.writeHead(302, { location: to, 'set-cookie': this.#cookie('', 0), 'cache-control': 'no-store' });
      res.end();
      return { kind: 'answered' };
    }
    const user = this.#session(headers.cookie);
    if (path === EASY_AUTH_PATHS.me) {
      if (!user) return text(res, 401, 'Not signed in: open /.auth/login/aad');
      const body = JSON.stringify([{ provider_name: 'aad', user_id: user.upn, user_claims: claimsOf(user) }]);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(body);
      return { kind: 'answered' };
    }
    const forwarded: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) if (!isPlatformHeader(name)) forwarded[name] = value;
    if (user) return { kind: 'forward', headers: { ...forwarded, ...principalHeadersOf(user) } };
    if (this.#excluded.has(path)) return { kind: 'forward', headers: forwarded };
    if (headers['x-requested-with']?.toLowerCase() === 'xmlhttprequest') {
      return text(res, 401, 'Not signed in: open /.auth/login/aad, then try again');
    }
    const back = `${url.pathname}${url.search}`;
    res.writeHead(302, {
      location: `${EASY_AUTH_PATHS.login}?post_login_redirect_uri=${encodeURIComponent(back)}`,
      'cache-control': 'no-store',
    });
    res.end();
    return { kind: 'answered' };
  }

  async #login(req: IncomingMessage, res: ServerResponse, url: URL): Promise<EasyAuthOutcome> {
    const returnTo = safeReturnPath(url.searchParams.get('post_login_redirect_uri'), '/api/home');
    if (req.method === 'GET' || req.method === 'HEAD') return this.#form(res, 200, returnTo);
    if (req.method !== 'POST') {
      res.setHeader('allow', 'GET, POST');
      return text(res, 405, 'Use GET for the sign-in page and POST to sign in');
    }
    // Login CSRF: a page of another site could post this form and sign the browser in as someone else.
    if (!isSameOrigin(req)) {
      return text(
        res,
        403,
        'Sign-in refused: the form was sent from another site. Open /.auth/login/aad here.',
      );
    }
    let form: URLSearchParams;
    try {
      form = new URLSearchParams((await readCappedBody(req, MAX_LOGIN_FORM_BYTES)).toString('utf8'));
    } catch (error) {
      if (error instanceof BodyTooLargeError) return text(res, 413, error.message);
      throw error;
    }
    const target = safeReturnPath(form.get('post_login_redirect_uri'), returnTo);
    const name = cleanDisplayName(form.get('name') ?? '');
    const account = (form.get('account') ?? '').trim();
    if (!this.#stateMatches(req.headers.cookie, form.get(LOGIN_STATE_FIELD))) {
      // Nothing of the refused form is filled in again: it may be another site's, naming its own account.
      return this.#form(
        res,
        403,
        target,
        'This sign-in form has expired or was not opened in this browser: sign in again.',
      );
    }
    const problem =
      name === undefined
        ? 'Give the name to show (1–64 characters).'
        : account !== '' && (account.length > MAX_ACCOUNT_LENGTH || !ACCOUNT_PATTERN.test(account))
          ? `The account may hold letters, digits, ".", "_", "+" and "-", or be an email address (at most ${MAX_ACCOUNT_LENGTH} characters).`
          : undefined;
    if (problem !== undefined || name === undefined) {
      return this.#form(res, 400, target, problem, form.get('name') ?? '', account);
    }
    const key = account !== '' ? account : name;
    const oid = localObjectId(key);
    const lower = account.toLowerCase();
    const upn =
      account === ''
        ? `user-${oid.slice(0, 8)}@localhost`
        : lower.includes('@')
          ? lower
          : `${lower}@localhost`;
    const roles = LOCAL_APP_ROLES.filter((r) => form.getAll('role').includes(r));
    const user: LocalUser = { oid, name, upn, ...(roles.length > 0 ? { roles } : {}) };
    res.writeHead(302, {
      location: target,
      'set-cookie': [this.#cookie(this.#seal(user), this.#ttl), this.#stateCookie('', 0)],
      'cache-control': 'no-store',
    });
    res.end();
    return { kind: 'answered' };
  }

  /** The sign-in page with a fresh state: a new random cookie value and its HMAC in the form. */
  #form(
    res: ServerResponse,
    status: number,
    returnTo: string,
    problem?: string,
    name = '',
    account = '',
  ): EasyAuthOutcome {
    const nonce = randomBytes(18).toString('base64url');
    res.setHeader('set-cookie', this.#stateCookie(nonce, this.#formTtl));
    return page(res, status, loginPage(returnTo, this.#stateOf(nonce), problem, name, account));
  }

  #stateOf(nonce: string): string {
    return this.#sign(`login-state:${nonce}`);
  }

  /** Whether the form's `state` is the HMAC of this browser's state cookie (compared in constant time). */
  #stateMatches(cookieHeader: string | undefined, state: string | null): boolean {
    const nonce = cookieValue(cookieHeader, LOGIN_STATE_COOKIE);
    if (!nonce || !state) return false;
    const expected = Buffer.from(this.#stateOf(nonce));
    const given = Buffer.from(state);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  #stateCookie(value: string, maxAgeSeconds: number): string {
    // Strict: a cross-site POST does not carry it, so a form posted from another site never matches.
    return `${LOGIN_STATE_COOKIE}=${value}; Path=${EASY_AUTH_PATHS.login}; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
  }

  /** `payload.signature`, both base64url; the payload is the user and the expiry. */
  #seal(user: LocalUser): string {
    const payload = Buffer.from(
      JSON.stringify({ ...user, exp: Math.floor(this.#now() / 1000) + this.#ttl }),
      'utf8',
    ).toString('base64url');
    return `${payload}.${this.#sign(payload)}`;
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }

  /** The user of a valid, unexpired session cookie, else `undefined`. */
  #session(cookieHeader: string | undefined): LocalUser | undefined {
    const value = cookieValue(cookieHeader, SESSION_COOKIE);
    if (!value) return undefined;
    const [payload, signature, extra] = value.split('.');
    if (!payload || !signature || extra !== undefined) return undefined;
    const expected = Buffer.from(this.#sign(payload));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as LocalUser & {
        exp: number;
      };
      if (typeof data.exp !== 'number' || data.exp * 1000 <= this.#now()) return undefined;
      const roles = Array.isArray(data.roles) ? LOCAL_APP_ROLES.filter((r) => data.roles?.includes(r)) : [];
      return { oid: data.oid, name: data.name, upn: data.upn, ...(roles.length > 0 ? { roles } : {}) };
    } catch {
      return undefined;
    }
  }

  #cookie(value: string, maxAgeSeconds: number): string {
    return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}`;
  }
}

/**
 * Whether a POST comes from a page of this host: its `Sec-Fetch-Site` is `same-origin` (or absent), and its
 * `Origin` (sent by browsers on every cross-origin POST and on same-origin ones too) names the host the request
 * was sent to, or is absent (a client that is not a browser, which the state cookie still checks).
 * `Origin: null` (a sandboxed or opaque page) is refused.
 */
export function isSameOrigin(req: IncomingMessage): boolean {
  // Fetch metadata, where the browser sends it: anything but this origin (or a typed URL) is another site.
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const host = req.headers.host;
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/** One cookie's value from a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}

function text(res: ServerResponse, status: number, body: string): EasyAuthOutcome {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
  return { kind: 'answered' };
}

function page(res: ServerResponse, status: number, html: string): EasyAuthOutcome {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // Not no-referrer: under it a browser sends `Origin: null` with the form's own POST, which the sign-in refuses.
    'referrer-policy': 'same-origin',
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  });
  res.end(html);
  return { kind: 'answered' };
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;min-height:100vh;display:grid;place-items:center;background:#f4f4f8;color:#1f2937}
main{background:#fff;padding:2rem;border-radius:12px;box-shadow:0 2px 12px #0001;max-width:24rem;width:calc(100% - 2rem)}
h1{font-size:1.3rem;margin:0 0 .25rem}p{margin:.25rem 0 1rem;color:#4b5563}label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.55rem;border:1px solid #9ca3af;border-radius:8px;font:inherit}
button,a.button{margin-top:1.25rem;width:100%;padding:.6rem;border:0;border-radius:8px;background:#4f46e5;color:#fff;font:inherit;font-weight:600;cursor:pointer;display:block;text-align:center;text-decoration:none}
.hint{font-size:.85rem;color:#6b7280;margin:.25rem 0 0}fieldset{border:0;margin:1rem 0 0;padding:0}legend{font-weight:600}
label.check{display:flex;gap:.5rem;align-items:center;font-weight:400;margin:.35rem 0}label.check input{width:auto}.error{color:#b91c1c;font-weight:600}`;

/**
 * The development sign-in page: a name, an optional account, and where to go afterwards. Its form has no
 * `action`, so it posts to the page's own address, fragment included, and the browser keeps that fragment
 * through the redirects that follow (a redirect whose `Location` has none inherits it): a link to a
 * conversation (`/#group:team`) opens it once signed in, as App Service does with
 * `preserveUrlFragmentsForLogins`. The fragment never reaches the server, and the redirect stays a same-site
 * path (`safeReturnPath`).
 */
function loginPage(returnTo: string, state: string, problem?: string, name = '', account = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in (local development)</title><style>${STYLE}</style></head>
<body><main>
<h1>Sign in</h1>
<p>Local development sign-in: it stands in for Microsoft Entra ID and checks no password.</p>
${problem ? `<p class="error" role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post">
<input type="hidden" name="post_login_redirect_uri" value="${escapeHtml(returnTo)}">
<input type="hidden" name="${LOGIN_STATE_FIELD}" value="${escapeHtml(state)}">
<label for="name">Name to show</label>
<input id="name" name="name" required maxlength="64" autocomplete="name" autofocus value="${escapeHtml(name)}">
<label for="account">Account (optional)</label>
<input id="account" name="account" maxlength="${MAX_ACCOUNT_LENGTH}" autocomplete="username" value="${escapeHtml(account)}" aria-describedby="account-hint">
<p id="account-hint" class="hint">Who you are, as a short account name or an email address: the same account is the same person next time. Without one, the name decides. Two people with the same name need different accounts.</p>
<fieldset><legend>App roles (as an admin would assign them)</legend>
<label class="check"><input type="checkbox" name="role" value="Chat.Moderator"> Moderator</label>
<label class="check"><input type="checkbox" name="role" value="Chat.Admin"> Admin</label></fieldset>
<button type="submit">Sign in</button>
</form>
</main></body></html>`;
}

const LOGGED_OUT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Signed out</title><style>${STYLE}</style></head>
<body><main><h1>Signed out</h1><p>You have signed out of the chat.</p>
<a class="button" href="/api/home">Sign in again</a></main></body></html>`;
