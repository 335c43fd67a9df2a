import { ROOM } from '../conversation.js';
import { conversationOfFragment, fragmentOf } from '../state/address.js';
import { onBeforeUnmount, watch } from '../vendor/vue.js';

/**
 * Keeps the open conversation in the page's address (docs/architecture.md, "The page"): a reload opens the
 * conversation that was open, the browser's Back and Forward go from one conversation to the one before, and a
 * copied address opens that conversation for whoever may read it (the server decides; a group I am not in
 * shows its Join button). Each opening adds a history entry; an address naming nothing the person can open
 * opens the room.
 * @param {{ activeId: string, me: string }} state
 * @param {(id: string) => void} open
 */
export function useConversationAddress(state, open) {
  // Opens what the address names; an address that names the room another way (`#room`, a private
  // conversation of others, no conversation at all) is rewritten to the room's, adding no history entry.
  const follow = () => {
    const id = conversationOfFragment(window.location.hash, state.me) ?? ROOM;
    if (id !== state.activeId) open(id);
    const fragment = fragmentOf(id);
    if (window.location.hash !== fragment) window.history.replaceState(null, '', addressWith(fragment));
  };
  follow();

  watch(
    () => state.activeId,
    (id) => {
      const fragment = fragmentOf(id);
      if (window.location.hash !== fragment) window.history.pushState(null, '', addressWith(fragment));
    },
  );
  window.addEventListener('popstate', follow);
  onBeforeUnmount(() => window.removeEventListener('popstate', follow));
}

/** This page's address with `fragment` (`''`: none). @param {string} fragment */
function addressWith(fragment) {
  return `${window.location.pathname}${window.location.search}${fragment}`;
}
