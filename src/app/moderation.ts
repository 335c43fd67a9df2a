/**
 * Moderation's stores and the closing of a banned user's connections, built once per set of services
 * (docs/architecture.md, "Moderation"). On only with sign-in (`CHAT_AUTH=entra`): without it no roles exist.
 */
import {
  AuditLog,
  type ModerationDependencies,
  ModerationStore,
  ReportStore,
  toServiceUserId,
} from '../lib/chat/index.js';
import { authMode } from './identity.js';
import type { ChatServices } from './services.js';

const built = new WeakMap<ChatServices, ModerationDependencies>();

/** The moderation dependencies of the chat for these services. */
export function moderationFor(services: ChatServices): ModerationDependencies {
  let deps = built.get(services);
  if (deps === undefined) {
    const container = services.history.containerClient;
    deps = {
      enabled: authMode() === 'entra',
      store: new ModerationStore(container),
      reports: new ReportStore(container),
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
