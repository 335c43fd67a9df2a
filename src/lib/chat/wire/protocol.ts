/**
 * The chat's server events (docs/architecture.md, "The chat protocol"); how each dialect carries them is
 * codec.ts.
 */
import type { ChannelPage, ConversationList, GroupRecord, PeoplePage } from '../../conversations/index.js';
import type { ChatMessage, FoldedMessage, HistoryPage } from '../../history/index.js';
import type { ChatErrorPayload } from '../errors.js';
import type {
  AuditedPayload,
  AuditPayload,
  MessageReport,
  ModerationNotice,
  ModerationStatus,
  ReportResolvedPayload,
  ReportsPayload,
  SanctionsPayload,
} from '../moderation/protocol.js';

export interface WelcomePayload {
  /** The user id. */
  readonly user: string;
  /** The display name, when it differs from the id (signed-in users). */
  readonly name?: string;
  /** The first page of who is online (the user included), sorted; `listOnline` fetches the rest. */
  readonly online: readonly string[];
  /** Display names of the users in `online` that have one (signed-in users), by id. */
  readonly names?: Readonly<Record<string, string>>;
  /** How many users are online in all. */
  readonly onlineCount: number;
  /** The `after` cursor of the next page of the online list; absent when `online` is all of it. */
  readonly onlineNext?: string;
  /** When the online page and count were taken (ms since the epoch, server clock). */
  readonly onlineAt: number;
  readonly groups: readonly string[];
  /** The user's private conversations and groups, as the server keeps them (docs/architecture.md, "My conversations"). */
  readonly conversations: ConversationList;
  readonly history: HistoryPage;
  /** Last-read positions and unread counts (docs/architecture.md, "Read state"); absent when there are none. */
  readonly reads?: readonly ReadMark[];
  /** Whether moderation is on and the user's roles (docs/architecture.md, "Moderation"). */
  readonly moderation?: ModerationStatus;
}

/** A conversation's read state in the welcome. */
export interface ReadMark {
  readonly conversation: string;
  /** The id of the last message the user read there. */
  readonly lastReadId?: string;
  /** Messages of others after it, counted up to a bound (reading.ts). */
  readonly unread: number;
  /** True when there are more unread than `unread` (the page shows "99+"). */
  readonly more?: true;
}

/** `read`: the user read a conversation up to `lastReadId` (to every connection of the user). */
export interface ReadPayload {
  readonly conversation: string;
  readonly lastReadId: string;
}

/** `seen`: the other person of a private conversation read it up to `lastReadId`. */
export interface SeenPayload extends ReadPayload {
  readonly user: string;
}

/** The answer to `loadReadState`: my position and, in a private conversation, the other person's. */
export interface ReadStatePayload {
  readonly conversation: string;
  readonly lastReadId?: string;
  readonly seen?: { readonly user: string; readonly lastReadId: string };
}

/** The answer to `searchMessages` (docs/architecture.md, "Message search"). */
export interface SearchResultsPayload {
  readonly conversation: string;
  /** The query as searched (trimmed). */
  readonly query: string;
  /** The messages that match, newest first, as they read now (edits applied; deleted ones never match). */
  readonly messages: readonly FoldedMessage[];
  /** Where the scan stopped: the `before` that searches older. Absent when `complete`. */
  readonly before?: string;
  /** True when the scan reached the conversation's first line. */
  readonly complete: boolean;
  /** Lines (messages and records) this scan read. */
  readonly scanned: number;
}

/** A presence delta: who came and who went since the last one (coalesced per instance, see presence-deltas.ts). */
export interface PresencePayload {
  readonly joined: readonly string[];
  readonly left: readonly string[];
  /**
   * Display names of users in `joined` or `left` whose name the sending instance had at hand (signed-in
   * users), by id; a user without one here is shown by the name the page knows, or by the id.
   */
  readonly names?: Readonly<Record<string, string>>;
  /** How many users are online in all, as the sending instance counts them. */
  readonly count: number;
  /** When it was sent (ms since the epoch, server clock). */
  readonly at: number;
}

/** The answer to `listOnline`: one page of who is online. */
export interface OnlinePayload {
  readonly users: readonly string[];
  /** Display names of the users in `users` that have one (signed-in users), by id. */
  readonly names?: Readonly<Record<string, string>>;
  readonly count: number;
  /** The cursor the page was asked for (absent for the first page). */
  readonly after?: string;
  /** The cursor of the next page; absent on the last one. */
  readonly next?: string;
  readonly at: number;
}

