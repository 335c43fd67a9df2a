/**
 * The chat's client-side state (docs/architecture.md, "The chat protocol"): its shape, its conversations and
 * what lists them. Plain functions over a plain object: the page wraps the object in Vue's `reactive()`, so
 * every change re-renders, and the rules stay readable (and runnable) without a browser. How each server event
 * changes it lives beside this file, one concern each: chat-history.js (messages and the outbox's pending
 * ones), online-list.js (who is online), system-notes.js (joins and leaves), display-names.js, chat-welcome.js.
 */
import { DEFAULT_HISTORY_LIMIT, groupConversation, parseConversation, ROOM } from '../conversation.js';
import { withLocalTimes } from '../text/format.js';
import { EXCERPT_LENGTH, MAX_REACTIONS_PER_MESSAGE } from './reactions.js';

/** Messages asked for per "load older" page (the server's default page; it allows 1–100). */
export const HISTORY_PAGE_SIZE = DEFAULT_HISTORY_LIMIT;

/**
 * A fresh state for `me`, with the server's reaction limits (the page's configuration; the server's defaults
 * without it).
 * @param {string} me
 * @param {{ maxReactionsPerMessage?: number, replyExcerptLength?: number }} [limits]
 */
export function createChatState(me, limits = {}) {
  return {
    me,
    /** Distinct reactions shown per message, and the length a reply's quote keeps (`CHAT_…` app settings). */
    reactionLimits: {
      maxPerMessage: limits.maxReactionsPerMessage ?? MAX_REACTIONS_PER_MESSAGE,
      excerptLength: limits.replyExcerptLength ?? EXCERPT_LENGTH,
    },
    /**
     * Who is online, sorted: the pages of the online list loaded so far (the `welcome` carries the first,
     * `listOnline` fetches the next), kept exact by `presence` deltas.
     */
    online: /** @type {string[]} */ ([]),
    /** How many are online in all (the server's count with the newest `at`). */
    onlineCount: 0,
    /** The server time of `onlineCount`. */
    onlineAt: 0,
    /** The cursor of the next page of the online list; `null` when `online` is all of it. */
    onlineNext: /** @type {string | null} */ (null),
    /**
     * True while the list waits for a snapshot (a `welcome`, or the answer to a `listOnline` in flight):
     * deltas that arrive meanwhile are kept in `onlineBuffer` and applied on top of the snapshot.
     */
    onlineSyncing: true,
    /** True once the link stopped for good: the list is forgotten and nobody is said online or offline. */
    onlineStopped: false,
    /** @type {PresenceDelta[]} */
    onlineBuffer: [],
    /**
     * The server time of the last snapshot of the list, and of the last change applied per user: a delta older
     * than either is stale (deltas from several Function instances can arrive out of order) and changes
     * nothing. A Map, as for names.
     */
    onlineSnapshotAt: 0,
    presenceAt: /** @type {Map<string, number>} */ (new Map()),
    /**
     * Display names by user id, for users whose name is not their id (signed in): from `welcome`, `online`,
     * `presence`, messages and notes. Without sign-in it stays empty and ids are the names. A Map, so a user
     * called `constructor` or `__proto__` is a key like any other (display-names.js).
     */
    names: /** @type {Map<string, string>} */ (new Map()),
    /** Groups `me` is a member of. */
    groups: /** @type {string[]} */ ([]),
    /** Every group this page has heard of (so a left group can be joined again with one click). */
    knownGroups: /** @type {string[]} */ ([]),
    /**
     * Groups I asked to join or create whose answer has not come yet: listed as joining, not as left, and not
     * offered to join again (see `startJoining`).
     */
    joining: /** @type {string[]} */ ([]),
    /** Conversations by id (a Map: ids come from other people, and no id may reach `Object.prototype`). */
    conversations: new Map([[ROOM, newConversation(ROOM)]]),
    activeId: ROOM,
    /**
     * Whether the page is in view (its tab shown): a hidden tab reads nothing, so a message that arrives there,
     * in the open conversation too, is unread until seen (read-state.js).
     */
    pageVisible: true,
    /** True once the first `welcome` arrived. */
    welcomed: false,
    /** Errors that belong to no conversation (e.g. a malformed event). */
    globalError: /** @type {string | null} */ (null),
    /** The `version` of the last list of my conversations applied (message-changes.js). */
    listVersion: 0,
    /** The groups that list holds: a group new to the next list is one I was just made a member of. */
    listedGroups: /** @type {Set<string>} */ (new Set()),
    /** Edit and delete records by target and author (message-changes.js). */
    changes: /** @type {Map<string, { edit?: ChatMessage, deleted?: boolean, removed?: boolean }>} */ (
      new Map()
    ),
    /** Reaction records by target, emoji and user (reactions.js). */
    reactions: /** @type {Map<string, Map<string, Map<string, ChatMessage>>>} */ (new Map()),
    /**
     * Titles of my groups as my list gives them (message-changes.js), shown until a group's record is known: a
     * reload shows a renamed group's new title without opening it.
     */
    listedTitles: /** @type {Map<string, string>} */ (new Map()),
    /**
     * Kinds of my groups as my list gives them (message-changes.js), so the list marks a private group with its
     * lock after a reload, before its record is known (group-records.js, `groupKind`).
     */
    listedKinds: /** @type {Map<string, 'private' | 'channel'>} */ (new Map()),
    /**
     * The group I asked to create, until the server answers: its record opens it (`created`), a refusal stays in
     * the create form (`error`), and nothing opens.
     */
    creating: /** @type {{ group: string, created: boolean, error: string | null } | null} */ (null),
    /** Records of the groups I am in, by name (group-records.js). */
    groupRecords: /** @type {Map<string, import('./group-records.js').GroupRecord>} */ (new Map()),
    /** The channel directory pages loaded (group-records.js); `null` until asked for. */
    channels: /** @type {import('./group-records.js').ChannelPage | null} */ (null),
    /** The `after` of the directory page asked for last (`null`: the first page). */
    channelsAfter: /** @type {string | null} */ (null),
    /** The answers to the last `findPeople`, its pages joined (people.js). */
    people: /** @type {import('./people.js').PeoplePage | null} */ (null),
    /** The last answer to the people picker's `findPeople` (people-picker.js), kept apart from the search's. */
    suggestions: /** @type {import('./people-picker.js').Suggestions | null} */ (null),
    /** The queries the picker asked whose answers have not come yet. */
    suggestionsPending: /** @type {Set<string>} */ (new Set()),
    /** Which conversation last issued each command, so an `error` event is shown where it happened. */
    lastCommandConversation: /** @type {Map<string, string>} */ (new Map()),
  };
}

