/**
 * The chat's roles (docs/architecture.md, "Moderation"): app roles of the Entra registration, read from the
 * platform's principal at negotiate and carried to the upstream the way the display name is, never from
 * anything a client wrote.
 */

/** The app role values of the Entra registration (infra/modules/entra-app.bicep) and what the chat calls them. */
export const APP_ROLES = { 'Chat.Moderator': 'moderator', 'Chat.Admin': 'admin' } as const;
export type ChatRole = (typeof APP_ROLES)[keyof typeof APP_ROLES];
const ROLE_NAMES: readonly ChatRole[] = ['moderator', 'admin'];

/**
 * The token claim that carries the roles where the app signs client tokens: the role names separated by
 * spaces (the service forwards claims as `type: value, type: value`, so no comma may appear in a value).
 */
export const ROLES_CLAIM = 'chat.roles';

/** The Web PubSub connection state entry that holds the roles, set by the upstream's connect answer. */
export const ROLES_STATE = 'chatRoles';

/**
 * The realtime group of connected moderators: joined at connect when the caller has a role. Chat group
 * names cannot contain `:`, so no user's group can be called this.
 */
export const MODERATORS_GROUP = 'chat:moderators';

/** The chat roles among app role values (unknown values are ignored), sorted and without repeats. */
export function chatRolesOf(appRoles: readonly string[]): ChatRole[] {
  const found = new Set<ChatRole>();
  for (const value of appRoles) {
    const role = (APP_ROLES as Record<string, ChatRole | undefined>)[value];
    if (role !== undefined && Object.hasOwn(APP_ROLES, value)) found.add(role);
  }
  return ROLE_NAMES.filter((r) => found.has(r));
}

/** Roles as the claim value (empty when none). */
export function encodeRolesClaim(roles: readonly ChatRole[]): string {
  return roles.join(' ');
}

/** The roles a claim value, a state entry or a directory record names; anything unknown is dropped. */
export function decodeRoles(value: unknown): ChatRole[] {
  const parts =
    typeof value === 'string'
      ? value.split(' ')
      : Array.isArray(value)
        ? value.flatMap((v) => (typeof v === 'string' ? v.split(' ') : []))
        : [];
  return ROLE_NAMES.filter((r) => parts.includes(r));
}

/** Whether the roles allow moderating (a moderator or an admin). */
export function canModerate(roles: readonly ChatRole[] | undefined): boolean {
  return roles !== undefined && roles.length > 0;
}
