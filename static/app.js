/**
 * The chat page (docs/architecture.md, "The page"): Vue 3 and the vendored `@microsoft/signalr`, both served by the app itself.
 * `config.js` reads what the server decided (who, which dialect), `connection.js` keeps a link to the service
 * alive, `chat-state.js` turns server events into state, and the components below render it.
 */
import {
  addPending,
  applyError,
  applyHistory,
  applyMessage,
  applyPresence,
  applySystem,
  applyWelcome,
  createChatState,
  ensureConversation,
  groupConversation,
  HISTORY_PAGE_SIZE,
  noteCommand,
  openConversation,
  parseConversation,
  ROOM,
  resendable,
} from './chat-state.js';
import { ChatSidebar } from './components/chat-sidebar.js';
import { MessageComposer } from './components/message-composer.js';
import { MessageList } from './components/message-list.js';
import { NamePrompt } from './components/name-prompt.js';
import { readConfig } from './config.js';
import { connect } from './connection.js';
import { initial, nameHue } from './format.js';
import {
  computed,
  createApp,
  nextTick,
  onBeforeUnmount,
  onMounted,
  reactive,
  ref,
  watch,
} from './vendor/vue.js';

/** Longest excerpt of a message read out by screen readers when it arrives. */
export const ANNOUNCE_MAX_CHARS = 200;

const config = readConfig();

/** @param {ReturnType<typeof createChatState>} state @param {string} id */
function conversationTitle(state, id) {
  const parsed = parseConversation(id);
  if (!parsed || parsed.kind === 'room') return 'Room';
  if (parsed.kind === 'group') return parsed.group;
  return parsed.users[0] === state.me ? parsed.users[1] : parsed.users[0];
}

