/**
 * The chat's server events (docs/architecture.md, "The chat protocol"); how each dialect carries them is
 * codec.ts.
 */
import type { ChatMessage, HistoryPage } from '../history/message.js';
import type { ChatErrorPayload } from './errors.js';

export interface WelcomePayload {
  /** The user id. */
  readonly user: string;
  /** The display name, when it differs from the id (signed-in users). */
  readonly name?: string;
  readonly online: readonly string[];
  /** Display names of listed users that have one (signed-in users), by id. */
  readonly names?: Readonly<Record<string, string>>;
  readonly groups: readonly string[];
  readonly history: HistoryPage;
}

export interface PresencePayload {
  readonly online: readonly string[];
  /** Display names of listed users that have one, by id. */
  readonly names?: Readonly<Record<string, string>>;
}

export interface SystemPayload {
  readonly kind: 'joined' | 'left' | 'groupJoined' | 'groupLeft';
  readonly user: string;
  /** The user's display name, when it differs from the id. */
  readonly name?: string;
  readonly group?: string;
  /** ISO 8601. */
  readonly at: string;
}

/**
 * The answer to a `sendMessage`, for the sender's connection alone: the stored message (the first one stored
 * under this `clientMessageId` when the send was a retry).
 */
export interface AckPayload {
  readonly clientMessageId?: string;
  readonly message: ChatMessage;
}

/** Every server event and its payload. */
export interface ChatEvents {
  welcome: WelcomePayload;
  message: ChatMessage;
  ack: AckPayload;
  history: HistoryPage;
  presence: PresencePayload;
  system: SystemPayload;
  error: ChatErrorPayload;
}

export type ChatEventName = keyof ChatEvents;

/** One event with its payload, as handlers produce it. */
export type ChatEvent = {
  [K in ChatEventName]: { readonly event: K; readonly payload: ChatEvents[K] };
}[ChatEventName];
