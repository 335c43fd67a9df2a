import { useFocusKeeper } from '../composables/focus-moves.js';
import { auditWords } from '../state/audit-words.js';
import { MENU_MUTE_MINUTES, moreReportsPayload, sanctionedAt } from '../state/moderation.js';
import { reportPlace } from '../state/report-place.js';
import { fullTime, localTime } from '../text/format.js';
import { computed, defineComponent, nextTick, onMounted, ref } from '../vendor/vue.js';
import { PeoplePicker } from './people-picker.js';

/** Where the panel is a sheet over the conversation (style.css, "Moderation"). */
const PHONE_WIDTH = '(max-width: 760px)';

/** What the page around the panel runs for its "Go to message". */
export { useReportJump } from '../composables/report-jump.js';

/**
 * The moderators' panel (docs/architecture.md, "Moderation"): open reports, each named by where it was as
 * people see it (../state/report-place.js), with "Go to message" where the moderator can open it, deleting the
 * message, muting or banning its author (each asked first) and resolving the report; a person chosen by name
 * (the people picker: user ids are object ids nobody knows), shown with their id, to mute or ban (asked first)
 * or to lift what applies to them; who is muted (until when) or banned now, with "Unmute" and "Unban"; and the
 * audit log in words. Both lists are asked for each time the panel opens and follow every moderator's action
 * live (`audited`). The server refuses all of it to anyone without a moderator's or admin's role. Reported
 * text is shown as text.
 */
