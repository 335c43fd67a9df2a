import { endedElsewhere } from '../link/refusal.js';
import { watchBrowserSession } from '../state/browser-session.js';
import { SIGN_OUT_PATH } from '../state/link-words.js';
import { forgetDrafts, stopSavingDrafts } from '../state/saved-drafts.js';
import { onBeforeUnmount, ref } from '../vendor/vue.js';
import { focusAfterRender } from './focus-moves.js';
import { forgetMutes, stopSavingMutes } from './notifications.js';

/**
 * Signing out of a shared browser, in every tab of it (docs/architecture.md, "The page", "Sign-out across tabs").
 * "Sign out" forgets this user's drafts, mutes and outbox on this browser before the browser goes to the
 * sign-out, asking first when messages are not sent yet (in this tab or kept by another), and tells the other
 * tabs (../state/browser-session.js). A tab told that its person signed out stops its link at once and keeps
 * nothing either, not even what its message box held: the person chose to sign out. A tab told that another
 * account signed in on the browser stops its link too and writes nothing more, but leaves what it kept for its
 * person's next visit, as a session that expired does.
 * @param {{
 *   me: string,
 *   draftKey: string,
 *   signIn: boolean,
 *   actions: {
 *     forgetUnsent: () => Promise<void>,
 *     stopUnsent: () => void,
 *     unsentOnBrowser: () => Promise<number>,
 *   },
 *   composer: { readonly value: { discard: () => void } | null },
 *   stopWarning: () => void,
 *   endLink: (refusal: import('../link/refusal.js').Refusal) => void,
 * }} options `signIn`: the page has sign-in (`auth: 'entra'`); `stopWarning` drops the page's warning before it
 *   is closed; `endLink` stops the link for good with a refusal.
 */
export function useSignOut({ me, draftKey, signIn, actions, composer, stopWarning, endLink }) {
  /** With messages not sent yet, how many the sign-out asks about before discarding them (0: not asking). */
  const signOutAsk = ref(0);
  const signingOut = ref(false);
  const session = signIn ? watchBrowserSession(me, { onEnded }) : null;
  onBeforeUnmount(() => session?.stop());

  async function forgetEverything() {
    forgetDrafts(draftKey);
    forgetMutes(me);
    await actions.forgetUnsent();
  }

  /**
   * Signs out, without leaving this user's data behind. Messages not sent yet are discarded only once the
   * person said so (asked in the page).
   * @param {{ discard?: boolean }} [options]
   */
  async function signOut({ discard = false } = {}) {
    if (signingOut.value) return;
    const waiting = await actions.unsentOnBrowser();
    if (waiting > 0 && !discard) {
      signOutAsk.value = waiting;
      // The focus on the answer that changes nothing, as every question of the page.
      void focusAfterRender('.sign-out-ask [data-safe-answer]');
      return;
    }
    signingOut.value = true;
    signOutAsk.value = 0;
    session?.signedOut();
    await forgetEverything();
    stopWarning();
    window.location.assign(SIGN_OUT_PATH);
  }

  /** "Keep" (or Escape): nothing is discarded, and the focus goes back to "Sign out". */
  function keepUnsent() {
    signOutAsk.value = 0;
    void focusAfterRender('a.sign-out');
  }

  /** @param {import('../state/browser-session.js').SessionEnd} end */
  function onEnded(end) {
    endLink(endedElsewhere(end));
    stopWarning();
    signOutAsk.value = 0;
    if (end === 'sign-out') {
      void forgetEverything();
      composer.value?.discard();
      return;
    }
    stopSavingDrafts(draftKey);
    stopSavingMutes(me);
    actions.stopUnsent();
  }

  return { signOut, signOutAsk, keepUnsent };
}
