/**
 * Folding edit and delete records into the messages they change, for any reader of the history
 * (docs/architecture.md, "Edit and delete"). History stays append-only: an edit is a later line naming its
 * target, so a reader applies it wherever the target is, on the same page or on an older one read later.
 * A record counts only when its author is the target's author; a deleted message stays deleted.
 */
import type { ChatMessage } from './message.js';

/** A message as a reader shows it: its latest text, and whether it was edited or deleted. */
export type FoldedMessage = ChatMessage & {
  /** When the text shown was last edited (ISO 8601). */
  readonly editedAt?: string;
  /** Set when its author deleted it: the text is then empty. */
  readonly deleted?: true;
};

/**
 * The edit and delete records a reader has seen, by target id and author: the latest edit and the delete, if
 * any. Keyed by author too, so a record by someone else can neither change a message nor hide its author's.
 */
export class MessageChanges {
  readonly #edits = new Map<string, ChatMessage>();
  readonly #deletes = new Map<string, ChatMessage>();

  /** Takes in the records among `lines` (messages are ignored); returns whether any was new. */
  add(lines: readonly ChatMessage[]): boolean {
    let added = false;
    for (const line of lines) {
      if (line.target === undefined) continue;
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
    const key = keyOf(message.id, message.from);
    if (this.#deletes.has(key)) {
      // A deleted message shows nothing of what it carried, its attachment included.
      const { attachment: _dropped, ...rest } = message;
      return { ...rest, text: '', deleted: true };
    }
    const edit = this.#edits.get(key);
    return edit === undefined ? message : { ...message, text: edit.text, editedAt: edit.sentAt };
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
