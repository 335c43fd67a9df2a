/**
 * Folding edit and delete records into the messages they change, for any reader of the history
 * (docs/architecture.md, "Edit and delete"). History stays append-only: an edit is a later line naming its
 * target, so a reader applies it wherever the target is, on the same page or on an older one read later.
 * A record counts only when its author is the target's author; a deleted message stays deleted. A `remove`
 * record (a moderator's delete, written only by the server's moderator path) counts whoever wrote it.
 * Reactions, which anyone who reads the conversation may add, are folded by reactions.ts.
 */
import type { ChatMessage, ReplyQuote } from './message.js';
import {
  excerptOf,
  REACTION_DEFAULTS,
  type ReactionCount,
  type ReactionOptions,
  Reactions,
} from './reactions.js';

/** A message as a reader shows it: its latest text, and whether it was edited or deleted. */
export type FoldedMessage = ChatMessage & {
  /** When the text shown was last edited (ISO 8601). */
  readonly editedAt?: string;
  /** Set when its author deleted it: the text is then empty. */
  readonly deleted?: true;
  /** Its reactions, when it has any and is not deleted (reactions.ts). */
  readonly reactions?: readonly ReactionCount[];
  /** A reply's quote, as its target reads now: edited, or emptied and `deleted` (docs/architecture.md, "Reactions and replies"). */
  readonly quote?: ReplyQuote & { readonly deleted?: true };
  /** Set when a moderator removed it (with `deleted`). */
  readonly removed?: true;
};

/**
 * The edit and delete records a reader has seen, by target id and author: the latest edit and the delete, if
 * any. Keyed by author too, so a record by someone else can neither change a message nor hide its author's.
 */
export class MessageChanges {
  readonly #edits = new Map<string, ChatMessage>();
  readonly #deletes = new Map<string, ChatMessage>();
  /** Targets a moderator removed (by target alone: the record's author is the moderator). */
  readonly #removed = new Set<string>();
  readonly #reactions: Reactions;
  readonly #excerptLength: number;

  constructor(options: Partial<ReactionOptions> = {}) {
    this.#reactions = new Reactions(options);
    this.#excerptLength = options.excerptLength ?? REACTION_DEFAULTS.excerptLength;
  }

  /** Takes in the records among `lines` (messages are ignored); returns whether any was new. */
  add(lines: readonly ChatMessage[]): boolean {
    let added = this.#reactions.add(lines);
    for (const line of lines) {
      if (line.target === undefined || line.kind === 'react' || line.kind === 'unreact') continue;
      if (line.kind === 'remove') {
        if (!this.#removed.has(line.target)) added = true;
        this.#removed.add(line.target);
        continue;
      }
      const key = keyOf(line.target, line.from);
      if (line.kind === 'delete') {
        if (!this.#deletes.has(key)) added = true;
        this.#deletes.set(key, line);
      } else if (line.kind === 'edit') {
        const known = this.#edits.get(key);
        // Record ids sort by the time they were accepted: the newest edit wins, whatever order they arrive in.
        if (known === undefined || known.id < line.id) {
          this.#edits.set(key, line);
          added = true;
        }
      }
    }
    return added;
  }

  /** `message` as it reads after the records seen so far (a record by anyone but its author is ignored). */
  apply(message: ChatMessage): FoldedMessage {
    if (this.#removed.has(message.id)) {
      const { attachment: _dropped, ...rest } = message;
      return { ...rest, text: '', deleted: true, removed: true };
    }
    const key = keyOf(message.id, message.from);
    if (this.#deletes.has(key)) {
      // A deleted message shows nothing of what it carried, its attachment included.
      const { attachment: _dropped, ...rest } = message;
      return { ...rest, text: '', deleted: true };
    }
    const edit = this.#edits.get(key);
    const reactions = this.#reactions.of(message.id);
    const quote = this.#quoteOf(message);
    return {
      ...message,
      ...(edit === undefined ? {} : { text: edit.text, editedAt: edit.sentAt }),
      ...(reactions.length > 0 ? { reactions } : {}),
      ...(quote === undefined ? {} : { quote }),
    };
  }

  /** A reply's quote after the records seen so far of the message it quotes. */
  #quoteOf(message: ChatMessage): FoldedMessage['quote'] {
    const { quote, replyTo } = message;
    if (quote === undefined || replyTo === undefined) return quote;
    const key = keyOf(replyTo, quote.from);
    if (this.#deletes.has(key) || this.#removed.has(replyTo)) return { ...quote, text: '', deleted: true };
    const edit = this.#edits.get(key);
    return edit === undefined ? quote : { ...quote, text: excerptOf(edit.text, this.#excerptLength) };
  }
}

function keyOf(target: string, from: string): string {
  return `${target}\u0000${from}`;
}

/**
 * One page of history as a reader shows it, oldest first: its messages with the page's records applied, and
 * the records themselves left out. `changes` carries records across pages: pass the same one for every page
 * of a conversation, newest page first, and the records of a newer page apply to messages of an older one.
 */
export function foldHistory(
  lines: readonly ChatMessage[],
  changes: MessageChanges = new MessageChanges(),
): FoldedMessage[] {
  changes.add(lines);
  return lines.filter((line) => line.kind === undefined).map((message) => changes.apply(message));
}
