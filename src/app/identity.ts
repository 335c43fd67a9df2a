/**
 * Who is asking, decided once in home and negotiate (docs/architecture.md, "Tokens and identity"): the App Service authentication principal
 * (`x-ms-client-principal-name`) when present, else the demo's `?name=`. After negotiate, the identity
 * travels in the service's token and is never read from a client message again.
 */
import type { HttpRequest } from '@azure/functions';
import { nameProblem } from '../lib/conversation.js';

/** The header App Service authentication (Easy Auth) sets for a signed-in user. */
export const PRINCIPAL_NAME_HEADER = 'x-ms-client-principal-name';

export type IdentityResult =
  | { readonly ok: true; readonly user: string | null; readonly source: 'principal' | 'query' | 'none' }
  | { readonly ok: false; readonly message: string };

/**
 * The caller's user name: the principal header, else `?name=`, else `null` (nobody yet).
 * A present but invalid name is an error with a message that says how to fix it.
 */
export function identify(req: HttpRequest): IdentityResult {
  const signedIn = req.headers.get(PRINCIPAL_NAME_HEADER);
  if (signedIn !== null && signedIn !== '') {
    const principal = chatNameOfPrincipal(signedIn);
    const problem = nameProblem(principal);
    // The principal name comes from the identity provider (often an e-mail address); the chat's names are
    // narrower, so say which rule it breaks instead of mangling it into something else.
    if (problem) return { ok: false, message: `${problem} (signed-in name "${signedIn}")` };
    return { ok: true, user: principal, source: 'principal' };
  }
  const name = req.query.get('name');
  if (name === null) return { ok: true, user: null, source: 'none' };
  const problem = nameProblem(name);
  if (problem) return { ok: false, message: `${problem}; choose another ?name=` };
  return { ok: true, user: name, source: 'query' };
}

/**
 * The chat name of a signed-in principal. Identity providers name people by e-mail address or UPN
 * (`ann@contoso.com`), and `@` is not a name character, so it becomes `.` (`ann.contoso.com`): still unique per
 * principal (the domain stays) and readable. Any other character outside the name rules is refused by the
 * caller with a message, never silently dropped, so two principals cannot end up with one name.
 */
export function chatNameOfPrincipal(principalName: string): string {
  return principalName.replaceAll('@', '.');
}
