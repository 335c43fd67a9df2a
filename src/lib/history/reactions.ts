/**
 * Reactions folded into the messages they react to, beside fold.ts's edits and deletes (docs/architecture.md,
 * "Reactions and replies"). A `react` or `unreact` record names its target and carries the emoji as its text;
 * per target, emoji and user the record with the highest id wins, whatever order the records arrive in, so a
 * reader gets the same counts page by page, newest first, as from the whole history at once.
 */
import type { ChatMessage } from './message.js';

/** The reactions offered, in the order the page shows them. */
export const REACTION_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢'] as const;

/**
 * The limits of reactions and replies; {@link REACTION_DEFAULTS} gives each its default. The two numbers are
 * the defaults of app settings (src/lib/settings.ts, `CHAT_MAX_REACTIONS_PER_MESSAGE`, `CHAT_REPLY_EXCERPT_LENGTH`),
 * read in src/app/services.ts, checked against {@link REACTION_LIMIT_CEILINGS}, and handed to the page too.
 */
export interface ReactionOptions {
  /** The emoji a user may react with (any other is refused, and ignored when folded). */
  readonly emoji: readonly string[];
  /** Distinct emoji folded per message at most: the most used are kept (ties in the order of `emoji`). */
  readonly maxReactionsPerMessage: number;
  /** Characters (code points) of the quoted message a reply keeps, at most. */
  readonly excerptLength: number;
}

export const REACTION_DEFAULTS: ReactionOptions = {
  emoji: REACTION_EMOJI,
  maxReactionsPerMessage: REACTION_EMOJI.length,
  excerptLength: 120,
};

/** The largest value each number of {@link ReactionOptions} may be set to. */
export const REACTION_LIMIT_CEILINGS = {
  /** More distinct reactions than there are emoji to react with would change nothing. */
  maxReactionsPerMessage: REACTION_EMOJI.length,
  /** A quote is stored in every reply: kept well under a message's own limit (4000). */
  excerptLength: 1_000,
} as const;

/** One emoji's reactions to a message: who reacted, in the order they did. */
export interface ReactionCount {
  readonly emoji: string;
  readonly users: readonly string[];
}

/**
 * The `react` and `unreact` records a reader has seen, by target, emoji and user: the newest of each. Maps all
 * the way down, so user names such as `__proto__` are keys like any other.
 */
export class Reactions {
  readonly #byTarget = new Map<string, Map<string, Map<string, ChatMessage>>>();
  readonly #options: ReactionOptions;
  readonly #order: Map<string, number>;

  constructor(options: Partial<ReactionOptions> = {}) {
    this.#options = { ...REACTION_DEFAULTS, ...options };
    this.#order = new Map(this.#options.emoji.map((emoji, i) => [emoji, i]));
  }

  /** Takes in the reaction records among `lines` (one pass); returns whether any changed what a reader sees. */
  add(lines: readonly ChatMessage[]): boolean {
    let added = false;
    for (const line of lines) {
      if ((line.kind !== 'react' && line.kind !== 'unreact') || line.target === undefined) continue;
      if (!this.#order.has(line.text)) continue;
      const byEmoji = this.#byTarget.get(line.target) ?? new Map<string, Map<string, ChatMessage>>();
      this.#byTarget.set(line.target, byEmoji);
      const byUser = byEmoji.get(line.text) ?? new Map<string, ChatMessage>();
      byEmoji.set(line.text, byUser);
      const known = byUser.get(line.from);
      // Record ids sort by the time they were accepted: the newest record of a user and emoji wins.
      if (known === undefined || known.id < line.id) {
        byUser.set(line.from, line);
        added = true;
      }
    }
    return added;
  }

  /**
   * The newest `react` or `unreact` record seen of `user` with `emoji` on the message `target`: whether that
   * user's reaction stands (`react`) or not (`unreact`, or none). Not cut by `maxReactionsPerMessage`.
   */
  latest(target: string, emoji: string, user: string): ChatMessage | undefined {
    return this.#byTarget.get(target)?.get(emoji)?.get(user);
  }

  /** The reactions to the message `id` after the records seen so far, in the order of the emoji set. */
  of(id: string): ReactionCount[] {
    const byEmoji = this.#byTarget.get(id);
    if (byEmoji === undefined) return [];
    const counts: ReactionCount[] = [];
    for (const [emoji, byUser] of byEmoji) {
      const records = [...byUser.values()].filter((r) => r.kind === 'react');
      if (records.length === 0) continue;
      records.sort((a, b) => (a.id < b.id ? -1 : 1));
      counts.push({ emoji, users: records.map((r) => r.from) });
    }
    const rank = (emoji: string) => this.#order.get(emoji) ?? 0;
    const kept = counts
      .sort((a, b) => b.users.length - a.users.length || rank(a.emoji) - rank(b.emoji))
      .slice(0, this.#options.maxReactionsPerMessage);
    return kept.sort((a, b) => rank(a.emoji) - rank(b.emoji));
  }
}

/**
 * What a reply quotes of `text`: whitespace runs made one space, cut to `length` code points with an ellipsis.
 */
export function excerptOf(text: string, length: number): string {
  const flat = text.replace(/\s+/gu, ' ').trim();
  const chars = [...flat];
  return chars.length <= length
    ? flat
    : `${chars
        .slice(0, Math.max(length - 1, 0))
        .join('')
        .trimEnd()}…`;
}
