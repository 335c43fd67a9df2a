import { nameProblem } from '../conversation.js';
import { typedMembers } from '../state/group-records.js';
import { computed, defineComponent, ref, watch } from '../vendor/vue.js';

/**
 * Creating a private group with its members (or a public channel): the form keeps what was typed until the server
 * has created the group (which then opens), and shows its refusal (a taken name, the daily bound on creations)
 * under the name. And the directory of public channels with a button to join each (docs/architecture.md,
 * "Private groups and channels").
 */
export const GroupDirectory = defineComponent({
  name: 'GroupDirectory',
  props: {
    state: {
      type: /** @type {import('vue').PropType<import('../state/chat-state.js').ChatState>} */ (Object),
      required: true,
    },
    /**
     * Sign-in mode (`CHAT_AUTH=entra`): members are user ids that the page never shows (object ids), and a
     * display name typed here is taken as a user id of nobody, so the field says ids, not names.
     */
    signIn: { type: Boolean, default: false },
  },
  emits: ['create', 'join', 'list-channels'],
  setup(props, { emit }) {
    const name = ref('');
    const members = ref('');
    const channel = ref(false);
    const problem = ref(/** @type {string | null} */ (null));
    function create() {
      const list = typedMembers(members.value);
      problem.value =
        nameProblem(name.value, 'group') ??
        list.map((m) => nameProblem(m)).find((p) => p !== undefined) ??
        null;
      if (problem.value) return;
      emit('create', { group: name.value, kind: channel.value ? 'channel' : 'private', members: list });
    }
    // The server's refusal of the name being created (taken, or any other), shown as the form's problem.
    const refused = computed(() =>
      props.state.creating?.group === name.value ? props.state.creating.error : null,
    );
    watch(
      () => props.state.creating,
      (now, before) => {
        // Created (and opened: only then is it cleared): the form is empty again, and the next group private
        // unless chosen otherwise.
        if (before && !now) {
          name.value = '';
          members.value = '';
          channel.value = false;
        }
      },
    );
    return { name, members, channel, problem, refused, create };
  },
  template: /* html */ `
    <section class="sidebar-section" aria-labelledby="new-group-heading">
      <h2 id="new-group-heading" class="section-title">New group</h2>
      <form class="group-form" novalidate @submit.prevent="create">
        <label for="new-group-name" class="sr-only">Group name</label>
        <input id="new-group-name" v-model.trim="name" type="text" placeholder="Group name" autocomplete="off"
          maxlength="32" :aria-invalid="problem || refused ? 'true' : 'false'"
          aria-describedby="new-group-error new-group-refusal">
        <p id="new-group-error" class="field-error" role="alert" v-if="problem">{{ problem }}</p>
        <p id="new-group-refusal" class="field-error" role="alert" data-testid="create-refusal" v-else-if="refused">{{ refused }}</p>
        <label for="new-group-members" class="sr-only">{{ signIn ? 'Members: user ids, separated by commas' : 'Members, separated by commas' }}</label>
        <input id="new-group-members" v-model="members" type="text" :placeholder="signIn ? 'Members: user ids, comma-separated' : 'Members: ann, bob'"
          autocomplete="off" :disabled="channel" :aria-describedby="signIn ? 'new-group-members-hint' : null">
        <p v-if="signIn && !channel" id="new-group-members-hint" class="field-hint" data-testid="members-hint">Members are added by user id, not by name: a name adds nobody.</p>
        <label class="check"><input id="new-group-channel" v-model="channel" type="checkbox"> Public channel (anyone may join)</label>
        <button type="submit" class="button small">{{ channel ? 'Create channel' : 'Create private group' }}</button>
      </form>
    </section>

    <section class="sidebar-section" aria-labelledby="channels-heading">
      <h2 id="channels-heading" class="section-title">Channels</h2>
      <button type="button" class="button small" @click="$emit('list-channels')">Browse channels</button>
      <ul v-if="state.channels" class="people" aria-label="Channel directory">
        <li v-for="c in state.channels.channels" :key="c.group" class="person">
          <span class="person-name"><span dir="auto">{{ c.title }}</span>
            <span v-if="c.topic" class="subtle person-seen" dir="auto">{{ c.topic }}</span></span>
          <button v-if="!state.groups.includes(c.group)" type="button" class="button small"
            :aria-label="'Join channel ' + c.title" @click="$emit('join', c.group)">Join</button>
          <span v-else class="subtle">joined</span>
        </li>
      </ul>
      <p v-if="state.channels && !state.channels.channels.length" class="empty-note">No channels yet.</p>
      <button v-if="state.channels && state.channels.next" type="button" class="button small"
        @click="$emit('list-channels', state.channels.next)">More channels</button>
    </section>`,
});
