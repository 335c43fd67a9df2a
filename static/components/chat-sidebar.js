import { directConversation, groupConversation, nameProblem, ROOM } from '../conversation.js';
import { conversationList, isJoining } from '../state/chat-state.js';
import { groupKind } from '../state/group-records.js';
import { unreadText } from '../state/read-state.js';
import { dayLabel, fullTime, initial, nameHue, timeOfDay } from '../text/format.js';
import { computed, defineComponent, nextTick, ref, watch } from '../vendor/vue.js';

/**
 * The navigation column: conversations (room, groups, private) with unread marks, a form to join a group,
 * and who is online (choosing a person opens the private conversation with them). On a phone it is a drawer.
 */
export const ChatSidebar = defineComponent({
  name: 'ChatSidebar',
  props: {
    state: {
      type: /** @type {import('vue').PropType<import('../state/chat-state.js').ChatState>} */ (Object),
      required: true,
    },
    /** The name to show for a user id. */
    nameOf: {
      type: /** @type {import('vue').PropType<(id: string) => string>} */ (Function),
      default: (/** @type {string} */ id) => id,
    },
    /** What the online list says instead of its people (`''`: it shows them). */
    onlineOff: { type: String, default: '' },
  },
  emits: ['open', 'join', 'leave', 'more-online', 'find-people'],
  setup(props, { emit }) {
    const list = computed(() => conversationList(props.state));
    const room = computed(() => props.state.conversations.get(ROOM));
    const others = computed(() =>
      props.state.online.filter((/** @type {string} */ u) => u !== props.state.me),
    );
    const meOnline = computed(() => props.state.online.includes(props.state.me));
    const suggestedGroups = computed(() =>
      props.state.knownGroups.filter(
        (/** @type {string} */ g) =>
          !props.state.groups.includes(g) &&
          !isJoining(props.state, g) &&
          // A private group that I left or that refused me: only its owners can add me.
          !props.state.conversations.get(groupConversation(g))?.closed,
      ),
    );

    const newGroup = ref('');
    const groupError = ref(/** @type {string | null} */ (null));
    function joinNew() {
      const problem = nameProblem(newGroup.value, 'group');
      if (problem) {
        groupError.value = problem;
        return;
      }
      groupError.value = null;
      emit('join', newGroup.value);
      newGroup.value = '';
    }

    const peopleQuery = ref('');
    const found = computed(() => {
      const answer = props.state.people;
      return answer && answer.query === peopleQuery.value.trim() ? answer : null;
    });
    // "More": the next page is asked for, and focus moves to the first person it brings (the button may go).
    const peopleList = ref(/** @type {HTMLElement | null} */ (null));
    let focusFrom = -1;
    function morePeople() {
      const shown = found.value;
      if (!shown?.next) return;
      focusFrom = shown.people.length;
      emit('find-people', shown.query, shown.next);
    }
    watch(
      () => found.value?.people.length ?? 0,
      (length) => {
        if (focusFrom < 0 || length <= focusFrom) return;
        const index = focusFrom;
        focusFrom = -1;
        void nextTick(() => peopleList.value?.querySelectorAll('button')[index]?.focus());
      },
    );
    /** @param {string} iso */
    const seenLabel = (iso) => {
      const day = dayLabel(iso);
      return `seen ${day === 'Today' || day === 'Yesterday' ? day.toLowerCase() : day} ${timeOfDay(iso)}`;
    };

    /** @param {string} user */
    const openDirect = (user) => emit('open', directConversation(props.state.me, user));
    /** @param {string} group */
    const openGroup = (group) => emit('open', groupConversation(group));
    /** A private group is marked with a lock, here and in the conversation's header. @param {string} group */
    const isPrivate = (group) => groupKind(props.state, group) === 'private';
    /** @param {import('../state/chat-state.js').Conversation} c */
    const unreadLabel = (c) => `${unreadText(c)} unread`;
    /** @param {number} n */
    const mentionLabel = (n) => `${n} ${n === 1 ? 'mention' : 'mentions'} of you`;

    return {
      list,
      room,
      others,
      meOnline,
      suggestedGroups,
      newGroup,
      groupError,
      joinNew,
      openDirect,
      openGroup,
      isPrivate,
      unreadLabel,
      unreadText,
      peopleQuery,
      found,
      peopleList,
      morePeople,
      seenLabel,
      fullTime,
      mentionLabel,
      nameHue,
      initial,
      ROOM,
    };
  },
  template: /* html */ `
    <nav class="sidebar-section" aria-labelledby="conversations-heading">
      <h2 id="conversations-heading" class="section-title">Conversations</h2>
      <ul class="conv-list">
        <li>
          <button type="button" class="conv" :class="{ active: state.activeId === ROOM, 'has-unread': room && room.unread }"
            :aria-current="state.activeId === ROOM ? 'page' : null" @click="$emit('open', ROOM)">
            <span class="conv-icon" aria-hidden="true">#</span>
            <span class="conv-name">Room</span>
            <span v-if="room && room.mentions" class="badge mention-badge" data-testid="mention-badge" :aria-label="mentionLabel(room.mentions)">@</span><span v-if="room && room.unread" class="badge" :aria-label="unreadLabel(room)">{{ unreadText(room) }}</span>
          </button>
        </li>
      </ul>

      <h3 class="subsection-title">Groups</h3>
      <ul class="conv-list" v-if="list.groups.length">
        <li v-for="g in list.groups" :key="g.conversation.id">
          <button type="button" class="conv" :class="{ active: state.activeId === g.conversation.id, muted: !g.member, 'has-unread': g.conversation.unread }"
            :aria-current="state.activeId === g.conversation.id ? 'page' : null" @click="$emit('open', g.conversation.id)">
            <span v-if="isPrivate(g.group)" class="conv-icon" data-testid="private-icon" aria-hidden="true"><svg viewBox="0 0 24 24" width="18" height="18" focusable="false"><rect x="5" y="11" width="14" height="10" rx="2" fill="none" stroke="currentColor" stroke-width="2"/><path d="M8 11V8a4 4 0 0 1 8 0v3" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg></span>
            <span v-else class="conv-icon" aria-hidden="true"><svg viewBox="0 0 24 24" width="18" height="18" focusable="false"><path d="M16 19v-1a4 4 0 0 0-4-4H7a4 4 0 0 0-4 4v1M9.5 10.5a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM21 19v-1a4 4 0 0 0-3-3.87M15.5 4.6a3 3 0 0 1 0 5.8" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/></svg></span>
            <span class="conv-name" dir="auto">{{ g.name }}</span>
            <span v-if="g.repeated" class="conv-tag" data-testid="group-name">{{ g.group }}</span>
            <span v-if="g.joining" class="conv-tag">joining…</span>
            <span v-else-if="!g.member" class="conv-tag">not a member</span>
            <span v-if="g.conversation.mentions" class="badge mention-badge" data-testid="mention-badge" :aria-label="mentionLabel(g.conversation.mentions)">@</span><span v-if="g.conversation.unread" class="badge" :aria-label="unreadLabel(g.conversation)">{{ unreadText(g.conversation) }}</span>
          </button>
        </li>
      </ul>
      <p v-else class="empty-note">No groups yet.</p>
      <form class="join-form" novalidate @submit.prevent="joinNew">
        <label for="join-group-input" class="sr-only">Group name to join or create</label>
        <input id="join-group-input" v-model.trim="newGroup" type="text" placeholder="Join or create a group"
          autocomplete="off" :aria-invalid="groupError ? 'true' : 'false'" aria-describedby="join-group-error">
        <button type="submit" class="button small">Join</button>
      </form>
      <p id="join-group-error" class="field-error" role="alert" v-if="groupError">{{ groupError }}</p>
      <div v-if="suggestedGroups.length" class="suggested">
        <span class="subtle">Seen:</span>
        <button v-for="g in suggestedGroups" :key="g" type="button" class="chip" @click="$emit('join', g)"
          :aria-label="'Join group ' + g">+ {{ g }}</button>
      </div>

      <template v-if="list.direct.length">
        <h3 class="subsection-title">Private</h3>
        <ul class="conv-list">
          <li v-for="d in list.direct" :key="d.conversation.id">
            <button type="button" class="conv" :class="{ active: state.activeId === d.conversation.id, 'has-unread': d.conversation.unread }"
              :aria-current="state.activeId === d.conversation.id ? 'page' : null" @click="$emit('open', d.conversation.id)">
              <span class="avatar tiny" :style="{ '--hue': nameHue(d.name) }" aria-hidden="true">{{ initial(nameOf(d.name)) }}</span>
              <span class="conv-name" dir="auto">{{ nameOf(d.name) }}</span>
              <span v-if="!state.onlineStopped" class="dot" :class="{ on: d.online }" :aria-label="d.online ? 'online' : 'offline'" role="img"></span>
              <span v-if="d.conversation.mentions" class="badge mention-badge" data-testid="mention-badge" :aria-label="mentionLabel(d.conversation.mentions)">@</span><span v-if="d.conversation.unread" class="badge" :aria-label="unreadLabel(d.conversation)">{{ unreadText(d.conversation) }}</span>
            </button>
          </li>
        </ul>
      </template>
    </nav>

    <section class="sidebar-section" aria-labelledby="people-heading">
      <h2 id="people-heading" class="section-title">People</h2>
      <form class="join-form" role="search" novalidate @submit.prevent="$emit('find-people', peopleQuery)">
        <label for="find-people-input" class="sr-only">Find people by name</label>
        <input id="find-people-input" v-model="peopleQuery" type="search" placeholder="Find people by name"
          autocomplete="off" maxlength="32">
        <button type="submit" class="button small">Find</button>
      </form>
      <template v-if="found">
        <ul ref="peopleList" class="people" aria-label="People found">
          <li v-for="p in found.people" :key="p.user" class="person">
            <button type="button" class="person-button" @click="openDirect(p.user)"
              :aria-label="'Message ' + (p.name || p.user) + ' privately'" :title="'Last seen ' + fullTime(p.lastSeen)">
              <span class="avatar small" :style="{ '--hue': nameHue(p.user) }" aria-hidden="true">{{ initial(p.name || p.user) }}</span>
              <span class="person-name">{{ p.name || p.user }} <span class="subtle person-seen">{{ seenLabel(p.lastSeen) }}</span></span>
              <span class="person-action" aria-hidden="true">Message</span>
            </button>
          </li>
        </ul>
        <p v-if="!found.people.length" class="empty-note">Nobody by that name yet.</p>
        <button v-else-if="found.next" type="button" class="button small" data-testid="more-people"
          @click="morePeople">More</button>
      </template>
    </section>

    <section class="sidebar-section" aria-labelledby="online-heading">
      <h2 id="online-heading" class="section-title">Online <span v-if="!onlineOff" class="count">{{ state.onlineCount }}</span></h2>
      <p v-if="onlineOff" class="empty-note" data-testid="online-off">{{ onlineOff }}</p>
      <template v-else>
      <ul class="people">
        <li v-if="meOnline" class="person me">
          <span class="avatar small" :style="{ '--hue': nameHue(state.me) }" aria-hidden="true">{{ initial(nameOf(state.me)) }}</span>
          <span class="person-name"><span dir="auto">{{ nameOf(state.me) }}</span> <span class="subtle">(you)</span></span>
        </li>
        <li v-for="user in others" :key="user" class="person">
          <button type="button" class="person-button" @click="openDirect(user)">
            <span class="avatar small" :style="{ '--hue': nameHue(user) }" aria-hidden="true">{{ initial(nameOf(user)) }}</span>
            <span class="person-name" dir="auto">{{ nameOf(user) }}</span>
            <span class="person-action">Message<span class="sr-only"> privately</span></span>
          </button>
        </li>
      </ul>
      <button v-if="state.onlineNext !== null" type="button" class="button small" :disabled="state.onlineSyncing"
        @click="$emit('more-online')">Show more people</button>
      <p v-else-if="!others.length" class="empty-note">Nobody else is here yet.</p>
      </template>
    </section>`,
});
