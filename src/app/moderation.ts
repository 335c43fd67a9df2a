/**
 * Moderation on the Azure side (docs/architecture.md, "Moderation"): its stores and the closing of a banned
 * user's connections, built once per set of services, and the caller's roles as the service vouches for them:
 * a signalr token's `chat.roles` claim where the app signs tokens, else the roles negotiate recorded in the
 * directory; on Web PubSub, the connection state the connect answer set. Never a command. On only with
 * sign-in (`CHAT_AUTH=entra`): without it no roles exist.
 */
import {
  AuditLog,
  type Caller,
  type ChatRole,
  type CommandResult,
  canModerate,
  DEFAULT_MODERATION_PAGE_SIZE,
  decodeRoles,
  isModerationCommand,
  MODERATORS_GROUP,
  type ModerationDependencies,
  type ModerationStatus,
  ModerationStore,
  ReportStore,
  type ReportsPayload,
  ROLES_CLAIM,
  ROLES_STATE,
  toServiceUserId,
} from '../lib/chat/index.js';
import type { UpstreamContext } from '../lib/upstream/index.js';
import { APP_ERRORS } from './errors.js';
import { authMode } from './identity.js';
import { type ChatServices, maxOpenReportsFromSettings } from './services.js';

const built = new WeakMap<ChatServices, ModerationDependencies>();

/** The moderation dependencies of the chat for these services. */
export function moderationFor(services: ChatServices): ModerationDependencies {
  let deps = built.get(services);
  if (deps === undefined) {
    const container = services.history.containerClient;
    deps = {
      enabled: authMode() === 'entra',
      store: new ModerationStore(container),
      reports: new ReportStore(container, { maxOpenPerUser: maxOpenReportsFromSettings() }),
      audit: new AuditLog(container),
      disconnect: (user, reason) => closeUserConnections(services, user, reason),
    };
    built.set(services, deps);
  }
  return deps;
}

/**
 * Closes every open connection of `user` through the services' REST APIs: Web PubSub closes a user's
 * connections in one call; SignalR's v1 API closes one connection at a time, those the presence entries name.
 * A connection that is already gone (or belongs to the other service) is no failure.
 */
export async function closeUserConnections(
  services: ChatServices,
  user: string,
  reason: string,
): Promise<void> {
  const id = toServiceUserId(user);
  const calls: Promise<unknown>[] = [];
  const webPubSub = services.webPubSub.client;
  if (webPubSub) calls.push(webPubSub.closeUserConnections(id, { reason }));
  if (services.dialects.includes('signalr')) {
    const connections = await services.presence.connectionsOf(user);
    for (const connectionId of connections) {
      calls.push(services.signalr.closeConnection(connectionId, { reason }));
    }
  }
  await Promise.allSettled(calls);
}

/** The caller's roles; `connecting`: a Web PubSub connect, whose state is not set yet. */
export async function rolesOf(
  services: ChatServices,
  caller: Caller,
  context: UpstreamContext,
  connecting = false,
): Promise<ChatRole[]> {
  if (authMode() !== 'entra') return [];
  if (caller.dialect === 'websocket') {
    if (connecting) return [...(await services.directory.rolesOf(caller.user))];
    return decodeRoles(context.webpubsub?.states[ROLES_STATE]);
  }
  if (services.signalr.clientTokensCarryClaims) return decodeRoles(context.claims[ROLES_CLAIM]);
  return [...(await services.directory.rolesOf(caller.user))];
}

/** The caller with its roles when the command needs them (a moderator's command), else as it is. */
export async function withRoles(
  services: ChatServices,
  caller: Caller,
  parsed: CommandResult,
  context: UpstreamContext,
): Promise<Caller> {
  if (!parsed.ok || !isModerationCommand(parsed.command) || parsed.command.type === 'reportMessage')
    return caller;
  return { ...caller, roles: await rolesOf(services, caller, context) };
}

export type Admission =
  | { readonly ok: false; readonly reason: string; close(): Promise<void> }
  | {
      readonly ok: true;
      readonly status: ModerationStatus;
      /** Realtime groups a Web PubSub connect joins (the moderators' group for a moderator). */
      readonly groups: string[];
      /** The connection state a Web PubSub connect sets. */
      readonly state?: { readonly name: string; readonly value: unknown };
      /** A moderator's first page of open reports. */
      readonly reports?: () => Promise<ReportsPayload>;
    };

/**
 * A connection's moderation at connect (Web PubSub `connect`) or when connected (both services): a banned
 * user is refused, a moderator joins the moderators' group, and the welcome learns the caller's status.
 */
export async function admitModerator(
  services: ChatServices,
  caller: Caller,
  context: UpstreamContext,
): Promise<Admission> {
  const moderation = moderationFor(services);
  if (!moderation.enabled) return { ok: true, status: { enabled: false, roles: [] }, groups: [] };
  const connecting = context.eventName === 'connect';
  const { ban, mute } = await moderation.store.sanctionsOf(caller.user);
  if (ban !== undefined) {
    const reason = `${APP_ERRORS.banned.message}${ban.reason ? ` (${ban.reason})` : ''}`;
    return {
      ok: false,
      reason,
      close: async () => {
        const { connectionId } = context;
        if (caller.dialect === 'signalr') await services.signalr.closeConnection(connectionId, { reason });
        else await services.webPubSub.client?.closeConnection(connectionId, { reason });
      },
    };
  }
  const roles = await rolesOf(services, caller, context, connecting);
  const status: ModerationStatus = { enabled: true, roles, ...(mute ? { mutedUntil: mute.until } : {}) };
  const moderator = canModerate(roles);
  if (caller.dialect === 'websocket') {
    if (connecting) {
      return {
        ok: true,
        status,
        groups: moderator ? [MODERATORS_GROUP] : [],
        state: { name: ROLES_STATE, value: roles },
      };
    }
  } else if (moderator) {
    await services.signalr.addConnectionToGroup(MODERATORS_GROUP, context.connectionId);
  }
  return {
    ok: true,
    status,
    groups: [],
    ...(moderator ? { reports: () => moderation.reports.open(DEFAULT_MODERATION_PAGE_SIZE) } : {}),
  };
}