/**
 * @typedef {{ id: string, conversation: string, from: string, fromName?: string, to?: string, group?: string,
 *   text: string, sentAt: string, clientMessageId?: string,
 *   kind?: 'edit' | 'delete' | 'react' | 'unreact' | 'remove', target?: string, editedAt?: string, deleted?: true, removed?: true,
 *   replyTo?: string, quote?: { from: string, fromName?: string, text: string, deleted?: true },
 *   reactions?: { emoji: string, users: string[] }[], attachment?: import('../link/uploads.js').Attachment }} ChatMessage
 * @typedef {{ clientMessageId: string, text: string, status: 'sending' | 'failed', error?: string,
 *   attempts: number, attachment?: import('../link/uploads.js').Attachment }} PendingMessage
 * @typedef {{ key: string, kind: string, user: string, group?: string, at: string, member?: string,
 *   members?: string[], title?: string, topic?: string }} Note
 * @typedef {{ joined?: string[], left?: string[], names?: Record<string, string>, count?: number,
 *   at?: number }} PresenceDelta
 * @typedef {{ users?: string[], names?: Record<string, string>, count?: number, after?: string, next?: string,
 *   at?: number }} OnlinePage
 * @typedef {ReturnType<typeof createChatState>} ChatState
 * @typedef {{ id: string, messages: ChatMessage[], pending: PendingMessage[], notes: Note[], hasMore: boolean,
 *   loaded: boolean, loadingOlder: boolean, olderBefore: string | null, unread: number,
 *   mentions: number, error: string | null,
 *   refusal: { command: string, text: string } | null, lastReadId: string | null, readLine: string | null,
 *   seenId: string | null, unreadMore: boolean, closed: boolean, ended: boolean,
 *   unreadAtOpen: number }} Conversation
 */

