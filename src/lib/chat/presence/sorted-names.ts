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

/**
 * One page's candidates: up to `limit` names of `sorted` after the cursor `after`, with `extra` (a name not in
 * `sorted`) where it sorts, without copying `sorted`; `more` when names are left after the page.
 */
export function pageOf(
  sorted: readonly string[],
  { after, extra, limit }: { after?: string | undefined; extra?: string | undefined; limit: number },
): { candidates: string[]; more: boolean } {
  let index = after === undefined ? 0 : upperBound(sorted, after);
  let extraPending = extra !== undefined && (after === undefined || extra > after);
  const candidates: string[] = [];
  while (candidates.length < limit) {
    const fromRoster = sorted[index];
    if (extraPending && (fromRoster === undefined || (extra as string) < fromRoster)) {
      candidates.push(extra as string);
      extraPending = false;
    } else if (fromRoster !== undefined) {
      candidates.push(fromRoster);
      index++;
    } else break;
  }
  return { candidates, more: index < sorted.length || extraPending };
}
