import { nameProblem } from '../conversation.js';
import { membersToSend } from '../state/people-picker.js';
import { computed, defineComponent, ref, watch } from '../vendor/vue.js';
import { PeoplePicker } from './people-picker.js';

/**
 * Creating a private group with its members (or a public channel): the form keeps what was typed until the server
 * has created the group (which then opens), and shows its refusal (a taken name, the daily bound on creations)
 * under the name. Members are added by name with the people picker (people-picker.js). And the directory of public channels with a button to join each (docs/architecture.md,
 * "Private groups and channels").
 */
export const GroupDirectory = defineComponent({
  name: 'GroupDirectory',
  components: { PeoplePicker },
  props: {
    state: {
      type: /** @type {import('vue').PropType<import('../state/chat-state.js').ChatState>} */ (Object),
      required: true,
    },
    /**
     * Sign-in mode (`CHAT_AUTH=entra`): members are user ids that the page never shows (object ids), so they
     * are chosen by name from the suggestions; typed text is not an id.
     */
    signIn: { type: Boolean, default: false },
  },
  emits: ['create', 'join', 'list-channels', 'suggest'],
  setup(props, { emit }) {
    const name = ref('');
    /** The chosen members (chips) and the name being typed. */
    const members = ref(/** @type {import('../state/people-picker.js').Chip[]} */ ([]));
    const typing = ref('');
    const channel = ref(false);
    const problem = ref(/** @type {string | null} */ (null));
    const membersProblem = ref(/** @type {string | null} */ (null));
    function create() {
      const chosen = channel.value
        ? { members: [], problem: null }
        : membersToSend(members.value, typing.value, props.signIn);
      problem.value = nameProblem(name.value, 'group') ?? null;
      // Without sign-in a member is a typed name, held to the rules of names; with sign-in an id chosen.
      membersProblem.value =
        chosen.problem ??
        (props.signIn ? null : chosen.members.map((m) => nameProblem(m)).find((p) => p !== undefined)) ??
        null;
      if (problem.value || membersProblem.value) return;
      emit('create', {
        group: name.value,
        kind: channel.value ? 'channel' : 'private',
        members: chosen.members,
      });
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
          members.value = [];
          typing.value = '';
          membersProblem.value = null;
          channel.value = false;
        }
      },
    );
    watch([members, typing], () => {
      membersProblem.value = null;
    });
    return { name, members, typing, channel, problem, membersProblem, refused, create };
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
        <PeoplePicker v-model="members" v-model:text="typing" :state="state" input-id="new-group-members"
          :label="signIn ? 'Members: type a name, then choose the person' : 'Members: names, separated by commas'"
          :placeholder="signIn ? 'Members: type a name' : 'Members: ann, bob'" :sign-in="signIn" :disabled="channel"
          :exclude="[state.me]" described-by="new-group-members-error" @suggest="$emit('suggest', $event)" />
        <p id="new-group-members-error" class="field-error" role="alert" data-testid="members-problem" v-if="membersProblem">{{ membersProblem }}</p>
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
