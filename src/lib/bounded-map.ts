/**
 * Remembering at most a fixed number of entries in a `Map`. A `Map` iterates in insertion order, so re-inserting a
 * key makes it the newest and the first key is always the oldest: enough for the per-instance hints the chat keeps
 * (a forgotten entry is only asked for again, never wrong).
 * See docs/architecture.md, "Layers".
 */

/** Sets `key` as the newest entry of `map`, then forgets the oldest entries beyond `max`. */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= max) break;
    map.delete(oldest);
  }
}
