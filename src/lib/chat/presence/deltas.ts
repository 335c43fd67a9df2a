/**
 * Presence changes, coalesced: joins and leaves collected per instance for a window and sent to everyone as one
 * `presence` delta (`{ joined, left, count, at }`), the contributing invocations waiting for the send
 * (docs/architecture.md, "Presence and group memberships").
 */

/** How long a batch of presence changes collects before it is sent. */
export const DEFAULT_PRESENCE_WINDOW_MS = 250;

/** What one batch says. */
export interface PresenceChanges {
  readonly joined: string[];
  readonly left: string[];
  /**
   * Display names of users in this batch whose name the instance had at hand (signed-in users), by id; absent
   * when there is none. A name given for a user stays with the user's latest change in the batch.
   */
  readonly names?: Record<string, string>;
}

/** Sends one batch (the fan-out of the invocation that opened the window). */
export type SendChanges = (changes: PresenceChanges) => Promise<void>;

interface Batch {
  readonly state: Map<string, 'joined' | 'left'>;
  readonly names: Map<string, string>;
  readonly send: SendChanges;
  readonly sent: Promise<void>;
}

export class PresenceDeltas {
  readonly #windowMs: number;
  #open: Batch | undefined;

  constructor(options: { windowMs?: number } = {}) {
    this.#windowMs = options.windowMs ?? DEFAULT_PRESENCE_WINDOW_MS;
  }

  /**
   * Adds changes to the open batch (opening one with `send` if there is none); resolves once that batch has
   * been sent. A failed send is the sender's to report: it is not retried, and the promise still resolves.
   */
  announce(changes: Partial<PresenceChanges>, send: SendChanges): Promise<void> {
    const batch = this.#open ?? this.#openBatch(send);
    for (const user of changes.joined ?? []) setLatest(batch.state, user, 'joined');
    for (const user of changes.left ?? []) setLatest(batch.state, user, 'left');
    for (const [user, name] of Object.entries(changes.names ?? {})) batch.names.set(user, name);
    return batch.sent;
  }

  #openBatch(send: SendChanges): Batch {
    const state = new Map<string, 'joined' | 'left'>();
    const names = new Map<string, string>();
    const sent = new Promise<void>((resolve) => {
      setTimeout(() => {
        if (this.#open?.state === state) this.#open = undefined;
        const joined: string[] = [];
        const left: string[] = [];
        for (const [user, change] of state) (change === 'joined' ? joined : left).push(user);
        if (joined.length + left.length === 0) return resolve();
        // No prototype: user names are keys (`__proto__` is a name like any other).
        const named: Record<string, string> = Object.create(null);
        for (const [user, name] of names) if (state.has(user)) named[user] = name;
        send({
          joined: joined.sort(),
          left: left.sort(),
          ...(Object.keys(named).length > 0 ? { names: named } : {}),
        }).then(resolve, () => resolve());
      }, this.#windowMs);
    });
    const batch: Batch = { state, names, send, sent };
    this.#open = batch;
    return batch;
  }
}

/** Records `change` as the user's latest in this batch (a later change of the same user replaces it). */
function setLatest(state: Map<string, 'joined' | 'left'>, user: string, change: 'joined' | 'left'): void {
  state.delete(user);
  state.set(user, change);
}
