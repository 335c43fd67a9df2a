import { MAX_NAME_LENGTH, nameProblem } from '../conversation.js';
import { computed, defineComponent, onMounted, ref } from '../vendor/vue.js';

/**
 * Shown when the page was opened without `?name=` (and without a signed-in principal): asks for a name and
 * reloads the page with it, keeping the other query parameters (such as `?dialect=websocket`). The server
 * decides the name from the URL, so the page never holds an identity of its own making.
 */
export const NamePrompt = defineComponent({
  name: 'NamePrompt',
  props: {
    /** The name the server refused (the printed `?name=<you>`, say) and why: filled in, with the reason shown. */
    refused: {
      type: /** @type {import('vue').PropType<{ name: string, problem: string } | null>} */ (Object),
      default: null,
    },
  },
  setup(props) {
    const name = ref(props.refused?.name ?? '');
    const touched = ref(props.refused !== null);
    const problem = computed(() =>
      props.refused !== null && name.value === props.refused.name
        ? props.refused.problem.replace(/; choose another \?name=$/, '')
        : nameProblem(name.value),
    );
    const input = ref(/** @type {HTMLInputElement | null} */ (null));

    function submit() {
      touched.value = true;
      if (problem.value) {
        input.value?.focus();
        return;
      }
      const url = new URL(window.location.href);
      url.searchParams.set('name', name.value);
      window.location.assign(url.toString());
    }

    // `autofocus` only applies to elements present when the document loads; this form is rendered later.
    onMounted(() => {
      input.value?.focus();
      if (props.refused !== null) input.value?.select();
    });

    return { name, touched, problem, submit, input, MAX_NAME_LENGTH };
  },
  template: /* html */ `
    <main class="prompt">
      <form class="prompt-card" novalidate @submit.prevent="submit" aria-labelledby="prompt-title">
        <svg class="logo" viewBox="0 0 32 32" width="48" height="48" aria-hidden="true" focusable="false"><rect width="32" height="32" rx="9" fill="#4f46e5"/><path d="M9 10.5h14a2 2 0 0 1 2 2v7a2 2 0 0 1-2 2h-7l-4.5 3.5V21.5H9a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2z" fill="#fff"/><circle cx="12.5" cy="16" r="1.4" fill="#4f46e5"/><circle cx="16" cy="16" r="1.4" fill="#4f46e5"/><circle cx="19.5" cy="16" r="1.4" fill="#4f46e5"/></svg>
        <h1 id="prompt-title">Join the chat</h1>
        <p class="prompt-lead">Pick the name others will see. No account needed.</p>
        <p class="hint" data-testid="unverified">Names are not verified: anyone can enter under any name, so do not share secrets here.</p>
        <label for="name-input">Your name</label>
        <input id="name-input" ref="input" v-model.trim="name" type="text" autocomplete="nickname"
          :maxlength="MAX_NAME_LENGTH * 2" required
          :aria-invalid="touched && problem ? 'true' : 'false'" aria-describedby="name-hint name-error"
          @blur="touched = name.length > 0">
        <p id="name-hint" class="hint">1–{{ MAX_NAME_LENGTH }} letters, digits, spaces, "_", "-" or ".".</p>
        <p id="name-error" class="field-error" role="alert" v-if="touched && problem">{{ problem }}</p>
        <button type="submit" class="button primary">Enter the chat</button>
      </form>
    </main>`,
});
