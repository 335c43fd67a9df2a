import { focusAfterRender, useFocusKeeper } from '../composables/focus-moves.js';
import { membersToSend } from '../state/people-picker.js';
import { defineComponent, nextTick, onMounted, ref, watch } from '../vendor/vue.js';
import { AskFirst } from './ask-first.js';
import { deleteQuestion } from './group-exit.js';
import { PeoplePicker } from './people-picker.js';

/**
 * The open group's record: its kind and topic, and on request its members; an owner of a private group adds
 * (chosen by name with the people picker, people-picker.js) and removes members here, and an owner of either kind renames it and sets its topic. Everyone in the group
 * sees a change as the `group` event brings it. An owner of a private group may delete it here, asked first (its
 * last member deletes it from the header instead, group-exit.js). The server refuses whatever the person may not do.
 */
export const GroupPanel = defineComponent({
  name: 'GroupPanel',
  components: { AskFirst, PeoplePicker },
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
    /** Sign-in mode: a member is chosen by name, never typed as an id (as in group-directory.js). */
    signIn: { type: Boolean, default: false },
  },
  emits: ['command', 'suggest'],
  setup(props, { emit }) {
    const shown = ref(false);
    /** The people chosen to add (chips) and the name being typed. */
    const newMembers = ref(/** @type {import('../state/people-picker.js').Chip[]} */ ([]));
    const typing = ref('');
    const addProblem = ref(/** @type {string | null} */ (null));
    watch([newMembers, typing], () => {
      addProblem.value = null;
    });
    const record = () => props.state.groupRecords.get(props.group) ?? null;
    const isOwner = () => record()?.owners.includes(props.state.me) ?? false;
    function toggle() {
      shown.value = !shown.value;
      if (shown.value) emit('command', 'listMembers', { group: props.group });
    }
    // After a reload the page knows the group's name only: its record brings the title, kind and topic.
    onMounted(() => {
      if (!record()) emit('command', 'listMembers', { group: props.group });
    });

    const editing = ref(false);
    const title = ref('');
    const topic = ref('');
    const editProblem = ref(/** @type {string | null} */ (null));
    const titleInput = ref(/** @type {HTMLInputElement | null} */ (null));
    const editToggle = ref(/** @type {HTMLButtonElement | null} */ (null));
    /** Opens the form with the record's title and topic, or closes it (focus back on its button). */
    function toggleEdit() {
      const r = record();
      editing.value = !editing.value && r !== null;
      editProblem.value = null;
      if (editing.value && r) {
        title.value = r.title;
        topic.value = r.topic ?? '';
        void nextTick(() => titleInput.value?.focus());
      } else void nextTick(() => editToggle.value?.focus());
    }
    /** Sends what changed: `renameGroup`, `setTopic` (an empty topic clears it). */
    function save() {
      const r = record();
      if (!r) return;
      const newTitle = title.value.trim();
      if (newTitle === '') {
        editProblem.value = 'Give the group a title.';
        return;
      }
      if (newTitle !== r.title) emit('command', 'renameGroup', { group: props.group, title: newTitle });
      const newTopic = topic.value.trim();
      if (newTopic !== (r.topic ?? '')) emit('command', 'setTopic', { group: props.group, topic: newTopic });
      toggleEdit();
    }
    /** Sends one `addMember` per chosen person (and, without sign-in, per name still typed). */
    function add() {
      const { members, problem } = membersToSend(newMembers.value, typing.value, props.signIn);
      addProblem.value = problem;
      if (problem) return;
      for (const user of members) emit('command', 'addMember', { group: props.group, user });
      newMembers.value = [];
      typing.value = '';
    }
    /** The member whose removal waits for the owner's "Remove" a second time (asked inline, naming them). */
    const confirmingRemove = ref(/** @type {string | null} */ (null));
    const root = ref(/** @type {HTMLElement | null} */ (null));
    const membersToggle = ref(/** @type {HTMLButtonElement | null} */ (null));
    /** A member's "Remove" button, or the answer "Cancel" while asked. @param {string} user @param {string} [inside] */
    const removeButton = (user, inside = '') =>
      root.value?.querySelector(`[data-remove="${CSS.escape(user)}"]${inside}`) ?? null;
    /** Asks first, the focus on the answer that changes nothing (a second Enter does not remove at once). @param {string} user */
    function askRemove(user) {
      confirmingRemove.value = user;
      void focusAfterRender(() => removeButton(user, ' [data-safe-answer]'));
    }
    /** Answers no: the focus goes back to the member's "Remove". */
    function keepMember() {
      const user = confirmingRemove.value;
      confirmingRemove.value = null;
      if (user !== null) void focusAfterRender(() => removeButton(user));
    }
    /** @param {string} user */
    function remove(user) {
      confirmingRemove.value = null;
      emit('command', 'removeMember', { group: props.group, user });
    }
    // The control acted on may go with the server's answer (the member removed, "Make owner" once they are
    // one): the focus goes on to what took its place.
    useFocusKeeper(root, membersToggle);
    /** Escape closes the innermost thing open: the question about a removal, else the members list. @param {KeyboardEvent} event */
    function onEscape(event) {
      if (event.defaultPrevented || (confirmingRemove.value === null && !shown.value)) return;
      event.preventDefault();
      if (confirmingRemove.value !== null) return keepMember();
      shown.value = false;
      void focusAfterRender(membersToggle);
    }
    /** Makes a member an owner too (the server's `addMember` with `owner`), so that the last owner can leave. @param {string} user */
    const makeOwner = (user) => emit('command', 'addMember', { group: props.group, user, owner: true });
    return {
      deleteQuestion,
      shown,
      newMembers,
      typing,
      addProblem,
      record,
      isOwner,
      toggle,
      add,
      remove,
      confirmingRemove,
      askRemove,
      keepMember,
      root,
      membersToggle,
      onEscape,
      makeOwner,
      editing,
      title,
      topic,
      editProblem,
      titleInput,
      editToggle,
      toggleEdit,
      save,
    };
  },
  template: /* html */ `
    <div ref="root" class="group-panel" data-testid="group-panel" @keydown.esc="onEscape">
      <p v-if="record()" class="group-kind">
        <span class="conv-tag">{{ record().kind === 'private' ? 'private group' : 'channel' }}</span><span v-if="record().topic" class="sr-only">: </span>
        <span v-if="record().topic" class="group-topic" data-testid="group-topic" dir="auto"> {{ record().topic }}</span>
      </p>
      <button ref="membersToggle" type="button" class="button small ghost" :aria-expanded="shown ? 'true' : 'false'" @click="toggle">Members</button>
      <button v-if="isOwner()" ref="editToggle" type="button" class="button small ghost" aria-controls="group-edit-form"
        :aria-expanded="editing ? 'true' : 'false'" @click="toggleEdit">Rename or set topic</button>
      <AskFirst v-if="isOwner() && record().kind === 'private' && record().members.length > 1" label="Delete group"
        :question="deleteQuestion(record().title)" :confirm-label="'Yes, delete ' + record().title" safe="Keep it"
        test-id="delete-question" @confirm="$emit('command', 'deleteGroup', { group })" />
      <form v-if="editing && record()" id="group-edit-form" class="group-edit" novalidate aria-label="Rename or set topic"
        @submit.prevent="save" @keydown.esc.prevent="toggleEdit">
        <label for="group-title-input">Title</label>
        <input id="group-title-input" ref="titleInput" v-model="title" type="text" autocomplete="off" dir="auto"
          :aria-invalid="editProblem ? 'true' : 'false'" aria-describedby="group-edit-error">
        <label for="group-topic-input">Topic</label>
        <input id="group-topic-input" v-model="topic" type="text" autocomplete="off" dir="auto" placeholder="No topic">
        <p id="group-edit-error" class="field-error" role="alert" v-if="editProblem">{{ editProblem }}</p>
        <div class="group-edit-actions">
          <button type="submit" class="button small">Save</button>
          <button type="button" class="button small ghost" @click="toggleEdit">Cancel</button>
        </div>
      </form>
      <div v-if="shown && record()" class="group-members">
        <ul class="people" aria-label="Group members">
          <li v-for="m in record().members" :key="m" class="person">
            <span class="person-name" dir="auto">{{ nameOf(m) }}<span v-if="record().owners.includes(m)" class="subtle"> (owner)</span></span>
            <button v-if="isOwner() && record().kind === 'private' && !record().owners.includes(m)" type="button"
              class="button small ghost" :aria-label="'Make ' + nameOf(m) + ' an owner'" @click="makeOwner(m)">Make owner</button>
            <template v-if="isOwner() && m !== state.me">
              <span v-if="confirmingRemove === m" class="confirm-remove" data-testid="confirm-remove" :data-remove="m">
                <span>Remove <span dir="auto">{{ nameOf(m) }}</span> from the {{ record().kind === 'channel' ? 'channel' : 'group' }}?</span>
                <button type="button" class="button small" :aria-label="'Yes, remove ' + nameOf(m)" @click="remove(m)">Remove</button>
                <button type="button" class="button small ghost" data-safe-answer @click="keepMember">Cancel</button>
              </span>
              <button v-else type="button" class="button small ghost" :data-remove="m"
                :aria-label="'Remove ' + nameOf(m)" @click="askRemove(m)">Remove</button>
            </template>
          </li>
        </ul>
        <p v-if="record().kind === 'channel'" class="empty-note">Anyone may join a channel.</p>
        <form v-if="isOwner() && record().kind === 'private'" class="join-form add-member-form" novalidate @submit.prevent="add">
          <PeoplePicker v-model="newMembers" v-model:text="typing" :state="state" input-id="add-member-input"
            :label="signIn ? 'Add a member: type a name, then choose the person' : 'Add a member by name'"
            placeholder="Add a member" :sign-in="signIn" :exclude="record().members"
            described-by="add-member-error" @suggest="$emit('suggest', $event)" />
          <button type="submit" class="button small">Add</button>
        </form>
        <p v-if="addProblem" id="add-member-error" class="field-error" role="alert" data-testid="add-member-problem">{{ addProblem }}</p>
      </div>
    </div>`,
});
