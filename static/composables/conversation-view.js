import { parseConversation } from '../conversation.js';
import { groupTitle, isJoining } from '../state/chat-state.js';
import { groupKind } from '../state/group-records.js';
import { computed, watch } from '../vendor/vue.js';

/**
 * The other person of a private conversation (a user id), or `undefined` for any other conversation.
 * @param {import('../state/chat-state.js').ChatState} state @param {string} id
 */
export function otherParty(state, id) {
  const parsed = parseConversation(id);
  if (parsed?.kind !== 'dm') return undefined;
  return parsed.users[0] === state.me ? parsed.users[1] : parsed.users[0];
}

/**
 * The title of a conversation as the page shows it: "Room", the group's title (its name until its record is
 * known), or the other person's name.
 * @param {import('../state/chat-state.js').ChatState} state @param {string} id
 * @param {(id: string) => string} [nameOf] the name to show for a user id
 */
export function conversationTitle(state, id, nameOf = (user) => user) {
  const parsed = parseConversation(id);
  if (!parsed || parsed.kind === 'room') return 'Room';
  if (parsed.kind === 'group') return groupTitle(state, parsed.group);
  return nameOf(/** @type {string} */ (otherParty(state, id)));
}

/**
 * What the page shows about the open conversation (title, subtitle, the composer's label, whether I left its
 * group or am joining it) and the unread count, which it also keeps in the document title.
 * @param {import('../state/chat-state.js').ChatState} state
 * @param {(id: string) => string} [nameOf] the name to show for a user id
 */
export function useConversationView(state, nameOf = (user) => user) {
  // `openConversation` creates a conversation before making it active, so this is always defined.
  const active = computed(
    () =>
      /** @type {import('../state/chat-state.js').Conversation} */ (state.conversations.get(state.activeId)),
  );
  const activeParsed = computed(() => parseConversation(state.activeId));
  const activeTitle = computed(() => conversationTitle(state, state.activeId, nameOf));
  const totalUnread = computed(() => [...state.conversations.values()].reduce((sum, c) => sum + c.unread, 0));
  const activeGroupLeft = computed(
    () => activeParsed.value?.kind === 'group' && !state.groups.includes(activeParsed.value.group),
  );
  const activeGroupJoining = computed(
    () => activeParsed.value?.kind === 'group' && isJoining(state, activeParsed.value.group),
  );
  /** The open group's kind as far as known (null: not a group, or its record has not come). */
  const activeGroupKind = computed(() =>
    activeParsed.value?.kind === 'group' ? groupKind(state, activeParsed.value.group) : null,
  );
  /** The open group's record, when the page has it. */
  const activeRecord = computed(() =>
    activeParsed.value?.kind === 'group' ? state.groupRecords.get(activeParsed.value.group) : undefined,
  );
  /** The open group was deleted (its record is a tombstone). */
  const activeGroupDeleted = computed(() => activeRecord.value?.deleted === true);
  /** I am the last member of the open private group: it cannot be left, only deleted. */
  const activeIsLastMember = computed(() => {
    const r = activeRecord.value;
    return r?.kind === 'private' && !r.deleted && r.members.length === 1 && r.members[0] === state.me;
  });
  /** What the page calls the open group: a public one is a channel, any other a group. */
  const groupWord = computed(() => (activeGroupKind.value === 'channel' ? 'channel' : 'group'));
  const composerLabel = computed(() => {
    const p = activeParsed.value;
    if (p?.kind === 'dm') return `Message ${activeTitle.value} privately`;
    if (p?.kind === 'group') return `Message ${groupWord.value} ${activeTitle.value}`;
    return 'Message the room';
  });
  const activeSubtitle = computed(() => {
    const p = activeParsed.value;
    if (p?.kind === 'dm' && state.onlineStopped) return 'Private conversation';
    if (p?.kind === 'dm')
      return state.online.includes(otherParty(state, state.activeId) ?? '')
        ? 'Online · private conversation'
        : 'Offline · private conversation';
    if (p?.kind === 'group')
      return activeGroupJoining.value
        ? `Joining the ${groupWord.value}…`
        : activeGroupDeleted.value
          ? 'This group was deleted'
          : activeGroupLeft.value
            ? `You are not in this ${groupWord.value}`
            : state.groupRecords.get(p.group)?.kind === 'private'
              ? 'Private group · only its members can join and read it'
              : 'Channel · anyone may join';
    return state.onlineStopped ? 'Everyone' : `Everyone · ${state.onlineCount} online`;
  });

  watch(
    totalUnread,
    (n) => {
      document.title = `${n ? `(${n}) ` : ''}Chat · ${nameOf(state.me)}`;
    },
    { immediate: true },
  );

  return {
    active,
    activeParsed,
    activeTitle,
    activeSubtitle,
    activeGroupLeft,
    activeGroupJoining,
    activeGroupKind,
    activeGroupDeleted,
    activeIsLastMember,
    groupWord,
    composerLabel,
    totalUnread,
  };
}