/** @param {string} id @returns {Conversation} */
function newConversation(id) {
  return {
    id,
    messages: [],
    pending: [],
    notes: [],
    hasMore: false,
    loaded: false,
    loadingOlder: false,
    olderBefore: null,
    unread: 0,
    /** Of the unread, those that mention me (../mentions.js). */
    mentions: 0,
    error: null,
    /**
     * The refusal `error` shows, with its command, so a change of the group can take it away (`clearGroupError`);
     * an error the page set itself has none.
     */
    refusal: /** @type {{ command: string, text: string } | null} */ (null),
    /** A private group that refused me: asking to join again changes nothing until an owner adds me. */
    closed: false,
    /**
     * A group I left or was removed from: no longer mine, nor in my list, so it is listed only while open (a
     * reload would not list it at all); joining it again lists it again.
     */
    ended: false,
    /** My last-read position as the server keeps it (read-state.js). */
    lastReadId: null,
    /** Where the "new messages" line sits: my position when I opened the conversation (read-state.js). */
    readLine: null,
    /** Without a position: how many were unread when I opened it, to place the line by (read-state.js). */
    unreadAtOpen: 0,
    /** The other person's last-read position in a private conversation ("Seen"). */
    seenId: null,
    /** True when the server stopped counting the unread (the badge shows "40+"). */
    unreadMore: false,
  };
}

/**
 * The conversation with this id, created empty when new.
 * @param {ChatState} state
 * @param {string} id
 */
export function ensureConversation(state, id) {
  let conversation = state.conversations.get(id);
  if (!conversation) {
    state.conversations.set(id, newConversation(id));
    // Read back through the state: with Vue's reactive() this is the tracked proxy, not the raw object.
    conversation = state.conversations.get(id);
  }
  return /** @type {Conversation} */ (conversation);
}

/**
 * The strings of a list, once each, sorted for display.
 * @param {unknown[]} list
 * @returns {string[]}
 */
export function sortedUnique(list) {
  return [...new Set(list.filter((x) => typeof x === 'string'))].sort((a, b) => a.localeCompare(b));
}

/**
 * Adds a group to those this page has heard of.
 * @param {ChatState} state @param {string} group
 */
export function rememberGroup(state, group) {
  if (!state.knownGroups.includes(group)) state.knownGroups = sortedUnique([...state.knownGroups, group]);
}

/**
 * I am a member of `group` now (whichever event said so first: my list, the group's record or a note): it is
 * listed as mine, no longer as joining, and no longer closed to me.
 * @param {ChatState} state @param {string} group
 */
export function becomeMember(state, group) {
  stopJoining(state, group);
  rememberGroup(state, group);
  if (!state.groups.includes(group)) state.groups = sortedUnique([...state.groups, group]);
  const conversation = state.conversations.get(groupConversation(group));
  if (conversation) {
    conversation.closed = false;
    conversation.ended = false;
  }
}

/**
 * My membership of `group` ended (I left, or was removed, here or on another page): the group leaves the list of
 * conversations, as after a reload, once it is not the open one.
 * @param {ChatState} state @param {string} group
 */
export function endMembership(state, group) {
  const conversation = state.conversations.get(groupConversation(group));
  if (conversation) conversation.ended = true;
}

/** The commands that start a join of their group (see `startJoining`). */
const JOINING_COMMANDS = ['joinGroup', 'createGroup'];

