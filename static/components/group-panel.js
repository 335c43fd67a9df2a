import { defineComponent, ref } from '../vendor/vue.js';

/**
 * The open group's record: its kind and topic, and on request its members; an owner of a private group adds
 * and removes members here. The server refuses whatever the person may not do.
 */
export const GroupPanel = defineComponent({
  name: 'GroupPanel',
  props: {
    state: {
      type: /** @type {import('vue').PropType<import('../state/chat-state.js').ChatState>} */ (Object),
      required: true,
    },
    group: { type: String, required: true },
    nameOf: {
      type: /** @type {import('vue').PropType<(id: string) => string>} */ (Function),
      default: (/** @type {string} */ id) => id,
    },
  },
  emits: ['command'],
  setup(props, { emit }) {
    const shown = ref(false);
    const newMember = ref('');
    const record = () => props.state.groupRecords.get(props.group) ?? null;
    const isOwner = () => record()?.owners.includes(props.state.me) ?? false;
    function toggle() {
      shown.value = !shown.value;
      if (shown.value) emit('command', 'listMembers', { group: props.group });
    }
    function add() {
      if (newMember.value.trim() === '') return;
      emit('command', 'addMember', { group: props.group, user: newMember.value.trim() });
      newMember.value = '';
    }
    /** @param {string} user */
    const remove = (user) => emit('command', 'removeMember', { group: props.group, user });
    return { shown, newMember, record, isOwner, toggle, add, remove };
  },
  template: /* html */ `
    <div class="group-panel" data-testid="group-panel">
      <p v-if="record()" class="group-kind">
        <span class="conv-tag">{{ record().kind === 'private' ? 'private group' : 'channel' }}</span>
        <span v-if="record().topic" dir="auto"> {{ record().topic }}</span>
      </p>
      <button type="button" class="button small ghost" :aria-expanded="shown ? 'true' : 'false'" @click="toggle">Members</button>
      <div v-if="shown && record()" class="group-members">
        <ul class="people" aria-label="Group members">
          <li v-for="m in record().members" :key="m" class="person">
            <span class="person-name" dir="auto">{{ nameOf(m) }}<span v-if="record().owners.includes(m)" class="subtle"> (owner)</span></span>
            <button v-if="isOwner() && m !== state.me" type="button" class="button small ghost"
              :aria-label="'Remove ' + nameOf(m)" @click="remove(m)">Remove</button>
          </li>
        </ul>
        <p v-if="record().kind === 'channel'" class="empty-note">Anyone may join a channel.</p>
        <form v-if="isOwner() && record().kind === 'private'" class="join-form" novalidate @submit.prevent="add">
          <label for="add-member-input" class="sr-only">User to add</label>
          <input id="add-member-input" v-model="newMember" type="text" placeholder="Add a member" autocomplete="off" maxlength="32">
          <button type="submit" class="button small">Add</button>
        </form>
      </div>
    </div>`,
});
