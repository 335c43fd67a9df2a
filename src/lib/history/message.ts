/**
 * The stored chat message (the `message` event payload, docs/architecture.md, "The chat protocol") and its server-assigned id.
 */
import { randomFillSync } from 'node:crypto';
import { decodeTime, monotonicFactory } from 'ulid';
import type { Attachment } from '../attachments/index.js';

/** One chat message as stored in history and delivered to clients. */
export interface ChatMessage {
  /** Server-assigned ULID: sorts by the time it was accepted. */
  readonly id: string;
  /** `room`, `group:<name>` or `dm:<a>:<b>`. */
  readonly conversation: string;
  /** The sender's user id (decided by the server, never by the client): the name, or with sign-in the object id. */
  readonly from: string;
  /** The sender's display name, when it differs from `from` (signed-in users). */
  readonly fromName?: string;
  /** The other party of a private message. */
  readonly to?: string;
  /** The group of a group message. */
  readonly group?: string;
  /** May be empty when the message carries an attachment. */
  readonly text: string;
  /** A file or image, checked against its blob before the message was stored (docs/architecture.md, "Attachments"). */
  readonly attachment?: Attachment;
  /** When the server accepted it, ISO 8601 (UTC). */
  readonly sentAt: string;
  /** The client's own id for the message, used to store a retried send once. */
  readonly clientMessageId?: string;
  /**
   * Absent for a message; `edit` or `delete` for a record that changes the earlier message `target` of the
   * same author; `react` or `unreact` for a reaction of `from` to `target`, the emoji as `text`
   * (reactions.ts). History stays append-only: readers fold these records (fold.ts). A `delete` has empty text.
   * `remove` is a moderator's delete of anyone's message: the chat writes it only on its moderator path, after
   * checking the role (docs/architecture.md, "Moderation"); it is addressed as the message it removes (`from`,
   * `to`, `group` copied, so it fits a private conversation of two other people) and names the moderator in
   * `by`. No client command can set a kind.
   */
  readonly kind?: RecordKind;
  /** The id of the message a record changes or reacts to. */
  readonly target?: string;
  /** The moderator who wrote a `remove` record (on no other line). */
  readonly by?: string;
  /** The id of the earlier message of the same conversation this message replies to. */
  readonly replyTo?: string;
  /** What the reply quotes of `replyTo`, captured when the reply was sent (absent when `replyTo` is). */
  readonly quote?: ReplyQuote;
}

/** The excerpt and author of the message a reply answers (docs/architecture.md, "Reactions and replies"). */
export interface ReplyQuote {
  /** The quoted message's author (user id). */
  readonly from: string;
  /** The author's display name, when it differs from `from`. */
  readonly fromName?: string;
  /** The start of the quoted text, at most the excerpt length (reactions.ts, `REACTION_DEFAULTS`). */
  readonly text: string;
}

/**
 * The kinds of records about an earlier message (docs/architecture.md, "Edit and delete", "Reactions and
 * replies").
 */
export const RECORD_KINDS = ['edit', 'delete', 'react', 'unreact', 'remove'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

/** What a caller gives {@link HistoryStore.append}; the store assigns `id` and `sentAt`. */
export type NewMessage = Omit<ChatMessage, 'id' | 'sentAt'>;

/** The result of an append: the stored message, and whether it was already stored under the same `clientMessageId`. */
export interface AppendResult {
  readonly message: ChatMessage;
  /** True when this send repeated a `clientMessageId` already stored; `message` is then the original one. */
  readonly duplicate: boolean;
}

/** A stored line (a message or a record) with its size as stored, in bytes without its line break. */
export interface SizedLine {
  readonly line: ChatMessage;
  readonly bytes: number;
}

/** One page of a conversation's history. */
export interface HistoryPage {
  readonly conversation: string;
  /** Oldest first, newest last. */
  readonly messages: ChatMessage[];
  /** True when older messages exist before the first one returned. */
  readonly hasMore: boolean;
}

/** Random bytes drawn from the system CSPRNG in batches of this many. */
const RANDOM_POOL_BYTES = 4096;
const randomPool = Buffer.alloc(RANDOM_POOL_BYTES);
let randomPoolNext = RANDOM_POOL_BYTES;

/**
 * `ulid`'s PRNG contract (a number in [0, 1) from one random byte, as its own default), fed from a pool filled
 * by the CSPRNG: the default asks the CSPRNG once per character (16 calls and buffers per id).
 */
function pooledRandom(): number {
  if (randomPoolNext >= RANDOM_POOL_BYTES) {
    randomFillSync(randomPool);
    randomPoolNext = 0;
  }
  return (randomPool[randomPoolNext++] as number) / 256;
}

// Monotonic per process: two ids made in the same millisecond still sort in the order they were made.
const nextUlid = monotonicFactory(pooledRandom);

/** A new message id (ULID) and the time it encodes. */
export function newMessageId(now: number = Date.now()): { id: string; sentAt: string } {
  const id = nextUlid(now);
  return { id, sentAt: new Date(decodeTime(id)).toISOString() };
}

// The canonical form the store writes: 26 upper-case Crockford base-32 characters, the first at most 7 (48-bit
// time). Stricter than `ulid`'s `isValid`, which accepts lower case and a first character that overflows the time.
const MESSAGE_ID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

/** True when `value` has the form of a message id (a ULID as the store writes it). */
export function isMessageId(value: unknown): value is string {
  return typeof value === 'string' && MESSAGE_ID.test(value);
}