/**
 * What the page says for a refusal whose way out is on the page, in the page's words (the server's message is
 * for every client, and names no button).
 */
const PAGE_WORDS = /** @type {Record<string, string>} */ ({
  'last-owner':
    'You are the last owner of this group: make someone else an owner first (Members, then “Make owner”), or delete the group.',
  'last-member':
    'You are the last member of this group, which nobody could join once you left: delete it instead (“Delete group”).',
});

/**
 * What the page says for an error: the server's message with its times in the reader's own time (the server
 * writes them in UTC), except where the page has words of its own (`PAGE_WORDS`), and that a creation past the
 * daily bound says plainly when the next one is possible.
 * @param {{ code?: string, message?: string, until?: string }} error
 */
export function errorText(error) {
  const until = typeof error.until === 'string' ? Date.parse(error.until) : Number.NaN;
  if (error.code === 'too-many-groups-created' && Number.isFinite(until)) {
    return `You have created as many groups and channels as allowed in 24 hours (leaving one does not give it back): you can create the next one from ${new Date(until).toLocaleString()}.`;
  }
  const own =
    error.code !== undefined && Object.hasOwn(PAGE_WORDS, error.code) ? PAGE_WORDS[error.code] : undefined;
  return own ?? withLocalTimes(error.message || error.code || 'Something went wrong.');
}

/** The commands about a group whose refusals a change of the group answers (`clearGroupError`). */
const GROUP_ACTIONS = [
  'joinGroup',
  'leaveGroup',
  'addMember',
  'removeMember',
  'renameGroup',
  'setTopic',
  'listMembers',
  'deleteGroup',
];

/**
 * The group changed (its record, or my membership): a refusal of an action about it no longer says how things
 * stand (the last owner was refused a leave, and has made someone else an owner since), so it goes.
 * @param {ChatState} state @param {string} group
 */
export function clearGroupError(state, group) {
  const conversation = state.conversations.get(groupConversation(group));
  const refusal = conversation?.refusal;
  if (!conversation || !refusal) return;
  conversation.refusal = null;
  if (GROUP_ACTIONS.includes(refusal.command) && conversation.error === refusal.text)
    conversation.error = null;
}

/**
 * Whether an error is the refusal of a command for my mute while it lasts: the page's line about the mute says
 * so already, with its end (moderation.js takes the end from this very error), so it is not said twice.
 * @param {{ code?: string, until?: string }} error
 */
const refusedForMute = (error) =>
  error.code === 'muted' && typeof error.until === 'string' && Date.parse(error.until) > Date.now();

/**
 * `error`: shown in the conversation the failing command concerned: the one the error names (`conversation`),
 * when this page has it, else the one that last issued a command of its kind (an older server names none), else
 * page-wide. A refused `sendMessage` names its `clientMessageId` and goes to the outbox instead (../outbox.js),
 * which shows it on the message. A refused `createGroup` goes to the create form (`creating`) instead. Any other
 * refusal for my mute is not shown again: the page's line about the mute says it.
 * @param {ChatState} state
 * @param {{ code?: string, message?: string, command?: string, conversation?: string, until?: string }} error
 */
export function applyError(state, error) {
  const text = errorText(error);
  // A refused creation is the create form's to show: no conversation of the name was opened.
  if (error.command === 'createGroup' && state.creating && !state.creating.created) {
    state.creating = { ...state.creating, error: text };
    return;
  }
  const named = typeof error.conversation === 'string' ? error.conversation : undefined;
  const where =
    named !== undefined && state.conversations.has(named)
      ? named
      : error.command
        ? state.lastCommandConversation.get(error.command)
        : undefined;
  // A join or creation that ends in an error is no longer under way: that of the group the error names (without
  // a name, from an older server, any error shown in a group's conversation ends its join, as a guess).
  const about = parseConversation(named ?? where ?? '');
  if (about?.kind === 'group' && (named === undefined || JOINING_COMMANDS.includes(error.command ?? '')))
    stopJoining(state, about.group);
  if (refusedForMute(error)) return;
  const conversation = where ? state.conversations.get(where) : undefined;
  if (!conversation) {
    state.globalError = text;
    return;
  }
  conversation.error = text;
  conversation.refusal = error.command ? { command: error.command, text } : null;
  if (error.command === 'loadHistory') conversation.loadingOlder = false;
  if (error.code === 'private-group' && named === conversation.id) conversation.closed = true;
}

