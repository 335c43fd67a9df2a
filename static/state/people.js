/**
 * The people search's answers (`people`, docs/architecture.md, "People"): a page asked for with `after` (the
 * previous page's `next`) adds to the people shown for the same query; any other answer replaces them.
 */

/**
 * @typedef {{ user: string, name?: string, lastSeen: string }} Person
 * @typedef {{ query: string, people: Person[], more: boolean, next?: string, after?: string }} PeoplePage
 */

/**
 * The people to show once `page` arrived after `shown`.
 * @param {PeoplePage | null} shown @param {PeoplePage} page @returns {PeoplePage}
 */
export function withPeoplePage(shown, page) {
  const people = Array.isArray(page.people) ? page.people : [];
  const more = typeof page.after === 'string' && shown !== null && shown.query === page.query;
  if (!more) return { ...page, people };
  const seen = new Set(shown.people.map((p) => p.user));
  return { ...page, people: [...shown.people, ...people.filter((p) => !seen.has(p.user))] };
}
