/**
 * The shapes of a user's list of conversations (the `conversations` event, the `_members/<user>/$list` blob) and of
 * the people directory's answers, with their limits (docs/architecture.md, "My conversations").
 */
import type { GroupKind } from './group-records.js';

/** The kinds of conversation a list holds (the room is everyone's and is never listed). */
export type EntryKind = 'dm' | 'group';

/**
 * One conversation in a user's list. Room is left for what comes later, each as an optional field an older
 * reader ignores: the last message read and the unread count, the user's role in a group.
 */
export interface ConversationEntry {
  /** `dm:<a>:<b>` or `group:<name>`. */
  readonly conversation: string;
  readonly kind: EntryKind;
  /** A private conversation's other user. */
  readonly with?: string;
  /** Its display name, when it differs from the id (signed-in users) and was known when it was listed. */
  readonly withName?: string;
  /** A group's name. */
  readonly group?: string;
  /**
   * A private group's title as its members' lists keep it: written when the member is listed and by every
   * rename. A channel's entry has none (anyone joins a channel, so a rename cannot reach its members' lists):
   * the `welcome` reads the titles of the group entries without one (docs/architecture.md, "My conversations").
   */
  readonly title?: string;
  /**
   * A group's kind, so the list can mark a private group before its record is read. Written when the member is
   * listed by a change of the record (a creation, an addition); the `welcome` gives every group entry one at no
   * extra read: from the record it reads for an entry without a title, else `private`, since only private
   * groups' entries keep a title (docs/architecture.md, "My conversations").
   */
  readonly groupKind?: GroupKind;
  /** When it entered the list (ISO 8601). */
  readonly addedAt: string;
  /** The id of the last message the user read (not kept yet). */
  readonly lastReadId?: string;
  /** Messages after `lastReadId` (not kept yet). */
  readonly unread?: number;
}

/** A user's list as stored and as sent: `version` grows by one with every change, so a reader keeps the newest. */
export interface ConversationList {
  readonly version: number;
  readonly entries: readonly ConversationEntry[];
}

/** One person of the directory. */
export interface Person {
  readonly user: string;
  /** The display name, when it differs from the id (signed-in users). */
  readonly name?: string;
  /** When the person was last seen entering or leaving (ISO 8601). */
  readonly lastSeen: string;
}

/** The answer to `findPeople`. */
export interface PeoplePage {
  readonly query: string;
  /** Sorted by name; at most the `limit` asked for. */
  readonly people: readonly Person[];
  /** True when more people match than were returned: {@link next} pages on to them. */
  readonly more: boolean;
  /** The `after` of the next page (the storage listing's continuation); absent on the last. */
  readonly next?: string;
  /** The `after` this page was asked with, if any (so an answer says which page it is). */
  readonly after?: string;
}

/** Conversations a list holds at most; past it the oldest private conversation leaves the list. */
export const DEFAULT_MAX_LIST_ENTRIES = 500;
/**
 * Users whose list an instance keeps at most, by its ETag, so a returning user whose folder's listing shows the
 * same ETag is served without a read (the least recent are forgotten). Fewer than the other per-instance
 * memories: a list can hold {@link DEFAULT_MAX_LIST_ENTRIES} entries.
 */
export const DEFAULT_MAX_CACHED_LISTS = 1_000;
/** Conditional writes of one list change before it gives up (each conflict re-reads the list). */
export const DEFAULT_LIST_WRITE_ATTEMPTS = 10;
/** List entries an instance remembers as present, so a private message costs no list read once known. */
export const DEFAULT_MAX_REMEMBERED_ENTRIES = 10_000;
/** People per `findPeople` when `limit` is absent, and the largest `limit` accepted. */
export const DEFAULT_PEOPLE_PAGE_SIZE = 20;
export const MAX_PEOPLE_PAGE_SIZE = 50;
/** Longest `after` cursor of a `findPeople` page accepted (the storage service's continuation token). */
export const MAX_PEOPLE_CURSOR_LENGTH = 1024;
/** How long an instance skips writing a person's last-seen time again after it wrote it. */
export const DEFAULT_LAST_SEEN_RESOLUTION_MS = 60_000;
