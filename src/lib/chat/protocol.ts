/**
 * The chat's server events (docs/architecture.md, "The chat protocol") and how each dialect carries them: signalr as an Invocation whose
 * target is the event name and whose one argument is the payload; websocket as a text frame
 * `{"type": "<event>", …payload}`.
 */
import type { ChatMessage, HistoryPage } from '../history/message.js';
import type { InvocationPayload } from '../signalr/index.js';
import type { ChatErrorPayload } from './errors.js';

export interface WelcomePayload {
  readonly user: string;
  readonly online: readonly string[];
  readonly groups: readonly string[];
  readonly history: HistoryPage;
}

export interface PresencePayload {
  readonly online: readonly string[];
}

export interface SystemPayload {
  readonly kind: 'joined' | 'left' | 'groupJoined' | 'groupLeft';
  readonly user: string;
  readonly group?: string;
  /** ISO 8601. */
  readonly at: string;
}

/** Every server event and its payload. */
export interface ChatEvents {
  welcome: WelcomePayload;
  message: ChatMessage;
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

/** An event as a signalr-dialect message. */
export function toInvocation(event: ChatEvent): InvocationPayload {
  return { target: event.event, arguments: [event.payload] };
}

/** An event as a websocket-dialect text frame. `type` comes last so a payload can never override it. */
export function toFrame(event: ChatEvent): string {
  return JSON.stringify({ ...event.payload, type: event.event });
}
