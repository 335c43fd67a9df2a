/**
 * The load generator's clients and the one handler their incoming messages go to, shared by the runs
 * (bench/load/broadcast-runs.ts, bench/load/chat-runs.ts) and the generator that connects them.
 */
import type { BenchConnection, Incoming } from '../clients.js';

/** The connected clients and what receivers do with an incoming message (replaced per run). */
export class Room {
  connections: BenchConnection[] = [];
  #handler: (client: number, message: Incoming) => void = () => {};

  /** Hands every incoming message to `handler` until the next `listen` or `stop`. */
  listen(handler: (client: number, message: Incoming) => void): void {
    this.#handler = handler;
  }

  /** Drops incoming messages. */
  stop(): void {
    this.#handler = () => {};
  }

  /** A message arrived at client `client`. */
  deliver(client: number, message: Incoming): void {
    this.#handler(client, message);
  }
}

/** The generator's one room. */
export const room = new Room();

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The text of a bench payload from any server: a raw frame or Web PubSub's data, or an invocation's argument. */
export function payloadText(message: Incoming): string | undefined {
  if (message.kind === 'text') return message.text;
  if (message.kind === 'invocation' && typeof message.argument === 'string') return message.argument;
  return undefined;
}

/** The chat event a message is (SignalR: the invocation's target; raw frames and Web PubSub: `type`). */
export function eventOf(message: Incoming): string | undefined {
  if (message.kind === 'invocation') return message.target;
  if (message.kind !== 'text' || !message.text.startsWith('{')) return undefined;
  try {
    const type = (JSON.parse(message.text) as { type?: unknown }).type;
    return typeof type === 'string' ? type : undefined;
  } catch {
    return undefined;
  }
}