/**
 * A note in a group (or the room): a join or leave, a member change, or a change of the group's record.
 * `memberAdded`, `memberRemoved`: an owner (`by`) changed a private group's members (`user`). In the kinds below
 * `user` is who made the change: `groupCreated` (a private group, with the `members` it was created with),
 * `groupRenamed` (its new `title`), `topicSet` (the new `topic`, empty when cleared), `ownerAdded` (`member`, who
 * became an owner).
 */
export interface SystemPayload {
  readonly kind:
    | 'groupJoined'
    | 'groupLeft'
    | 'memberAdded'
    | 'memberRemoved'
    | 'groupCreated'
    | 'groupRenamed'
    | 'topicSet'
    | 'ownerAdded'
    | 'groupDeleted';
  readonly user: string;
  /** The owner who added or removed `user`. */
  readonly by?: string;
  /** The user's display name, when it differs from the id. */
  readonly name?: string;
  readonly group?: string;
  /** `ownerAdded`: the member made an owner. */
  readonly member?: string;
  /** `groupCreated`: the members named at creation, the creator aside. */
  readonly members?: readonly string[];
  /** `groupRenamed`: the new title. */
  readonly title?: string;
  /** `topicSet`: the new topic; empty when it was cleared. */
  readonly topic?: string;
  /** ISO 8601. */
  readonly at: string;
}

/**
 * Someone is typing in a conversation: ephemeral, never stored; the page shows it for a few seconds after the
 * last one, or until that person's message arrives.
 */
export interface TypingPayload {
  /** The conversation id (`room`, `group:<name>`, `dm:<a>:<b>`). */
  readonly conversation: string;
  readonly user: string;
  /** The user's display name, when it differs from the id. */
  readonly name?: string;
}

/**
 * The answer to a `sendMessage` (and an edit, delete or reaction), for the sender's connection alone: the stored
 * message (the first one stored under this `clientMessageId` when the send was a retry); or, for a `react` of a
 * reaction that stands or an `unreact` of one that does not, `unchanged` and no message: nothing was stored.
 */
export type AckPayload =
  | { readonly clientMessageId?: string; readonly message: ChatMessage }
  | { readonly clientMessageId?: string; readonly unchanged: true };

/** Every server event and its payload. */
export interface ChatEvents {
  welcome: WelcomePayload;
  message: ChatMessage;
  ack: AckPayload;
  history: HistoryPage;
  searchResults: SearchResultsPayload;
  presence: PresencePayload;
  online: OnlinePayload;
  system: SystemPayload;
  /** The user's list changed: the whole list, to every connection of the user (keep the highest `version`). */
  conversations: ConversationList;
  /** The answer to `findPeople`. */
  people: PeoplePage;
  typing: TypingPayload;
  /** A group's record, to its members when it changes and as the answer to `listMembers` (keep the highest `version`). */
  group: GroupRecord;
  /** The answer to `listChannels`: one page of the channel directory. */
  channels: ChannelPage;
  error: ChatErrorPayload;
  read: ReadPayload;
  seen: SeenPayload;
  readState: ReadStatePayload;
  /** A moderator's action: the answer to it, and a note to the user it concerns. */
  moderation: ModerationNotice;
  /** Open reports: the answer to `listReports`, and to a moderator on arrival. */
  reports: ReportsPayload;
  /** A new report, live to connected moderators. */
  report: MessageReport;
  reportResolved: ReportResolvedPayload;
  /** The answer to `listAudit`: a page of the audit log, newest first. */
  audit: AuditPayload;
  /** A moderator's action as it is logged, live to connected moderators. */
  audited: AuditedPayload;
  /** The answer to `listSanctions`: who is muted or banned now. */
  sanctions: SanctionsPayload;
}

export type ChatEventName = keyof ChatEvents;

/** One event with its payload, as handlers produce it. */
export type ChatEvent = {
  [K in ChatEventName]: { readonly event: K; readonly payload: ChatEvents[K] };
}[ChatEventName];

/**
 * A command's answer for the sender. `alreadyDelivered`: the fan-out already carried the same news to the
 * sender's connection (its own copy of a stored message), so the answer goes out only where it costs no
 * extra message: as the result of an invocation the client waits for.
 */
export type ChatReply = ChatEvent & { readonly alreadyDelivered?: true };
