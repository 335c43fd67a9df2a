/**
 * The chat (docs/architecture.md, "The page"): the shell around the sidebar, the open conversation and the
 * composer. Its parts live in `../composables/`: the link's status, the open conversation's view, the actions
 * (commands to the server), the handling of server events and the phone drawer; `connection.js` keeps the link
 * to the service alive and `chat-state.js` holds the rules of the state.
 */

import { useBanRetry } from '../composables/ban-retry.js';
import { useChatActions } from '../composables/chat-actions.js';
import { useConversationAddress } from '../composables/conversation-address.js';
import { useConversationView } from '../composables/conversation-view.js';
import { useDrawer } from '../composables/drawer.js';
import { focusAfterRender, usingKeyboard } from '../composables/focus-moves.js';
import { useLeaveGuard } from '../composables/leave-guard.js';
import { useLinkStatus } from '../composables/link-status.js';
import { useMessageAlerts } from '../composables/message-alerts.js';
import { useMuteClock } from '../composables/mute-clock.js';
import { useReadMarks } from '../composables/read-marks.js';
import { MAX_SEARCH_JUMP_PAGES } from '../composables/reply-jump.js';
import { serverEventHandler, useAnnouncer } from '../composables/server-events.js';
import { useSignOut } from '../composables/sign-out.js';
import { connect } from '../link/connection.js';
import { createUploader } from '../link/uploads.js';
import { createChatState } from '../state/chat-state.js';
import { displayName, rememberName, rememberNames } from '../state/display-names.js';
import { SIGN_OUT_PATH, signInUrl } from '../state/link-words.js';
import { applyRecord, foldMessage } from '../state/message-changes.js';
import {
  applyModerationEvent,
  createModerationState,
  isModerator,
  NOTICE_SHOWN_MS,
} from '../state/moderation.js';
import { awaitOnline, forgetOnline } from '../state/online-list.js';
import { initial, nameHue } from '../text/format.js';
import { computed, defineComponent, nextTick, onBeforeUnmount, reactive, ref, watch } from '../vendor/vue.js';
import { ChatSidebar } from './chat-sidebar.js';
import { GroupDirectory } from './group-directory.js';
import { GroupExit } from './group-exit.js';
import { GroupPanel } from './group-panel.js';
import { MessageComposer } from './message-composer.js';
import { MessageList } from './message-list.js';
import { MessageSearch } from './message-search.js';
import { ModerationPanel, useReportJump } from './moderation-panel.js';

/** Commands whose refusals the moderation panel shows (not the conversation). */
const MODERATION_COMMANDS =
  /^(reportMessage|removeMessage|muteUser|unmuteUser|banUser|unbanUser|removeFromChannel|listReports|resolveReport|listAudit|listSanctions)$/;

