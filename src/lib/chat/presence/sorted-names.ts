/** Ordering of user names in the online list and its `after` cursors (docs/architecture.md, "Presence and group memberships"). */
/** Sorts by UTF-16 code units, as the page and `after` cursors do. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The index of the first element of `sorted` greater than `value`. */
export function upperBound(sorted: readonly string[], value: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] as string) <= value) low = mid + 1;
    else high = mid;
  }
  return low;
}