const ChatApp = {
  name: 'ChatApp',
  components: { ChatSidebar, MessageComposer, MessageList },
  setup() {
    const me = /** @type {string} */ (config.user);
    const state = reactive(createChatState(me));
    const link = reactive({
      status: 'connecting',
      attempt: 0,
      retryAt: /** @type {number | null} */ (null),
      error: /** @type {string | null} */ (null),
    });
    const announcement = ref('');
    const drawerOpen = ref(false);
    const now = ref(Date.now());
    const composer = ref(/** @type {any} */ (null));

    // `openConversation` creates a conversation before making it active, so this is always defined.
    const active = computed(
      () => /** @type {import('./chat-state.js').Conversation} */ (state.conversations[state.activeId]),
    );
    const activeParsed = computed(() => parseConversation(state.activeId));
    const activeTitle = computed(() => conversationTitle(state, state.activeId));
    const connected = computed(() => link.status === 'connected');
    const totalUnread = computed(() =>
      Object.values(state.conversations).reduce((sum, c) => sum + c.unread, 0),
    );
    const activeGroupLeft = computed(
      () => activeParsed.value?.kind === 'group' && !state.groups.includes(activeParsed.value.group),
    );
    const composerLabel = computed(() => {
      const p = activeParsed.value;
      if (p?.kind === 'dm') return `Message ${activeTitle.value} privately`;
      if (p?.kind === 'group') return `Message group ${activeTitle.value}`;
      return 'Message the room';
    });
    const activeSubtitle = computed(() => {
      const p = activeParsed.value;
      if (p?.kind === 'dm')
        return state.online.includes(activeTitle.value)
          ? 'Online · private conversation'
          : 'Offline · private conversation';
      if (p?.kind === 'group')
        return activeGroupLeft.value ? 'You are not in this group' : 'Group · only members see it';
      return `Everyone · ${state.online.length} online`;
    });
    const statusText = computed(() => {
      switch (link.status) {
        case 'connected':
          return 'Connected';
        case 'connecting':
          return 'Connecting…';
        case 'reconnecting':
          return 'Reconnecting…';
        default: {
          const seconds = link.retryAt ? Math.max(0, Math.ceil((link.retryAt - now.value) / 1000)) : 0;
          return seconds > 0 ? `Offline · retrying in ${seconds}s` : 'Offline · retrying…';
        }
      }
    });

    /** Reads a new message out to screen readers (the list itself is not a live region: history would flood it). */
    function announce(/** @type {string} */ text) {
      announcement.value = '';
      void nextTick(() => {
        announcement.value = text;
      });
    }

    /**
     * Sends a command, remembering which conversation issued it so an `error` lands there.
     * @param {string} command @param {object} payload @param {string} conversationId
     */
    async function command(command, payload, conversationId) {
      noteCommand(state, command, conversationId);
      try {
        await transport.send(command, payload);
        return true;
      } catch {
        return false;
      }
    }

    /** @param {string} conversationId */
    function loadLatest(conversationId) {
      void command('loadHistory', { conversation: conversationId, limit: HISTORY_PAGE_SIZE }, conversationId);
    }

    function loadOlder() {
      const c = active.value;
      const oldest = c.messages[0];
      if (!oldest || c.loadingOlder || !connected.value) return;
      c.loadingOlder = true;
      c.olderBefore = oldest.id;
      void command(
        'loadHistory',
        { conversation: c.id, before: oldest.id, limit: HISTORY_PAGE_SIZE },
        c.id,
      ).then((sent) => {
        if (!sent) c.loadingOlder = false;
      });
    }

    /** After (re)connecting: send what waited, and bring every conversation on screen up to date. */
    function catchUp(/** @type {boolean} */ resumed) {
      for (const { conversationId, pending } of resendable(state)) {
        void command(
          'sendMessage',
          messagePayload(conversationId, pending.text, pending.clientMessageId),
          conversationId,
        );
      }
      for (const c of Object.values(state.conversations)) {
        // The room's latest page comes with every `welcome`.
        if (c.id === ROOM) continue;
        if (!canRead(c.id)) continue;
        if ((resumed && c.loaded) || (!c.loaded && c.id === state.activeId)) loadLatest(c.id);
      }
    }

    /** @param {string} conversationId @param {string} text @param {string} clientMessageId */
    function messagePayload(conversationId, text, clientMessageId) {
      const parsed = parseConversation(conversationId);
      if (parsed?.kind === 'group') return { text, group: parsed.group, clientMessageId };
      if (parsed?.kind === 'dm')
        return {
          text,
          to: parsed.users[0] === state.me ? parsed.users[1] : parsed.users[0],
          clientMessageId,
        };
      return { text, clientMessageId };
    }

    /** @param {string} text */
    function sendMessage(text) {
      const c = active.value;
      c.error = null;
      const pending = addPending(state, c.id, {
        clientMessageId: crypto.randomUUID(),
        text,
        createdAt: new Date().toISOString(),
        status: 'pending',
      });
      // Offline: it stays pending and goes out (with the same clientMessageId) when the link is back.
      if (connected.value && pending)
        void command('sendMessage', messagePayload(c.id, text, pending.clientMessageId), c.id);
    }

    /** @param {any} pending */
    function retry(pending) {
      pending.status = 'pending';
      pending.error = undefined;
      const id = state.activeId;
      if (connected.value)
        void command('sendMessage', messagePayload(id, pending.text, pending.clientMessageId), id);
    }

    /** @param {any} pending */
    function discard(pending) {
      const c = active.value;
      c.pending = c.pending.filter((p) => p.clientMessageId !== pending.clientMessageId);
    }

    /** Whether the server will let me read a conversation (a group only while I am a member). */
    function canRead(/** @type {string} */ id) {
      const parsed = parseConversation(id);
      return parsed?.kind !== 'group' || state.groups.includes(parsed.group);
    }

    /** @param {string} id */
    function open(id) {
      const c = openConversation(state, id);
      drawerOpen.value = false;
      if (!c.loaded && connected.value && canRead(id)) loadLatest(id);
      // With a keyboard, typing can start at once; on a touch screen focusing would pop the on-screen
      // keyboard over the messages the person came to read.
      if (window.matchMedia('(hover: hover) and (pointer: fine)').matches) {
        void nextTick(() => composer.value?.focus());
      }
    }

    /** @param {string} group */
    function join(group) {
      const id = groupConversation(group);
      ensureConversation(state, id).error = null;
      open(id);
      void command('joinGroup', { group }, id).then((sent) => {
        if (!sent)
          ensureConversation(state, id).error = 'Not connected: join again when the connection is back.';
      });
    }

    /** @param {string} group */
    function leave(group) {
      const id = groupConversation(group);
      void command('leaveGroup', { group }, id).then((sent) => {
        if (!sent)
          ensureConversation(state, id).error = 'Not connected: leave again when the connection is back.';
      });
    }

    /** @param {string} type @param {any} payload */
    function onEvent(type, payload) {
      switch (type) {
        case 'welcome':
          applyWelcome(state, payload);
          if (!active.value.loaded && state.activeId !== ROOM && canRead(state.activeId))
            loadLatest(state.activeId);
          break;
        case 'message': {
          const { isNew, conversation } = applyMessage(state, payload);
          if (isNew && payload.from !== state.me) {
            const where =
              conversation.id === ROOM ? 'in the room' : `in ${conversationTitle(state, conversation.id)}`;
            const text = String(payload.text ?? '').slice(0, ANNOUNCE_MAX_CHARS);
            announce(`${payload.from} ${conversation.id.startsWith('dm:') ? 'privately' : where}: ${text}`);
          }
          break;
        }
        case 'history':
          applyHistory(state, payload);
          break;
        case 'presence':
          applyPresence(state, payload);
          break;
        case 'system':
          applySystem(state, payload);
          if (payload.kind === 'groupJoined' && payload.user === state.me && payload.group) {
            const id = groupConversation(payload.group);
            ensureConversation(state, id).error = null;
            // Membership is effective now, so the group's history can be read.
            loadLatest(id);
          }
          break;
        case 'error':
          applyError(state, payload);
          break;
        default:
          // An event this page does not know (a newer server): ignore it rather than break.
          break;
      }
    }

    /** @param {import('./connection.js').LinkState} next */
    function onState(next) {
      const wasConnected = link.status === 'connected';
      Object.assign(link, next);
      if (wasConnected && next.status !== 'connected') {
        // An answer to "load older" will not come over a lost connection; let the reader ask again.
        for (const c of Object.values(state.conversations)) {
          c.loadingOlder = false;
          c.olderBefore = null;
        }
      }
      if (next.status === 'connected' && !wasConnected) catchUp(next.resumed);
    }

    const transport = connect({ ...config, user: me }, { onEvent, onState });

    // The "retrying in Ns" countdown needs a clock, but only while offline.
    /** @type {ReturnType<typeof setInterval> | undefined} */
    let ticker;
    watch(
      () => link.status,
      (status) => {
        clearInterval(ticker);
        ticker = undefined;
        if (status === 'offline') ticker = setInterval(() => (now.value = Date.now()), 1000);
        now.value = Date.now();
      },
    );

    watch(
      totalUnread,
      (n) => {
        document.title = `${n ? `(${n}) ` : ''}Chat · ${state.me}`;
      },
      { immediate: true },
    );

    /** Closes the phone drawer and gives focus back to the button that opened it. */
    function closeDrawer() {
      drawerOpen.value = false;
      void nextTick(() => document.getElementById('menu-button')?.focus());
    }

    /** @param {KeyboardEvent} event */
    function onKeydown(event) {
      if (event.key === 'Escape' && drawerOpen.value) closeDrawer();
    }
    watch(drawerOpen, (isOpen) => {
      if (isOpen) void nextTick(() => document.querySelector('#sidebar button, #sidebar input')?.focus());
    });
    onMounted(() => document.addEventListener('keydown', onKeydown));
    onBeforeUnmount(() => {
      document.removeEventListener('keydown', onKeydown);
      clearInterval(ticker);
      void transport.stop();
    });

    return {
      state,
      link,
      config,
      active,
      activeParsed,
      activeTitle,
      activeSubtitle,
      activeGroupLeft,
      composerLabel,
      statusText,
      connected,
      totalUnread,
      announcement,
      drawerOpen,
      closeDrawer,
      composer,
      sendMessage,
      retry,
      discard,
      open,
      join,
      leave,
      loadOlder,
      nameHue,
      initial,
    };
  },
  template: /* html */ `
    <a class="skip-link" href="#composer-input" @click.prevent="composer && composer.focus()">Skip to the message box</a>
    <div class="shell" :class="{ 'drawer-open': drawerOpen }">
      <header class="topbar">
        <button id="menu-button" type="button" class="icon-button menu-button" :aria-expanded="drawerOpen ? 'true' : 'false'"
          aria-controls="sidebar" @click="drawerOpen = !drawerOpen">
          <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
            <path d="M3 6h18M3 12h18M3 18h18" stroke="currentColor" stroke-width="2" stroke-linecap="round" fill="none"/>
          </svg>
          <span class="sr-only">Conversations</span>
          <span v-if="totalUnread" class="badge dot-badge" aria-hidden="true">{{ totalUnread }}</span>
        </button>
        <div class="brand">
          <svg class="logo" viewBox="0 0 32 32" width="26" height="26" aria-hidden="true" focusable="false"><rect width="32" height="32" rx="9" fill="#4f46e5"/><path d="M9 10.5h14a2 2 0 0 1 2 2v7a2 2 0 0 1-2 2h-7l-4.5 3.5V21.5H9a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2z" fill="#fff"/><circle cx="12.5" cy="16" r="1.4" fill="#4f46e5"/><circle cx="16" cy="16" r="1.4" fill="#4f46e5"/><circle cx="19.5" cy="16" r="1.4" fill="#4f46e5"/></svg>
          <span class="brand-name">Chat</span>
          <span v-if="config.dialect === 'websocket'" class="dialect-tag" title="Raw WebSocket (the 2020 Serverless WebSocket preview)">WebSocket</span>
        </div>
        <div class="status-pill" :class="'status-' + link.status" role="status" :data-status="link.status"
          :title="link.error || statusText">
          <span class="status-dot" aria-hidden="true"></span>
          <span class="status-text">{{ statusText }}</span>
        </div>
        <div class="whoami" :title="'Signed in as ' + state.me">
          <span class="avatar small" :style="{ '--hue': nameHue(state.me) }" aria-hidden="true">{{ initial(state.me) }}</span>
          <span class="whoami-name"><span class="sr-only">Signed in as </span>{{ state.me }}</span>
        </div>
      </header>

      <div class="backdrop" v-if="drawerOpen" @click="closeDrawer" aria-hidden="true"></div>
      <aside id="sidebar" class="sidebar" aria-label="Conversations and people">
        <div class="drawer-head">
          <span class="brand-name">Chat</span>
          <button type="button" class="icon-button" aria-label="Close conversations" @click="closeDrawer">
            <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
              <path d="M6 6l12 12M18 6 6 18" stroke="currentColor" stroke-width="2" stroke-linecap="round" fill="none"/>
            </svg>
          </button>
        </div>
        <ChatSidebar :state="state" @open="open" @join="join" @leave="leave" />
      </aside>

      <main class="conversation" aria-labelledby="conversation-title" :inert="drawerOpen">
        <div class="conversation-head">
          <div class="conversation-titles">
            <h1 id="conversation-title" class="conversation-title">
              <span class="title-prefix" aria-hidden="true">{{ activeParsed && activeParsed.kind === 'dm' ? '@' : '#' }}</span>{{ activeTitle }}
            </h1>
            <p class="conversation-sub">{{ activeSubtitle }}</p>
          </div>
          <div class="conversation-actions" v-if="activeParsed && activeParsed.kind === 'group'">
            <button v-if="activeGroupLeft" type="button" class="button small primary" @click="join(activeParsed.group)">Join group</button>
            <button v-else type="button" class="button small ghost" @click="leave(activeParsed.group)">Leave group</button>
          </div>
        </div>

        <div v-if="link.status !== 'connected'" class="connection-banner" :class="'status-' + link.status">
          <strong>{{ statusText }}</strong>
          <span v-if="link.error" class="banner-detail">{{ link.error }}</span>
        </div>
        <div v-if="state.globalError" class="inline-error" role="alert">
          <span>{{ state.globalError }}</span>
          <button type="button" class="link-button" @click="state.globalError = null">Dismiss</button>
        </div>

        <MessageList :conversation="active" :me="state.me" :label="'Messages, ' + (activeParsed && activeParsed.kind === 'room' ? 'room' : activeTitle)"
          @load-older="loadOlder" @retry="retry" @discard="discard" />

        <div v-if="active.error" class="inline-error composer-error" role="alert">
          <span>{{ active.error }}</span>
          <button type="button" class="link-button" @click="active.error = null">Dismiss</button>
        </div>
        <MessageComposer ref="composer" :conversation-id="state.activeId" :label="composerLabel"
          :max-length="config.maxTextLength" :offline="!connected"
          :disabled-reason="activeGroupLeft ? 'Join the group to write here' : ''" @send="sendMessage" />
      </main>
      <div id="announcer" class="sr-only" aria-live="polite" aria-atomic="true">{{ announcement }}</div>
    </div>`,
};

const root = config.user ? ChatApp : NamePrompt;
createApp(root).mount('#app');
