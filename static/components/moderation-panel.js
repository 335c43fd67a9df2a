import { useFocusKeeper } from '../composables/focus-moves.js';
import { MENU_MUTE_MINUTES, moreReportsPayload } from '../state/moderation.js';
import { fullTime } from '../text/format.js';
import { defineComponent, ref } from '../vendor/vue.js';

/**
 * The moderators' panel (docs/architecture.md, "Moderation"): open reports (delete the message, or resolve
 * the report), lifting a mute or a ban, and the audit log. The server refuses all of it to anyone without a
 * moderator's or admin's role. Reported text is shown as text.
 */
export const ModerationPanel = defineComponent({
  name: 'ModerationPanel',
  props: {
    moderation: {
      type: /** @type {import('vue').PropType<import('../state/moderation.js').ModerationState>} */ (Object),
      required: true,
    },
    nameOf: {
      type: /** @type {import('vue').PropType<(id: string) => string>} */ (Function),
      default: (/** @type {string} */ id) => id,
    },
  },
  emits: ['command', 'close'],
  setup(props, { emit }) {
    const who = ref('');
    /** @param {string} name @param {Record<string, unknown>} payload */
    const command = (name, payload) => emit('command', name, payload);
    /** @param {'muteUser' | 'unmuteUser' | 'banUser' | 'unbanUser'} name */
    function lift(name) {
      if (who.value.trim() === '') return;
      command(name, {
        user: who.value.trim(),
        ...(name === 'muteUser' ? { minutes: MENU_MUTE_MINUTES } : {}),
      });
      who.value = '';
    }
    function moreReports() {
      const payload = moreReportsPayload(props.moderation);
      if (payload !== null) command('listReports', payload);
    }
    const loadAudit = (/** @type {boolean} */ older) =>
      command('listAudit', older && props.moderation.auditNext ? { before: props.moderation.auditNext } : {});
    /** @param {any} report */
    function removeReported(report) {
      command('removeMessage', { conversation: report.conversation, messageId: report.messageId });
      command('resolveReport', { report: report.id, reason: 'message deleted' });
    }
    // A report dealt with leaves the list with the server's answer: the focus goes on to the next one (to the
    // list's heading once none is left).
    const root = ref(/** @type {HTMLElement | null} */ (null));
    const reportsTitle = ref(/** @type {HTMLElement | null} */ (null));
    useFocusKeeper(root, reportsTitle);
    /** Escape closes the panel, unless something inside it took the key. @param {KeyboardEvent} event */
    function onEscape(event) {
      if (event.defaultPrevented) return;
      event.preventDefault();
      emit('close');
    }
    return {
      who,
      command,
      lift,
      loadAudit,
      moreReports,
      removeReported,
      fullTime,
      root,
      reportsTitle,
      onEscape,
    };
  },
  template: /* html */ `
    <section ref="root" class="moderation-panel" data-testid="moderation-panel" aria-labelledby="moderation-title"
      @keydown.esc="onEscape">
      <div class="moderation-head">
        <h2 id="moderation-title">Moderate</h2>
        <button type="button" class="button small ghost" @click="$emit('close')">Close</button>
      </div>
      <p v-if="moderation.notice" class="empty-note" role="status">{{ moderation.notice }}</p>
      <h3 ref="reportsTitle" tabindex="-1">Open reports</h3>
      <p v-if="!moderation.reports.length" class="empty-note">No open reports.</p>
      <ul v-else class="reports" aria-label="Open reports">
        <li v-for="r in moderation.reports" :key="r.id" class="report" data-testid="report-item">
          <p><strong dir="auto">{{ r.authorName || nameOf(r.author) }}</strong> in {{ r.conversation }}:
            <span class="report-text" dir="auto">{{ r.text }}</span><template v-if="r.originalText !== undefined"> <span class="subtle">(edited; first sent as “<span class="report-text" dir="auto">{{ r.originalText }}</span>”)</span></template></p>
          <p class="subtle">Reported by <span dir="auto">{{ r.reporterName || nameOf(r.reporter) }}</span>, {{ fullTime(r.at) }}<template v-if="r.reason">: <span dir="auto">{{ r.reason }}</span></template></p>
          <p v-if="r.alsoReportedBy && r.alsoReportedBy.length" class="subtle" data-testid="also-reported">{{ r.alsoReportedBy.length + 1 }} people reported it; also <template v-for="(o, i) in r.alsoReportedBy" :key="o.user + o.at"><template v-if="i">, </template><span dir="auto">{{ o.name || nameOf(o.user) }}</span><template v-if="o.reason"> (<span dir="auto">{{ o.reason }}</span>)</template></template></p>
          <span class="edit-actions">
            <button type="button" class="button small" @click="removeReported(r)">Delete message</button>
            <button type="button" class="button small ghost" @click="command('resolveReport', { report: r.id })">Resolve</button>
          </span>
        </li>
      </ul>
      <button v-if="moderation.reportsMore && moderation.reportsNext !== null" type="button" class="button small ghost" data-testid="more-reports" @click="moreReports">More reports</button>
      <h3>Mute or ban by user id</h3>
      <p class="empty-note">Or from a person's message; "Unmute" and "Unban" are also in the audit log below.</p>
      <form class="join-form" novalidate @submit.prevent="lift('unmuteUser')">
        <label for="lift-user" class="sr-only">User id</label>
        <input id="lift-user" v-model="who" type="text" placeholder="User id" autocomplete="off" maxlength="32">
        <button type="button" class="button small ghost" @click="lift('muteUser')">Mute 1 h</button>
        <button type="button" class="button small ghost" @click="lift('banUser')">Ban</button>
        <button type="submit" class="button small">Unmute</button>
        <button type="button" class="button small ghost" @click="lift('unbanUser')">Unban</button>
      </form>
      <h3>Audit log</h3>
      <button v-if="!moderation.auditLoaded" type="button" class="button small ghost" data-testid="load-audit" @click="loadAudit(false)">Show the audit log</button>
      <ol v-else class="audit" aria-label="Audit log, newest first" data-testid="audit-log">
        <li v-for="(e, i) in moderation.audit" :key="e.at + i">
          <time :datetime="e.at">{{ fullTime(e.at) }}</time>:
          <span dir="auto">{{ e.byName || nameOf(e.by) }}</span> {{ e.action }} <span dir="auto">{{ nameOf(e.target) }}</span><template v-if="e.until"> until {{ fullTime(e.until) }}</template><template v-if="e.reason"> (<span dir="auto">{{ e.reason }}</span>)</template>
          <button v-if="e.action === 'muteUser' || e.action === 'banUser'" type="button" class="link-button"
            :aria-label="(e.action === 'muteUser' ? 'Unmute ' : 'Unban ') + nameOf(e.target)"
            @click="command(e.action === 'muteUser' ? 'unmuteUser' : 'unbanUser', { user: e.target })">{{ e.action === 'muteUser' ? 'Unmute' : 'Unban' }}</button>
        </li>
        <li v-if="!moderation.audit.length" class="empty-note">Nothing yet.</li>
      </ol>
      <button v-if="moderation.auditLoaded && moderation.auditNext" type="button" class="button small ghost" @click="loadAudit(true)">Older entries</button>
    </section>`,
});
