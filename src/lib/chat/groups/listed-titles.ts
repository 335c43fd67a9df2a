/**
 * The titles a user's list shows of their groups (docs/architecture.md, "My conversations"). A private group's
 * entry keeps its title, written when the member is listed and by every rename (groups.ts). A channel's entry has
 * none, since a rename cannot reach the lists of a channel's members (anyone joins one, and nothing lists them):
 * the welcome reads those records, as it must to show the current title after a reload.
 */
import type { ConversationList, GroupRecordStore } from '../../conversations/index.js';
import { mapLimited } from '../../map-limited.js';
import { DEFAULT_MEMBER_WORK_CONCURRENCY } from './groups.js';

/**
 * `list` with each group entry that has no title given its record's title: one record read per such entry (a
 * channel, or a private group listed before entries kept titles), 16 at a time. A group without a record (from
 * before records) keeps its name as its title, shown by the page.
 */
export async function withListedTitles(
  records: Pick<GroupRecordStore, 'read'>,
  list: ConversationList,
  concurrency = DEFAULT_MEMBER_WORK_CONCURRENCY,
): Promise<ConversationList> {
  const untitled = list.entries.filter(
    (e) => e.kind === 'group' && e.group !== undefined && e.title === undefined,
  );
  if (untitled.length === 0) return list;
  const titles = new Map<string, string>();
  await mapLimited(untitled, Math.max(1, concurrency), async (entry) => {
    const record = await records.read(entry.group as string);
    if (record !== undefined) titles.set(entry.conversation, record.title);
  });
  return {
    ...list,
    entries: list.entries.map((e) => {
      const title = titles.get(e.conversation);
      return title === undefined ? e : { ...e, title };
    }),
  };
}