/**
 * Notes that I asked to join (or create) `group`: until the server answers, the group is listed as joining.
 * @param {ChatState} state @param {string} group
 */
export function startJoining(state, group) {
  if (!state.joining.includes(group)) state.joining = [...state.joining, group];
  const conversation = state.conversations.get(groupConversation(group));
  if (conversation) conversation.ended = false;
}

/**
 * The join of `group` got its answer (membership, or an error).
 * @param {ChatState} state @param {string} group
 */
export function stopJoining(state, group) {
  if (state.joining.includes(group)) state.joining = state.joining.filter((g) => g !== group);
}

/**
 * Whether my join of `group` is under way: asked for, and neither a member yet nor refused.
 * @param {ChatState} state @param {string} group
 */
export function isJoining(state, group) {
  return state.joining.includes(group) && !state.groups.includes(group);
}

/**
 * Records that a command was issued from a conversation (see `applyError`).
 * @param {ChatState} state
 * @param {string} command
 * @param {string} conversationId
 */
export function noteCommand(state, command, conversationId) {
  state.lastCommandConversation.set(command, conversationId);
}

/**
 * Whether the person sees conversation `id` now: it is open, and the page in view. A message of someone else
 * that arrives anywhere else counts as unread.
 * @param {ChatState} state @param {string} id
 */
export const isSeen = (state, id) => id === state.activeId && state.pageVisible;

/**
 * Makes a conversation the open one and clears its unread mark.
 * @param {ChatState} state
 * @param {string} id
 */
export function openConversation(state, id) {
  const conversation = ensureConversation(state, id);
  state.activeId = id;
  // Without a read position, the count places the "new messages" line once the messages are in (read-state.js).
  conversation.unreadAtOpen = conversation.lastReadId === null ? conversation.unread : 0;
  conversation.unread = 0;
  conversation.mentions = 0;
  return conversation;
}

/**
 * The title shown for a group: its record's, else my list's, else its name.
 * @param {ChatState} state @param {string} group
 */
export function groupTitle(state, group) {
  return state.groupRecords.get(group)?.title ?? state.listedTitles.get(group) ?? group;
}

/**
 * The conversations to list, room first, then groups (mine and those I have messages from), then private
 * conversations, each group sorted by name. A group I left or was removed from is listed only while it is open:
 * every page open at the time lists it no more, as a reload would not.
 * @param {ChatState} state
 */
export function conversationList(state) {
  const groups = [];
  const direct = [];
  for (const conversation of state.conversations.values()) {
    const parsed = parseConversation(conversation.id);
    if (parsed?.kind === 'group' && (!conversation.ended || conversation.id === state.activeId))
      groups.push({
        conversation,
        group: parsed.group,
        name: groupTitle(state, parsed.group),
        member: state.groups.includes(parsed.group),
        joining: isJoining(state, parsed.group),
      });
    if (parsed?.kind === 'dm') {
      const other = parsed.users[0] === state.me ? parsed.users[1] : parsed.users[0];
      direct.push({ conversation, name: other, online: state.online.includes(other) });
    }
  }
  const byName = (/** @type {{ name: string }} */ a, /** @type {{ name: string }} */ b) =>
    a.name.localeCompare(b.name);
  // Titles are display only and may repeat: a repeated one is told apart by the group's name, which is unique.
  const titles = groups.map((g) => g.name);
  const told = groups.map((g) => ({
    ...g,
    repeated: titles.indexOf(g.name) !== titles.lastIndexOf(g.name),
  }));
  return { groups: told.sort(byName), direct: direct.sort(byName) };
}
