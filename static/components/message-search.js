/**
 * Searching the open conversation (docs/architecture.md, "Message search"): a button in the conversation's
 * header opens a field; Enter sends `searchMessages`, the answers list newest first with how many there are and
 * the words found marked (as text), "Search older" goes on from where the server's scan stopped, Escape closes,
 * and a click on a result asks the conversation to go to it. Opening another conversation closes the search:
 * its query and results were of the one left. The rules and the state are static/state/search.js.
 */
import {
  markedParts,
  matchesWords,
  queryProblem,
  queryWords,
  resultCountText,
  startSearch,
  withSearchResults,
} from '../state/search.js';
import { compactTime, fullTime } from '../text/format.js';
import { computed, defineComponent, nextTick, ref, watch } from '../vendor/vue.js';

/** Matches asked for per answer (the server's default). */
const SEARCH_PAGE_SIZE = 20;

export const MessageSearch = defineComponent({
  name: 'MessageSearch',
  props: {
    /** The open conversation's id. */
    conversation: { type: String, required: true },
    nameOf: { type: Function, required: true },
    /** A result as the page shows it now, after the records it has seen (message-changes.js, `foldMessage`). */
    fold: { type: Function, required: true },
    offline: { type: Boolean, default: false },
  },
  emits: ['send', 'jump'],
  setup(props, { emit }) {
    const open = ref(false);
    const query = ref('');
    const problem = ref('');
    const search = ref(/** @type {import('../state/search.js').SearchState | null} */ (null));
    const field = ref(/** @type {HTMLInputElement | null} */ (null));
    const toggle = ref(/** @type {HTMLButtonElement | null} */ (null));

    function close() {
      open.value = false;
      search.value = null;
      problem.value = '';
      void nextTick(() => toggle.value?.focus());
    }
    function show() {
      open.value = true;
      void nextTick(() => field.value?.focus());
    }
    // Another conversation closes the search, query and all: what it found was of the one left, and searching
    // the new one unasked would cost a scan per conversation passed through. The focus stays where the reader
    // chose the conversation.
    watch(
      () => props.conversation,
      () => {
        open.value = false;
        query.value = '';
        search.value = null;
        problem.value = '';
      },
    );

    /** @param {'new' | 'older'} which */
    function ask(which) {
      const current = search.value;
      if (which === 'older' && (!current?.before || current.pending)) return;
      const why = which === 'new' ? queryProblem(query.value) : null;
      if (why) {
        problem.value = why;
        return;
      }
      if (props.offline) {
        problem.value = 'Offline: search when the connection is back.';
        return;
      }
      problem.value = '';
      const next =
        which === 'new' || !current
          ? startSearch(props.conversation, query.value)
          : { ...current, pending: /** @type {const} */ ('older') };
      search.value = next;
      emit('send', 'searchMessages', {
        conversation: next.conversation,
        query: next.query,
        limit: SEARCH_PAGE_SIZE,
        ...(which === 'older' && next.before ? { before: next.before } : {}),
      });
    }

    /**
     * Takes the events of the search: its answers and its refusals. Returns whether it took `type`.
     * @param {string} type @param {any} payload
     */
    function take(type, payload) {
      if (type === 'searchResults') {
        search.value = withSearchResults(search.value, payload);
        return true;
      }
      if (type === 'error' && payload?.command === 'searchMessages') {
        // A refused search found nothing to count: only its older results, if it was asked for more, stay.
        const s = search.value;
        search.value = s && s.pending !== 'new' ? { ...s, pending: null } : null;
        problem.value = String(payload.message ?? 'The search was refused.');
        return true;
      }
      return false;
    }

    /** The results as the page shows them: folded with what it knows, still matching, deleted ones left out. */
    const results = computed(() => {
      const s = search.value;
      if (!s) return [];
      const words = queryWords(s.query);
      return s.messages
        .map((m) => props.fold(m))
        .filter((m) => !m.deleted && matchesWords(m, words))
        .map((m) => ({
          m,
          parts: markedParts(m.text, words),
          file: m.attachment ? markedParts(String(m.attachment.name), words) : null,
        }));
    });

    /** "12 results", or "20+ results, …" while older messages are left to search. */
    const countText = computed(() =>
      search.value ? resultCountText(results.value.length, search.value.complete) : '',
    );

    /** @param {any} m */
    function jump(m) {
      emit('jump', m.id);
    }

    return {
      open,
      query,
      problem,
      search,
      results,
      countText,
      field,
      toggle,
      show,
      close,
      ask,
      take,
      jump,
      fullTime,
      compactTime,
    };
  },
  template: /* html */ `
    <div class="message-search" @keydown.esc.stop="open && close()">
      <button ref="toggle" type="button" class="button small ghost search-toggle" data-testid="search-toggle"
        :aria-expanded="open ? 'true' : 'false'" aria-controls="message-search-panel" @click="open ? close() : show()">
        <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">
          <circle cx="10.5" cy="10.5" r="6" stroke="currentColor" stroke-width="2" fill="none"/>
          <path d="M15 15l5 5" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>
        </svg>
        <span class="search-toggle-text">Search</span>
      </button>
      <section v-if="open" id="message-search-panel" class="search-panel" role="search" aria-label="Search this conversation"
        data-testid="search-panel">
        <form class="search-form" @submit.prevent="ask('new')">
          <input ref="field" v-model="query" type="search" class="search-input" data-testid="search-input"
            maxlength="200" placeholder="Search this conversation" aria-label="Search this conversation" enterkeyhint="search" />
          <button type="submit" class="button small primary">Search</button>
          <button type="button" class="icon-button" aria-label="Close search" @click="close()">
            <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
              <path d="M6 6l12 12M18 6 6 18" stroke="currentColor" stroke-width="2" stroke-linecap="round" fill="none"/>
            </svg>
          </button>
        </form>
        <p v-if="problem" class="inline-error search-problem" role="alert" data-testid="search-problem">{{ problem }}</p>
        <p v-if="search && search.pending === 'new'" class="empty-note" role="status">Searching…</p>
        <p v-else-if="search && !search.pending && results.length === 0" class="empty-note" role="status" data-testid="search-empty">
          No messages match “<span dir="auto">{{ search.query }}</span>”{{ search.complete ? '.' : ' among the latest ' + search.scanned + '.' }}
        </p>
        <p v-if="search && search.pending !== 'new' && results.length" class="search-count" role="status" data-testid="search-count">{{ countText }}</p>
        <ol v-if="results.length" class="search-results" data-testid="search-results" aria-label="Messages found">
          <li v-for="r in results" :key="r.m.id">
            <button type="button" class="search-result" data-testid="search-result" @click="jump(r.m)">
              <span class="search-result-head">
                <strong dir="auto">{{ r.m.fromName || nameOf(r.m.from) }}</strong>
                <time :datetime="r.m.sentAt" :title="fullTime(r.m.sentAt)">{{ compactTime(r.m.sentAt) }}</time>
              </span>
              <span class="search-result-text" dir="auto"><template v-for="(p, i) in r.parts" :key="i"><mark v-if="p.marked">{{ p.text }}</mark><template v-else>{{ p.text }}</template></template></span>
              <span v-if="r.file" class="search-result-file" dir="auto">📎 <template v-for="(p, i) in r.file" :key="i"><mark v-if="p.marked">{{ p.text }}</mark><template v-else>{{ p.text }}</template></template></span>
            </button>
          </li>
        </ol>
        <div v-if="search && !search.complete && search.before && search.pending !== 'new'" class="search-more">
          <button type="button" class="button small ghost" data-testid="search-older" :disabled="search.pending === 'older'"
            @click="ask('older')">{{ search.pending === 'older' ? 'Searching…' : 'Search older' }}</button>
        </div>
        <p v-else-if="search && search.complete && results.length" class="empty-note search-end">Searched the whole conversation.</p>
      </section>
    </div>`,
});
