import { nextTick, onBeforeUnmount, onMounted, ref, watch } from '../vendor/vue.js';

/**
 * The conversations drawer on a phone: opening it moves focus into it, Escape or closing gives focus back to
 * the button that opened it.
 */
export function useDrawer() {
  const drawerOpen = ref(false);

  function closeDrawer() {
    drawerOpen.value = false;
    void nextTick(() => document.getElementById('menu-button')?.focus());
  }

  /** @param {KeyboardEvent} event */
  function onKeydown(event) {
    // An Escape that closed a list inside the drawer (a people picker's suggestions) was that list's.
    if (event.key === 'Escape' && drawerOpen.value && !event.defaultPrevented) closeDrawer();
  }
  watch(drawerOpen, (isOpen) => {
    if (isOpen)
      void nextTick(() =>
        /** @type {HTMLElement | null} */ (
          document.querySelector('#sidebar button, #sidebar input')
        )?.focus(),
      );
  });
  onMounted(() => document.addEventListener('keydown', onKeydown));
  onBeforeUnmount(() => document.removeEventListener('keydown', onKeydown));

  return { drawerOpen, closeDrawer };
}
