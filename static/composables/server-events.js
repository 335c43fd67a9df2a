import { groupConversation, ROOM } from '../conversation.js';
import { applyHistory, applyMessage, myAcknowledged } from '../state/chat-history.js';
import { applyError, ensureConversation } from '../state/chat-state.js';
import { applyWelcome } from '../state/chat-welcome.js';
import { rememberName } from '../state/display-names.js';
import { applyChannels, applyGroupRecord, forgetGroupRecord } from '../state/group-records.js';
import { applyConversationList } from '../state/message-changes.js';
import { applyOnline, applyPresence } from '../state/online-list.js';
import { withPeoplePage } from '../state/people.js';
import { takeSuggestionAnswer } from '../state/people-picker.js';
import { applyRead, applySeen } from '../state/read-state.js';
import { applySystem } from '../state/system-notes.js';
import { nextTick, ref } from '../vendor/vue.js';
import { conversationTitle } from './conversation-view.js';

/** Longest excerpt of a message read out by screen readers when it arrives. */
export const ANNOUNCE_MAX_CHARS = 200;

/**
 * The text of the page's polite live region: new messages from others are read out to screen readers (the list
 * itself is not a live region: history would flood it).
 */
export function useAnnouncer() {
  const announcement = ref('');
  function announce(/** @type {string} */ text) {
    announcement.value = '';
    void nextTick(() => {
      announcement.value = text;
    });
  }
  return { announcement, announce };
}

/**
 * Turns each server event into state (through chat-state.js) and what follows from it: announcing a new
 * message, loading history a welcome or a joined group makes readable. Unknown events are ignored.
 * @param {import('../state/chat-state.js').ChatState} state
 * @param {{
 *   active: { readonly value: import('../state/chat-state.js').Conversation },
 *   loadLatest: (conversationId: string) => void,
 *   canRead: (conversationId: string) => boolean,
 *   announce: (text: string) => void,
 *   outbox: ReturnType<typeof import('../link/outbox.js').createOutbox>,
 *   nameOf?: (id: string) => string,
 *   onNewMessage?: (message: any, conversation: import('../state/chat-state.js').Conversation) => void,
 *   onTyping?: (payload: any) => void,
 * }} actions
 * @returns {(type: string, payload: any) => void}
 */
export function serverEventHandler(
  state,
  {
    active,
    loadLatest,
    canRead,
    announce,
    outbox,
    nameOf = (/** @type {string} */ id) => id,
    onNewMessage = () => {},
    onTyping = () => {},
  },
) {
  /** Stored messages of mine acknowledge the sends they came from. @param {any[]} messages */
  const acknowledge = (messages) => {
    for (const m of myAcknowledged(state, messages)) outbox.acknowledge(m.clientMessageId, m);
  };
  /**
   * I became a member of these groups: the membership is in effect, so their history can be read. Said once,
   * by whichever event came first (my list, the group's record, a note).
   * @param {string[]} groups
   */
  const admitted = (groups) => {
    for (const group of groups) {
      const id = groupConversation(group);
      ensureConversation(state, id).error = null;
      loadLatest(id);
    }
  };
  return (type, payload) => {
    switch (type) {
      case 'welcome':
        applyWelcome(state, payload);
        acknowledge(payload.history?.messages ?? []);
        if (!active.value.loaded && state.activeId !== ROOM && canRead(state.activeId))
          loadLatest(state.activeId);
        break;
      case 'message': {
        const { isNew, conversation } = applyMessage(state, payload);
        if (isNew && payload.from !== state.me) {
          const where =
            conversation.id === ROOM
              ? 'in the room'
              : `in ${conversationTitle(state, conversation.id, nameOf)}`;
          const file = payload.attachment ? ` (file: ${String(payload.attachment.name)})` : '';
          const text = `${String(payload.text ?? '').slice(0, ANNOUNCE_MAX_CHARS)}${file}`;
          announce(
            `${nameOf(payload.from)} ${conversation.id.startsWith('dm:') ? 'privately' : where}: ${text}`,
          );
        }
        if (isNew) onNewMessage(payload, conversation);
        acknowledge([payload]);
        break;
      }
      case 'typing':
        onTyping(payload);
        break;
      case 'ack':
        // My send is stored: the outbox shows it as sent (applyOutboxChange adds the message) and sends the next.
        if (typeof payload.clientMessageId === 'string' && payload.message)
          outbox.acknowledge(payload.clientMessageId, payload.message);
        else if (payload.message) applyMessage(state, payload.message);
        break;
      case 'history':
        applyHistory(state, payload);
        acknowledge(payload.messages ?? []);
        break;
      case 'presence':
        applyPresence(state, payload);
        break;
      case 'online':
        applyOnline(state, payload);
        break;
      case 'conversations':
        // Added to a group (or joined on another connection): its list comes before its record and note.
        admitted(applyConversationList(state, payload));
        break;
      case 'people':
        for (const p of payload.people ?? []) rememberName(state, p.user, p.name);
        if (takeSuggestionAnswer(state.suggestionsPending, payload)) state.suggestions = payload;
        else state.people = withPeoplePage(state.people, payload);
        break;
      case 'system': {
        const wasMember = state.groups.includes(payload.group);
        applySystem(state, payload);
        if (payload.kind === 'memberRemoved' && payload.user === state.me && payload.group)
          forgetGroupRecord(state, payload.group);
        if (/^(groupJoined|memberAdded)$/.test(payload.kind) && payload.user === state.me && !wasMember)
          admitted(typeof payload.group === 'string' ? [payload.group] : []);
        break;
      }
      case 'group':
        // Created into or added to a private group, before my list said so.
        if (applyGroupRecord(state, payload)) admitted([payload.group]);
        break;
      case 'channels':
        applyChannels(state, payload, state.channelsAfter !== null);
        break;
      case 'read':
        applyRead(state, payload);
        break;
      case 'seen':
      case 'readState':
        applySeen(state, payload, type);
        break;
      case 'error':
        // The outbox holds messages only; a refused edit or delete is shown in its conversation.
        if (typeof payload.clientMessageId === 'string' && payload.command === 'sendMessage')
          outbox.refuse(payload.clientMessageId, payload);
        else applyError(state, payload);
        break;
      default:
        // An event this page does not know (a newer server): ignore it rather than break.
        break;
    }
  };
}
