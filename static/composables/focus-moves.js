import { nextTick, onBeforeUnmount, onMounted } from '../vendor/vue.js';

/**
 * Where the keyboard focus goes when what holds it changes (docs/architecture.md, "Focus after an action"): an
 * action that takes away the control it was started from (a question answered, a member removed, a report
 * resolved, a drawer closed) puts the focus where the person goes on from, never back at the top of the page.
 */

/** Controls that can take the focus: enabled ones, links, and anything given a `tabindex`. */
const FOCUSABLE =
  'button:not([disabled]), a[href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]';

/**
 * Where the focus may go: an element, a CSS selector, a ref to an element, or a function that finds one.
 * @typedef {HTMLElement | string | { readonly value: HTMLElement | null | undefined } | (() => unknown) | null | undefined} FocusTarget
 */

/** @param {FocusTarget} target @returns {unknown} */
function find(target) {
  if (typeof target === 'function') return target();
  if (typeof target === 'string') return document.querySelector(target);
  if (target && !(target instanceof Element) && 'value' in target) return target.value;
  return target;
}

/** Whether the focus is nowhere: the page's body holds it (what held it was removed or hidden). */
export const focusIsLost = () => document.activeElement === null || document.activeElement === document.body;

/**
 * Focuses the first of `targets` that is on the page and can take the focus now; returns whether one did.
 * @param {FocusTarget[]} targets
 */
export function focusFirst(...targets) {
  for (const target of targets) {
    const el = find(target);
    if (!(el instanceof HTMLElement) || !el.isConnected || el.closest('[inert]')) continue;
    el.focus();
    if (document.activeElement === el) return true;
  }
  return false;
}

/**
 * {@link focusFirst} once Vue has rendered the change just made (the element to focus may only appear, or
 * become enabled, with it).
 * @param {FocusTarget[]} targets
 */
export async function focusAfterRender(...targets) {
  await nextTick();
  return focusFirst(...targets);
}

/** True when the last key or pointer the person used was a key (pressed on this page). */
let keyboardLast = false;
if (typeof document !== 'undefined') {
  document.addEventListener('keydown', () => (keyboardLast = true), true);
  document.addEventListener('pointerdown', () => (keyboardLast = false), true);
}
/**
 * Whether the person is using the keyboard: on a touch screen, focusing the message box would pop the
 * on-screen keyboard over what they came to read, but someone who got there with keys goes on with keys.
 */
export const usingKeyboard = () => keyboardLast;

/** @param {Element} el */
const controlsOf = (el) => /** @type {HTMLElement[]} */ ([...el.querySelectorAll(FOCUSABLE)]);

/**
 * Keeps the focus in the lists of `root` (`ul`/`ol` of `li` items) while their items change with the server's
 * answers: when the control that holds the focus leaves the page and nothing else took the focus, it goes to
 * the control now at its place in its item ("Remove" once "Make owner" went), else to the item now at the
 * removed one's place (the next one; the one before at the end), else to `fallback`.
 * @param {{ readonly value: HTMLElement | null }} root
 * @param {FocusTarget} [fallback]
 */
export function useFocusKeeper(root, fallback) {
  /** Where the focus was last in a list item: the control, its item and list, and their places. */
  let held =
    /** @type {{ control: HTMLElement, item: Element, list: Element, itemAt: number, controlAt: number } | null} */ (
      null
    );

  /** @param {FocusEvent} event */
  function onFocusIn(event) {
    const control = event.target;
    const item = control instanceof HTMLElement ? control.closest('li') : null;
    const list = item?.parentElement;
    if (!(control instanceof HTMLElement) || !item || !list || !root.value?.contains(list)) {
      held = null;
      return;
    }
    held = {
      control,
      item,
      list,
      itemAt: [...list.children].indexOf(item),
      controlAt: controlsOf(item).indexOf(control),
    };
  }
  /** @param {FocusEvent} event */
  function onFocusOut(event) {
    const from = held?.control;
    if (!from || (event.relatedTarget instanceof Node && root.value?.contains(event.relatedTarget))) return;
    // Focus taken elsewhere (a click, Tab) leaves the control on the page; one removed with its item does not.
    setTimeout(() => {
      if (held?.control === from && from.isConnected && document.activeElement !== from) held = null;
    });
  }

  function restore() {
    const h = /** @type {NonNullable<typeof held>} */ (held);
    held = null;
    if (h.item.isConnected) {
      const controls = controlsOf(h.item);
      if (focusFirst(controls[Math.min(h.controlAt, controls.length - 1)])) return;
    }
    const items = h.list.isConnected ? [...h.list.children] : [];
    const from = Math.min(h.itemAt, items.length - 1);
    const order = [...items.slice(from), ...items.slice(0, Math.max(from, 0)).reverse()];
    for (const item of order) {
      const controls = controlsOf(item);
      if (focusFirst(controls[Math.min(h.controlAt, controls.length - 1)])) return;
    }
    focusFirst(fallback);
  }

  const observer = new MutationObserver(() => {
    if (held && !held.control.isConnected && focusIsLost()) restore();
  });
  onMounted(() => {
    const el = root.value;
    if (!el) return;
    el.addEventListener('focusin', onFocusIn);
    el.addEventListener('focusout', onFocusOut);
    observer.observe(el, { childList: true, subtree: true });
  });
  onBeforeUnmount(() => observer.disconnect());
}
