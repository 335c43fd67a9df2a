/**
 * Who is asking, decided once in home and negotiate by the app setting `CHAT_AUTH`: App Service
 * Authentication's principal (`entra`) or `?name=` (`none`), never guessed from the request
 * (docs/architecture.md, "Tokens and identity").
 */
import type { HttpRequest } from '@azure/functions';
import { type ChatRole, chatRolesOf } from '../lib/chat/index.js';
import { nameProblem } from '../lib/conversation.js';
import { cleanDisplayName } from '../lib/display-name.js';
import { readSetting, SETTINGS } from '../lib/settings.js';

/** The headers App Service authentication (Easy Auth) sets for a signed-in user. */
export const PRINCIPAL_HEADERS = {
  /** base64 of `{ auth_typ, name_typ, role_typ, claims: [{ typ, val }] }`. */
  principal: 'x-ms-client-principal',
  /** The object id for Microsoft Entra ID. */
  id: 'x-ms-client-principal-id',
  /** Usually the sign-in name (UPN or e-mail address). */
  name: 'x-ms-client-principal-name',
  /** The identity provider, `aad` for Microsoft Entra ID. */
  idp: 'x-ms-client-principal-idp',
} as const;

/** The claim types of a Microsoft Entra principal the chat reads, long (as Easy Auth maps them) and short. */
export const CLAIM_TYPES = {
  objectId: ['http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid'],
  name: ['name'],
  preferredUsername: ['preferred_username'],
} as const;

/** The largest `x-ms-client-principal` header read (base64 characters); larger ones are refused. */
export const MAX_PRINCIPAL_HEADER_LENGTH = 32 * 1024;

export const AUTH_MODES = ['entra', 'none'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** The `CHAT_AUTH` setting; throws an error that names the setting when it holds anything else. */
export function authMode(env: NodeJS.ProcessEnv = process.env): AuthMode {
  const raw = (readSetting('chatAuth', env) ?? 'none').toLowerCase();
  if ((AUTH_MODES as readonly string[]).includes(raw)) return raw as AuthMode;
  throw new Error(`The app setting ${SETTINGS.chatAuth.name} must be "entra" or "none", not "${raw}"`);
}

/** A user of the chat: the id everything is keyed on (presence, groups, private conversations) and the name shown. */
export interface ChatIdentity {
  readonly id: string;
  readonly name: string;
  /** The chat roles among the principal's app roles (docs/architecture.md, "Moderation"); none without sign-in. */
  readonly roles?: readonly ChatRole[];
}

export type IdentityResult =
  | { readonly ok: true; readonly mode: AuthMode; readonly user: ChatIdentity | null }
  | {
      readonly ok: false;
      readonly mode: AuthMode;
      readonly code: 'invalid-name' | 'invalid-principal';
      readonly message: string;
    };

/**
 * The caller, as the mode allows: `user` is `null` when nobody is named yet (not signed in; no `?name=`).
 * A present but unusable identity is an error with a message that says what to fix.
 */
export function identify(req: HttpRequest, env: NodeJS.ProcessEnv = process.env): IdentityResult {
  const mode = authMode(env);
  return mode === 'entra' ? identifyPrincipal(req) : identifyByName(req);
}

function identifyByName(req: HttpRequest): IdentityResult {
  const name = req.query.get('name');
  if (name === null) return { ok: true, mode: 'none', user: null };
  const problem = nameProblem(name);
  if (problem)
    return { ok: false, mode: 'none', code: 'invalid-name', message: `${problem}; choose another ?name=` };
  return { ok: true, mode: 'none', user: { id: name, name } };
}

const GUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * The chat user id of an object id: its 32 hex digits in lower case, without dashes. That is a valid chat
 * name (letters and digits, at most 32), so private conversation ids, blob paths and service user ids work
 * unchanged; `undefined` when the value is not a GUID.
 */
export function userIdOfObjectId(objectId: string): string | undefined {
  const trimmed = objectId.trim();
  return GUID.test(trimmed) ? trimmed.replaceAll('-', '').toLowerCase() : undefined;
}

function identifyPrincipal(req: HttpRequest): IdentityResult {
  const refuse = (message: string): IdentityResult => ({
    ok: false,
    mode: 'entra',
    code: 'invalid-principal',
    message,
  });
  const encoded = req.headers.get(PRINCIPAL_HEADERS.principal);
  const headerId = req.headers.get(PRINCIPAL_HEADERS.id);
  if (!encoded && !headerId) return { ok: true, mode: 'entra', user: null };
  let claims: ReadonlyMap<string, string> = new Map();
  if (encoded) {
    const parsed = parsePrincipal(encoded);
    if (parsed === undefined) {
      return refuse(`The ${PRINCIPAL_HEADERS.principal} header is not base64 JSON with a claims list`);
    }
    claims = parsed;
  }
  const claim = (types: readonly string[]) => types.map((t) => claims.get(t)).find((v) => v);
  const objectId = claim(CLAIM_TYPES.objectId) ?? headerId ?? '';
  const id = userIdOfObjectId(objectId);
  if (id === undefined)
    return refuse('The signed-in principal has no object id (a GUID): sign in with Microsoft Entra ID');
  const name =
    cleanDisplayName(claim(CLAIM_TYPES.name)) ??
    cleanDisplayName(claim(CLAIM_TYPES.preferredUsername)) ??
    cleanDisplayName(req.headers.get(PRINCIPAL_HEADERS.name)) ??
    `User ${id.slice(0, 8)}`;
  const roles = encoded ? chatRolesOf(principalRoles(encoded)) : [];
  return { ok: true, mode: 'entra', user: { id, name, ...(roles.length > 0 ? { roles } : {}) } };
}

/**
 * Every app role of an `x-ms-client-principal` header: the values of its claims of type `roles` (as Easy
 * Auth lists Entra's app roles) or of the type its `role_typ` names. Only the platform writes this header.
 */
export function principalRoles(encoded: string): string[] {
  if (encoded.length > MAX_PRINCIPAL_HEADER_LENGTH) return [];
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    return [];
  }
  if (typeof value !== 'object' || value === null) return [];
  const { claims, role_typ: roleType } = value as { claims?: unknown; role_typ?: unknown };
  if (!Array.isArray(claims)) return [];
  const types = new Set(['roles', ...(typeof roleType === 'string' ? [roleType] : [])]);
  const roles: string[] = [];
  for (const entry of claims) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { typ, val } = entry as { typ?: unknown; val?: unknown };
    if (typeof typ === 'string' && types.has(typ) && typeof val === 'string') roles.push(val);
  }
  return roles;
}

/** The claims of an `x-ms-client-principal` header (first value per type), or `undefined` when malformed. */
export function parsePrincipal(encoded: string): ReadonlyMap<string, string> | undefined {
  if (encoded.length > MAX_PRINCIPAL_HEADER_LENGTH) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const list = (value as { claims?: unknown }).claims;
  if (!Array.isArray(list)) return undefined;
  const claims = new Map<string, string>();
  for (const entry of list) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { typ, val } = entry as { typ?: unknown; val?: unknown };
    if (typeof typ === 'string' && typeof val === 'string' && !claims.has(typ)) claims.set(typ, val);
  }
  return claims;
}