export const ModerationPanel = defineComponent({
  name: 'ModerationPanel',
  components: { PeoplePicker },
  props: {
    moderation: {
      type: /** @type {import('vue').PropType<import('../state/moderation.js').ModerationState>} */ (Object),
      required: true,
    },
    state: {
      type: /** @type {import('vue').PropType<import('../state/chat-state.js').ChatState>} */ (Object),
      required: true,
    },
    nameOf: {
      type: /** @type {import('vue').PropType<(id: string) => string>} */ (Function),
      default: (/** @type {string} */ id) => id,
    },
  },
  /**
   * `go`: (conversation, message id), to show the reported message where it was; `suggest`: a name typed in the
   * people picker, to ask the people search for.
   */
  emits: ['command', 'close', 'go', 'suggest'],
  setup(props, { emit }) {
    const panel = ref(/** @type {HTMLElement | null} */ (null));
    /** @param {string} name @param {Record<string, unknown>} payload */
    const command = (name, payload) => emit('command', name, payload);
    /** The name being typed in the people picker, and the person chosen from its suggestions. */
    const typed = ref('');
    const chosen = ref(/** @type {import('../state/people-picker.js').Chip | null} */ (null));
    /** The picker's chips after a choice: the one chosen (the panel acts on one person at a time). */
    const choose = (/** @type {import('../state/people-picker.js').Chip[]} */ chips) => {
      chosen.value = chips.at(-1) ?? null;
    };
    /** @param {'unmuteUser' | 'unbanUser'} name */
    function lift(name) {
      if (chosen.value) command(name, { user: chosen.value.user });
    }
    function moreReports() {
      const payload = moreReportsPayload(props.moderation);
      if (payload !== null) command('listReports', payload);
    }
    const loadAudit = (/** @type {boolean} */ older) =>
      command('listAudit', older && props.moderation.auditNext ? { before: props.moderation.auditNext } : {});
    // What was shown when the panel was last open may be old: both lists are asked for again.
    onMounted(() => {
      loadAudit(false);
      command('listSanctions', {});
    });
    /** Who is muted or banned now (a mute that has ended since the list came is left out). */
    const sanctioned = computed(() => sanctionedAt(props.moderation.sanctions, Date.now()));
    /**
     * What the chosen person is now: `muted`/`banned` true or false when the list says, or `null` for unknown (a
     * list cut short that does not name them), where both actions are offered.
     */
    const chosenState = computed(() => {
      const person = chosen.value;
      if (person === null) return null;
      const found = sanctioned.value.find((s) => s.user === person.user);
      if (found === undefined && (props.moderation.sanctionsMore || !props.moderation.sanctionsLoaded))
        return { muted: null, banned: null, until: '' };
      return { muted: !!found?.mute, banned: !!found?.ban, until: found?.mute?.until ?? '' };
    });
    /** @param {any} report */
    function removeReported(report) {
      command('removeMessage', { conversation: report.conversation, messageId: report.messageId });
      command('resolveReport', { report: report.id, reason: 'message deleted' });
    }
    /**
     * "Go to message": on a phone, where the panel covers the conversation (style.css), it closes first, so the
     * message shows.
     * @param {any} report
     */
    function goTo(report) {
      emit('go', report.conversation, report.messageId);
      if (window.matchMedia(PHONE_WIDTH).matches) emit('close');
    }
    /** @param {any} report */
    const authorOf = (report) => report.authorName || props.nameOf(report.author);
    /** @param {any} report */
    const placeOf = (report) => reportPlace(props.state, report, props.nameOf);

    /**
     * The question asked before an action that cannot be taken back at once, in place of the buttons of `key`
     * (a report's id), with the focus on its safe answer; once answered, the button that asked (`data-ask`,
     * `<key>:<what>`) gets the focus back.
     * @typedef {{ key: string, what: string, question: string, answer: string, run: () => void }} Question
     */
    const asking = ref(/** @type {Question | null} */ (null));
    /** @param {Question} question */
    function ask(question) {
      asking.value = question;
      void nextTick(() =>
        panel.value?.querySelector(/** @type {'button'} */ ('[data-safe-answer]'))?.focus(),
      );
    }
    /** @param {boolean} yes */
    function answer(yes) {
      const question = asking.value;
      if (question === null) return;
      asking.value = null;
      if (yes) question.run();
      void nextTick(() => {
        const asked = `[data-ask="${question.key}:${question.what}"]`;
        // Gone with its report (deleted and resolved): the panel's title takes the focus.
        const back =
          panel.value?.querySelector(/** @type {'button'} */ (asked)) ?? panel.value?.querySelector('h2');
        back?.focus();
      });
    }
    /** @param {'mute' | 'ban'} what */
    function askAboutChosen(what) {
      const person = chosen.value;
      if (person === null) return;
      ask(
        what === 'mute'
          ? {
              key: 'chosen',
              what,
              question: `Mute ${person.name} for an hour?`,
              answer: 'Mute',
              run: () => command('muteUser', { user: person.user, minutes: MENU_MUTE_MINUTES }),
            }
          : {
              key: 'chosen',
              what,
              question: `Ban ${person.name} from the chat?`,
              answer: 'Ban',
              run: () => command('banUser', { user: person.user }),
            },
      );
    }
    /** @param {any} report @param {'delete' | 'mute' | 'ban'} what */
    function askAbout(report, what) {
      const name = authorOf(report);
      if (what === 'delete') {
        ask({
          key: report.id,
          what,
          question: `Delete ${name}'s message for everyone and resolve the report?`,
          answer: 'Delete',
          run: () => removeReported(report),
        });
      } else if (what === 'mute') {
        ask({
          key: report.id,
          what,
          question: `Mute ${name} for an hour?`,
          answer: 'Mute',
          run: () => command('muteUser', { user: report.author, minutes: MENU_MUTE_MINUTES }),
        });
      } else {
        ask({
          key: report.id,
          what,
          question: `Ban ${name} from the chat?`,
          answer: 'Ban',
          run: () => command('banUser', { user: report.author }),
        });
      }
    }
    // A report dealt with leaves the list with the server's answer: the focus goes on to the next one (to the
    // list's heading once none is left).
    const reportsTitle = ref(/** @type {HTMLElement | null} */ (null));
    useFocusKeeper(panel, reportsTitle);
    /**
     * Escape closes the innermost open thing: a question asked (its safe answer), else the panel, unless something
     * inside it took the key.
     * @param {KeyboardEvent} event
     */
    function onEscape(event) {
      if (event.defaultPrevented) return;
      event.preventDefault();
      if (asking.value !== null) answer(false);
      else emit('close');
    }
    return {
      panel,
      reportsTitle,
      onEscape,
      command,
      typed,
      chosen,
      choose,
      lift,
      askAboutChosen,
      loadAudit,
      moreReports,
      authorOf,
      placeOf,
      goTo,
      sanctioned,
      chosenState,
      wordsOf: (/** @type {any} */ entry) => auditWords(props.state, entry, props.nameOf),
      asking,
      answer,
      askAbout,
      fullTime,
      localTime,
    };
  },
  template: /* html */ `
    <section ref="panel" class="moderation-panel" data-testid="moderation-panel" aria-labelledby="moderation-title"
      @keydown.esc="onEscape">
      <div class="moderation-head">
        <h2 id="moderation-title" tabindex="-1">Moderate</h2>
        <button type="button" class="button small ghost" @click="$emit('close')">Close</button>
      </div>
      <p v-if="moderation.notice" class="empty-note" role="status">{{ moderation.notice }}</p>
      <h3 ref="reportsTitle" tabindex="-1">Open reports</h3>
      <p v-if="!moderation.reports.length" class="empty-note">No open reports.</p>
      <ul v-else class="reports" aria-label="Open reports">
        <li v-for="r in moderation.reports" :key="r.id" class="report" data-testid="report-item">
          <p><strong dir="auto">{{ authorOf(r) }}</strong> in <span dir="auto" data-testid="report-place">{{ placeOf(r).label }}</span>:
            <span class="report-text" dir="auto">{{ r.text }}</span><template v-if="r.originalText !== undefined"> <span class="subtle">(edited; first sent as “<span class="report-text" dir="auto">{{ r.originalText }}</span>”)</span></template></p>
          <p class="subtle">Reported by <span dir="auto">{{ r.reporterName || nameOf(r.reporter) }}</span>, {{ fullTime(r.at) }}<template v-if="r.reason">: <span dir="auto">{{ r.reason }}</span></template></p>
          <p v-if="r.alsoReportedBy && r.alsoReportedBy.length" class="subtle" data-testid="also-reported">{{ r.alsoReportedBy.length + 1 }} people reported it; also <template v-for="(o, i) in r.alsoReportedBy" :key="o.user + o.at"><template v-if="i">, </template><span dir="auto">{{ o.name || nameOf(o.user) }}</span><template v-if="o.reason"> (<span dir="auto">{{ o.reason }}</span>)</template></template></p>
          <span v-if="asking && asking.key === r.id" class="confirm report-actions" role="group" :aria-labelledby="'ask-' + r.id">
            <span :id="'ask-' + r.id" dir="auto">{{ asking.question }}</span>
            <button type="button" class="button small" data-testid="confirm-report-action" @click="answer(true)">{{ asking.answer }}</button>
            <button type="button" class="button small ghost" data-safe-answer @click="answer(false)">Cancel</button>
          </span>
          <span v-else class="edit-actions report-actions">
            <button v-if="placeOf(r).open" type="button" class="button small ghost" @click="goTo(r)">Go to message</button>
            <span v-else class="subtle" data-testid="report-closed">{{ placeOf(r).why }}</span>
            <button type="button" class="button small" @click="askAbout(r, 'delete')" :data-ask="r.id + ':delete'">Delete message…</button>
            <button type="button" class="button small ghost" :aria-label="'Mute author ' + authorOf(r) + ' for an hour…'" @click="askAbout(r, 'mute')" :data-ask="r.id + ':mute'">Mute author…</button>
            <button type="button" class="button small ghost" :aria-label="'Ban author ' + authorOf(r) + '…'" @click="askAbout(r, 'ban')" :data-ask="r.id + ':ban'">Ban author…</button>
            <button type="button" class="button small ghost" @click="command('resolveReport', { report: r.id })">Resolve</button>
          </span>
        </li>
      </ul>
      <button v-if="moderation.reportsMore && moderation.reportsNext !== null" type="button" class="button small ghost" data-testid="more-reports" @click="moreReports">More reports</button>
      <h3>Mute or ban a person</h3>
      <p id="pick-person-hint" class="empty-note">Type their name and choose them; or act from one of their messages. Who is muted or banned now is listed below, with "Unmute" and "Unban".</p>
      <PeoplePicker :model-value="[]" v-model:text="typed" :state="state" input-id="moderate-person"
        label="Person to mute or ban: type a name, then choose the person" placeholder="Name" sign-in
        :exclude="[state.me]" described-by="pick-person-hint" @update:model-value="choose" @suggest="$emit('suggest', $event)" />
      <div v-if="chosen" class="chosen-person" data-testid="chosen-person">
        <p><strong dir="auto">{{ chosen.name }}</strong> <span class="subtle">· user id <code class="user-id">{{ chosen.user }}</code></span></p>
        <span v-if="asking && asking.key === 'chosen'" class="confirm report-actions" role="group" aria-labelledby="ask-chosen">
          <span id="ask-chosen" dir="auto">{{ asking.question }}</span>
          <button type="button" class="button small" @click="answer(true)">{{ asking.answer }}</button>
          <button type="button" class="button small ghost" data-safe-answer @click="answer(false)">Cancel</button>
        </span>
        <p v-if="chosenState.muted" class="subtle" data-testid="chosen-state">Muted until {{ localTime(chosenState.until) }}<template v-if="chosenState.banned">, and banned</template>.</p>
        <p v-else-if="chosenState.banned" class="subtle" data-testid="chosen-state">Banned.</p>
        <span v-if="!(asking && asking.key === 'chosen')" class="report-actions">
          <button v-if="chosenState.muted !== true" type="button" class="button small ghost" data-ask="chosen:mute" :aria-label="'Mute ' + chosen.name + ' for an hour…'" @click="askAboutChosen('mute')">Mute for an hour…</button>
          <button v-if="chosenState.muted !== false" type="button" class="button small ghost" :aria-label="'Unmute ' + chosen.name" @click="lift('unmuteUser')">Unmute</button>
          <button v-if="chosenState.banned !== true" type="button" class="button small ghost" data-ask="chosen:ban" :aria-label="'Ban ' + chosen.name + '…'" @click="askAboutChosen('ban')">Ban…</button>
          <button v-if="chosenState.banned !== false" type="button" class="button small ghost" :aria-label="'Unban ' + chosen.name" @click="lift('unbanUser')">Unban</button>
          <button type="button" class="link-button" @click="chosen = null">Clear</button>
        </span>
      </div>
      <h3>Muted or banned now</h3>
      <ul class="sanctions" aria-label="Muted or banned now" data-testid="sanctions">
        <li v-for="s in sanctioned" :key="s.user">
          <span dir="auto">{{ nameOf(s.user) }}</span>: <template v-if="s.mute">muted until {{ localTime(s.mute.until) }}</template><template v-if="s.mute && s.ban">, and </template><template v-if="s.ban">banned</template>
          <button v-if="s.mute" type="button" class="link-button" :aria-label="'Unmute ' + nameOf(s.user)" @click="command('unmuteUser', { user: s.user })">Unmute</button>
          <button v-if="s.ban" type="button" class="link-button" :aria-label="'Unban ' + nameOf(s.user)" @click="command('unbanUser', { user: s.user })">Unban</button>
        </li>
        <li v-if="moderation.sanctionsLoaded && !sanctioned.length" class="empty-note">Nobody is muted or banned.</li>
        <li v-if="moderation.sanctionsMore" class="empty-note">The latest are listed; more people are muted or banned.</li>
      </ul>
      <h3>Audit log</h3>
      <ol class="audit" aria-label="Audit log, newest first" data-testid="audit-log">
        <li v-for="(e, i) in moderation.audit" :key="e.at + i">
          <time :datetime="e.at" :title="fullTime(e.at)">{{ localTime(e.at) }}</time>:
          <template v-for="(p, j) in wordsOf(e)" :key="j"><span v-if="p.isolate" dir="auto">{{ p.text }}</span><template v-else>{{ p.text }}</template></template>
        </li>
        <li v-if="moderation.auditLoaded && !moderation.audit.length" class="empty-note">Nothing yet.</li>
      </ol>
      <button v-if="moderation.auditLoaded && moderation.auditNext" type="button" class="button small ghost" @click="loadAudit(true)">Older entries</button>
    </section>`,
});
