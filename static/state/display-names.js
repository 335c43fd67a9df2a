/**
 * Display names by user id (with sign-in a user id is not the name people know), kept in the state's `names`
 * Map: any id, `constructor` and `__proto__` included, is a key like any other.
 */
/** @typedef {import('./chat-state.js').ChatState} ChatState */

/**
 * Adds display names (by user id) to what the page knows; anything that is not a string pair is ignored.
 * @param {ChatState} state
 * @param {unknown} names
 */
export function rememberNames(state, names) {
  if (typeof names !== 'object' || names === null) return;
  // Own properties only (what JSON.parse made), so a user id like `__proto__` or `toString` is just a name.
  for (const [id, name] of Object.entries(names)) rememberName(state, id, name);
}

/**
 * Adds one display name; anything but a non-empty string is ignored.
 * @param {ChatState} state
 * @param {string} id
 * @param {unknown} name
 */
export function rememberName(state, id, name) {
  if (typeof name === 'string' && name !== '' && state.names.get(id) !== name) state.names.set(id, name);
}

/**
 * The name to show for a user id: its display name, followed by the start of the id when another known user
 * has the same display name (two people called Ann stay apart); the id itself without sign-in.
 * @param {ChatState} state
 * @param {string} id
 */
export function displayName(state, id) {
  const name = state.names.get(id);
  if (name === undefined) return id;
  const shared = [...state.names].some(([other, n]) => other !== id && n === name);
  return shared ? `${name} (${id.slice(0, 6)})` : name;
}