/** The chat for the signed-in person; `config` is what the server decided (see ../config.js). */
export const ChatApp = defineComponent({
  name: 'ChatApp',
  components: {
    ChatSidebar,
    GroupDirectory,
    GroupExit,
    GroupPanel,
    MessageComposer,
    MessageList,
    MessageSearch,
    ModerationPanel,
  },
  props: {
    config: {
      type: /** @type {import('vue').PropType<import('../config.js').ChatConfig>} */ (Object),
      required: true,
    },
  },
  setup(props) {
    const config = props.config;
    const me = /** @type {string} */ (config.user);
    const state = reactive(createChatState(me, config));
    rememberName(state, me, config.name);
    /** @param {string} id */
    const nameOf = (id) => displayName(state, id);
    /** Messages written and not stored by the server yet, in every conversation. */
    const unsent = computed(() => {
      let count = 0;
      for (const c of state.conversations.values()) count += c.pending.length;
      return count;
    });
    const linkStatus = useLinkStatus({ unsent: () => unsent.value });
    const { link, connected } = linkStatus;
    const view = useConversationView(state, nameOf);
    // Notifications and muting are about conversations I get messages from: not a group I am not in.
    const alertsApply = computed(() => !view.activeGroupLeft.value || view.activeGroupJoining.value);
    const { drawerOpen, closeDrawer } = useDrawer();
    const { announcement, announce } = useAnnouncer();
    const composer = ref(/** @type {any} */ (null));
    // Message search (message-search.js) takes its own answers; a result's click goes to it as a quote's does.
    const search = ref(/** @type {any} */ (null));
    const messageList = ref(/** @type {any} */ (null));
    const jumpToResult = (/** @type {string} */ id) =>
      messageList.value?.jumpTo(id, {
        maxPages: MAX_SEARCH_JUMP_PAGES,
        notFound: 'That message is too old to show here: scroll up to look for it.',
      });
    /** The message the next one I send answers (the composer shows it quoted); cleared with another conversation. */
    const replying = ref(/** @type {import('../state/chat-state.js').ChatMessage | null} */ (null));
    watch(
      () => state.activeId,
      () => {
        replying.value = null;
        // A banner is about the conversation it came from: another one opens without it.
        uploads.error.value = null;
        moderation.notice = '';
      },
    );

    const actions = useChatActions(state, {
      active: view.active,
      connected,
      send: (command, payload) => transport.send(command, payload),
      onOpened: () => {
        drawerOpen.value = false;
        // With a keyboard, typing can start at once; on a touch screen focusing would pop the on-screen
        // keyboard over the messages the person came to read (unless they got there with keys).
        if (usingKeyboard() || window.matchMedia('(hover: hover) and (pointer: fine)').matches) {
          void nextTick(() => composer.value?.focus());
        }
      },
    });
    useConversationAddress(state, actions.open);
    const uploads = createUploader({ ...config, user: me }, actions.sendAttachment);
    const alerts = useMessageAlerts(state, {
      myName: config.name ?? undefined,
      nameOf,
      open: actions.open,
      send: (command, payload) => transport.send(command, payload),
    });
    const moderation = reactive(createModerationState());
    const showModeration = ref(false);
    /** The button that opens the moderators' panel: closing the panel gives it the focus back. */
    const moderateButton = ref(/** @type {HTMLButtonElement | null} */ (null));
    // The answer to an action ("Reported: …") goes after a while, or with the next action.
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let noticeTimer;
    watch(
      () => moderation.notice,
      (notice) => {
        clearTimeout(noticeTimer);
        if (notice) noticeTimer = setTimeout(() => (moderation.notice = ''), NOTICE_SHOWN_MS);
      },
    );
    onBeforeUnmount(() => clearTimeout(noticeTimer));
    const handleEvent = serverEventHandler(state, {
      ...actions,
      active: view.active,
      announce,
      nameOf,
      onNewMessage: alerts.onNewMessage,
      onTyping: alerts.onTyping,
    });
    useReadMarks(state, {
      active: view.active,
      connected,
      canRead: actions.canRead,
      send: (command, payload) => transport.send(command, payload),
    });
    /** @param {string} type @param {any} payload */
    const onEvent = (type, payload) => {
      applyModerationEvent(moderation, me, type, payload);
      if (/^(audit|audited|sanctions)$/.test(type)) rememberNames(state, payload?.names); // people not met yet
      if (search.value?.take(type, payload)) return;
      // A moderator's delete answered to the moderator: the record alone, not a conversation of others to list.
      if (type === 'ack' && payload?.message?.kind === 'remove') return applyRecord(state, payload.message);
      if (type === 'error' && MODERATION_COMMANDS.test(payload?.command ?? '')) return;
      handleEvent(type, payload);
    };
    /**
     * Runs a moderation command (the server checks the roles); its answer shows at message `at`, the one it was
     * taken from (message-list.js), rather than above the list.
     * @param {string} command @param {object} payload @param {string | null} [at]
     */
    const moderate = (command, payload, at = null) => {
      moderation.notice = '';
      moderation.noticeAt = at;
      void transport.send(command, payload);
    };
    /** What a muted person reads above the composer, and under it. */
    const mute = useMuteClock(() => moderation);
    onBeforeUnmount(() => actions.outbox.stop());
    const stopLeaveGuard = useLeaveGuard(() => actions.wouldLoseUnsent());

    /** Whether the next time messages can leave follows a lost connection (the page then catches up). */
    let catchUp = false;
    /** Set once the session ended in another tab: the link is stopped, whatever it still reports. */
    let ended = false;
    /** @param {import('../link/connection.js').LinkState} next */
    function onState(next) {
      if (!ended) showState(next);
    }
    /** @param {import('../link/connection.js').LinkState} next */
    function showState(next) {
      // A socket being resumed as the same connection (Web PubSub's reliable link) loses nothing: the chat stays up.
      const wasConnected = link.status === 'connected' || link.recovering;
      const isConnected = next.status === 'connected' || next.recovering === true;
      if (isConnected && !wasConnected) catchUp = next.resumed;
      Object.assign(link, { recovering: false, refusal: null, refusedAt: null }, next);
      // Stopped for good: nothing keeps the online list true any more.
      if (next.status === 'refused') forgetOnline(state);
      if (wasConnected && !isConnected) {
        // The online list waits for the next welcome; deltas until then are kept for it.
        awaitOnline(state);
        // An answer to "load older" will not come over a lost connection; let the reader ask again.
        for (const c of state.conversations.values()) {
          c.loadingOlder = false;
          c.olderBefore = null;
        }
      }
    }
    // Messages leave while the link is up and the browser online; the outbox waits otherwise (../outbox.js).
    watch(
      connected,
      (up) => {
        actions.linkChanged(up, up && catchUp);
        if (up) catchUp = false;
      },
      { flush: 'sync' },
    );

    const transport = connect({ ...config, user: me }, { onEvent, onState });
    onBeforeUnmount(() => void transport.stop());
    // Banned: the page asks again now and then, and on "Try again"; a lifted ban lets it back in.
    const retryBanned = useBanRetry(link, () => void transport.retry());

    /** Where the message box keeps this user's drafts on this browser (../state/saved-drafts.js). */
    const draftKey = `chat.drafts.${me}`;
    const { signOut, signOutAsk, keepUnsent } = useSignOut({
      me,
      draftKey,
      signIn: config.auth === 'entra',
      actions,
      composer,
      stopWarning: stopLeaveGuard,
      endLink: (refusal) => {
        ended = true;
        void transport.stop();
        showState({
          status: 'refused',
          attempt: 0,
          retryAt: null,
          error: refusal.message,
          resumed: false,
          refusal,
        });
      },
    });

    return {
      state,
      config,
      ...view,
      alertsApply,
      ...linkStatus,
      announcement,
      drawerOpen,
      closeDrawer,
      composer,
      search,
      messageList,
      jumpToResult,
      foldShown: (/** @type {any} */ m) => foldMessage(state, m),
      sendSearch: (/** @type {string} */ command, /** @type {object} */ payload) =>
        void transport.send(command, payload),
      sendMessage: (/** @type {string} */ text) => {
        alerts.sentFrom();
        moderation.notice = '';
        actions.sendMessage(text, replying.value?.id);
        replying.value = null;
      },
      replying,
      startReply: (/** @type {import('../state/chat-state.js').ChatMessage} */ message) => {
        replying.value = message;
        void nextTick(() => composer.value?.focus());
      },
      react: actions.react,
      alerts,
      uploads,
      notifications: alerts.notifications,
      typingLine: alerts.typingLine,
      retry: actions.retry,
      discard: actions.discard,
      open: actions.open,
      join: actions.join,
      leave: actions.leave,
      loadOlder: actions.loadOlder,
      change: actions.change,
      findPeople: actions.findPeople,
      suggestPeople: actions.suggestPeople,
      moreOnline: actions.moreOnline,
      groupCommand: actions.groupCommand,
      createGroup: actions.createGroup,
      listChannels: actions.listChannels,
      nameHue,
      initial,
      nameOf,
      moderation,
      showModeration,
      goToReported: useReportJump(state, { open: actions.open, jumpTo: jumpToResult }),
      moderateButton,
      focusAfterRender,
      isModerator: () => isModerator(moderation),
      moderate,
      retryBanned,
      mutedLine: () => mute.line.value,
      signOutUrl: SIGN_OUT_PATH,
      signOut,
      signOutAsk,
      keepUnsent,
      draftKey,
      signInAgainUrl: () => signInUrl(`${window.location.pathname}${window.location.search}`, state.activeId),
      sendOff: () => mute.sendOff.value,
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
          <span v-if="config.service === 'webpubsub'" class="dialect-tag" data-testid="service-tag" title="Azure Web PubSub (reliable JSON subprotocol)">Web PubSub</span>
        </div>
        <div class="status-pill" :class="'status-' + shownStatus" role="status" :data-status="shownStatus"
          :title="link.error || statusText">
          <span class="status-dot" aria-hidden="true"></span>
          <span class="status-text"><span class="status-long">{{ statusText }}</span><span class="status-short" aria-hidden="true">{{ shortStatusText }}</span></span>
        </div>
        <div class="whoami" :title="(config.auth === 'entra' ? 'Signed in as ' : 'Chatting as ') + nameOf(state.me)">
          <span class="avatar small" :style="{ '--hue': nameHue(state.me) }" aria-hidden="true">{{ initial(nameOf(state.me)) }}</span>
          <span class="whoami-name" data-testid="whoami"><span class="sr-only">{{ config.auth === 'entra' ? 'Signed in as ' : 'Chatting as ' }}</span><span dir="auto">{{ nameOf(state.me) }}</span></span>
          <a v-if="config.auth === 'entra'" class="sign-out" data-testid="sign-out" :href="signOutUrl" @click.prevent="signOut()">Sign out</a>
          <span v-else class="unverified-tag" data-testid="unverified" title="Names are not verified: anyone can open the chat under any name"><span class="unverified-long">Names are not verified</span><span class="unverified-short" aria-hidden="true">Unverified</span></span>
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
        <ChatSidebar
          :state="state"
          :name-of="nameOf"
          @open="open"
          @join="join"
          @leave="leave"
          @more-online="moreOnline"
          @find-people="findPeople"
          :online-off="onlineOff"
        />
        <GroupDirectory :state="state" :sign-in="config.auth === 'entra'" @suggest="suggestPeople" @create="createGroup" @join="join" @list-channels="listChannels" />
        <p v-if="moderation.known && !moderation.enabled" class="empty-note moderation-off" data-testid="moderation-off">
          Moderation is off: this chat runs without sign-in, so nobody is a moderator and messages cannot be reported.
        </p>
      </aside>

      <main class="conversation" aria-labelledby="conversation-title" :inert="drawerOpen">
        <div class="conversation-head">
          <div class="conversation-titles">
            <h1 id="conversation-title" class="conversation-title">
              <span v-if="activeGroupKind === 'private'" class="title-prefix" data-testid="title-lock" aria-hidden="true"><svg viewBox="0 0 24 24" width="18" height="18" focusable="false"><rect x="5" y="11" width="14" height="10" rx="2" fill="none" stroke="currentColor" stroke-width="2"/><path d="M8 11V8a4 4 0 0 1 8 0v3" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg></span><span v-else class="title-prefix" aria-hidden="true">{{ activeParsed && activeParsed.kind === 'dm' ? '@' : '#' }}</span><span dir="auto">{{ activeTitle }}</span>
            </h1>
            <p class="conversation-sub">{{ activeSubtitle }}</p>
          </div>
          <div class="conversation-actions">
            <MessageSearch v-if="!activeGroupLeft" ref="search" :conversation="state.activeId" :name-of="nameOf" :fold="foldShown" :offline="!connected"
              @send="sendSearch" @jump="jumpToResult" />
            <button v-if="isModerator()" ref="moderateButton" type="button" class="button small ghost" data-testid="moderate"
              :aria-expanded="showModeration ? 'true' : 'false'" @click="showModeration = !showModeration" @keydown.esc="showModeration = false">Moderate<span v-if="moderation.reports.length" class="badge" aria-hidden="true">{{ moderation.reports.length }}</span><span v-if="moderation.reports.length" class="sr-only">, {{ moderation.reports.length }} open {{ moderation.reports.length === 1 ? 'report' : 'reports' }}</span></button>
            <button v-if="alertsApply && notifications.supported && notifications.permission.value === 'default'" type="button"
              class="button small ghost" data-testid="enable-notifications" @click="notifications.enable()"><span class="notify-long">Turn on notifications</span><span class="notify-short" aria-hidden="true">Notify me</span></button>
            <button v-if="alertsApply" type="button" class="button small ghost" data-testid="mute" :aria-pressed="notifications.muted.value.includes(state.activeId) ? 'true' : 'false'"
              :title="(notifications.muted.value.includes(state.activeId) ? 'Unmute' : 'Mute') + ' notifications of this conversation on this browser'"
              @click="notifications.toggleMute(state.activeId)"><span class="notify-long">{{ notifications.muted.value.includes(state.activeId) ? 'Unmute' : 'Mute' }} notifications</span><svg class="notify-short" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false"><path d="M6 16V11a6 6 0 0 1 12 0v5l1.5 2h-15zM10 20.5a2 2 0 0 0 4 0" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/><path v-if="notifications.muted.value.includes(state.activeId)" d="M4 4l16 16" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg></button>
            <GroupExit v-if="activeParsed && activeParsed.kind === 'group'" :key="activeParsed.group" :group="activeParsed.group"
              :title="activeTitle" :kind="activeGroupKind" :word="groupWord" :left="activeGroupLeft" :joining="activeGroupJoining"
              :closed="active.closed" :last="activeIsLastMember" @join="join" @leave="leave"
              @delete="(group) => groupCommand('deleteGroup', { group })" />
          </div>
        </div>

        <ModerationPanel v-if="showModeration && isModerator()" :moderation="moderation" :state="state" :name-of="nameOf"
          @command="moderate" @close="showModeration = false; focusAfterRender(moderateButton)" @go="goToReported" @suggest="suggestPeople" />
        <p v-if="moderation.notice && !moderation.noticeAt && !showModeration" class="empty-note" role="status" data-testid="moderation-notice">{{ moderation.notice }}</p>
        <GroupPanel v-if="activeParsed && activeParsed.kind === 'group' && !activeGroupLeft" :key="activeParsed.group"
          :state="state" :group="activeParsed.group" :name-of="nameOf" :sign-in="config.auth === 'entra'"
          @command="groupCommand" @suggest="suggestPeople" />
        <div v-if="signOutAsk" class="connection-banner sign-out-ask" role="alert" data-testid="sign-out-ask" @keydown.esc.prevent="keepUnsent">
          <strong>{{ signOutAsk === 1 ? '1 message is' : signOutAsk + ' messages are' }} not sent yet. Sign out and discard {{ signOutAsk === 1 ? 'it' : 'them' }}?</strong>
          <span class="banner-actions">
            <button type="button" class="button small" data-testid="sign-out-discard" @click="signOut({ discard: true })">Sign out and discard</button>
            <button type="button" class="button small ghost" data-safe-answer @click="keepUnsent">Keep {{ signOutAsk === 1 ? 'it' : 'them' }}</button>
          </span>
        </div>
        <div v-if="bannerText" class="connection-banner" :class="'status-' + shownStatus" data-testid="connection-banner">
          <strong>{{ bannerText }}</strong>
          <a v-if="link.refusal && link.refusal.kind === 'signed-out'" class="sign-in-again" data-testid="sign-in-again" :href="signInAgainUrl()">Sign in again</a>
          <button v-if="link.refusal && link.refusal.kind === 'banned'" type="button" class="button small" data-testid="ban-retry" @click="retryBanned">Try again</button>
        </div>
        <div v-if="state.globalError" class="inline-error" role="alert">
          <span>{{ state.globalError }}</span>
          <button type="button" class="link-button" @click="state.globalError = null">Dismiss</button>
        </div>

        <MessageList ref="messageList" :conversation="active" :known-names="alerts.knownNames.value" :offline="!connected"
          :max-text-length="config.maxTextLength" :readable="!activeGroupLeft || activeGroupJoining" :channel="activeGroupKind === 'channel'" :me="state.me" :name-of="nameOf" :mentions-me="alerts.mentionsMine" :label="'Messages, ' + (activeParsed && activeParsed.kind === 'room' ? 'room' : activeTitle)"
          :held="heldText" @load-older="loadOlder" @retry="retry" @discard="discard"
          :moderation="moderation" @moderate="moderate"
          @edit="(m, text) => change(m, text)" @delete="(m) => change(m, null)" @react="react" @reply="startReply" />

        <p class="typing-line" data-testid="typing" aria-live="polite">{{ typingLine }}</p>
        <p v-if="mutedLine()" class="inline-error composer-error" role="status" data-testid="muted">{{ mutedLine() }}</p>
        <div v-if="active.error" class="inline-error composer-error" role="alert">
          <span>{{ active.error }}</span>
          <button type="button" class="link-button" @click="active.error = null">Dismiss</button>
        </div>
        <div v-if="uploads.current.value" class="upload-status" role="status" data-testid="upload-status">
          <span>Uploading <span dir="auto">{{ uploads.current.value.name }}</span>…</span>
          <progress max="1" :value="uploads.current.value.progress" aria-label="Upload progress"></progress>
        </div>
        <div v-if="uploads.error.value" class="inline-error composer-error" role="alert" data-testid="upload-error">
          <span>{{ uploads.error.value }}</span>
          <button type="button" class="link-button" @click="uploads.error.value = null">Dismiss</button>
        </div>
        <MessageComposer ref="composer" :conversation-id="state.activeId" :draft-key="draftKey" :label="composerLabel"
          :max-length="config.maxTextLength" :offline-hint="composerHint" :can-attach="config.attachments" :send-off="sendOff()"
          :disabled-reason="composerOff || (activeGroupJoining ? 'Joining the ' + groupWord + '…' : activeGroupDeleted ? 'This group was deleted' : activeGroupLeft ? (active.closed ? 'Only members of the ' + groupWord + ' can write here' : 'Join the ' + groupWord + ' to write here') : '')"
          :people="alerts.mentionPeople.value" :name-of="nameOf" @send="sendMessage" @typing="alerts.typed"
          :replying-to="replying" @cancel-reply="replying = null"
          @attach="(file) => uploads.attach(state.activeId, file)" />
      </main>
      <div id="announcer" class="sr-only" aria-live="polite" aria-atomic="true">{{ announcement }}</div>
    </div>`,
});
