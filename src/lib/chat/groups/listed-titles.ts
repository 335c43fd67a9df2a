/**
 * The titles and kinds a user's list shows of their groups (docs/architecture.md, "My conversations"). A private
 * group's entry keeps its title, written when the member is listed and by every rename (groups.ts). A channel's
 * entry has none, since a rename cannot reach the lists of a channel's members (anyone joins one, and nothing
 * lists them): the welcome reads those records, as it must to show the current title after a reload, and takes
 * their kinds with them, so the page can mark a private group in the list before it opens it.
 */
import type { ConversationEntry, ConversationList, GroupRecordStore } from '../../conversations/index.js';
import { mapLimited } from '../../map-limited.js';
import { DEFAULT_MEMBER_WORK_CONCURRENCY } from './groups.js';

/**
 * `list` with each group entry given a title and a kind. An entry without a title gets its record's: one record
 * read per such entry (a channel, or a private group listed before entries kept titles), 16 at a time; a group
 * without a record (from before records, a public channel) keeps its name as its title, shown by the page. An
 * entry with a title and no kind (listed before entries kept kinds) is a private group's: only those keep titles.
 */
export async function withListedTitles(
  records: Pick<GroupRecordStore, 'read'>,
  list: ConversationList,
  concurrency = DEFAULT_MEMBER_WORK_CONCURRENCY,
): Promise<ConversationList> {
  const untitled = list.entries.filter(
    (e) => e.kind === 'group' && e.group !== undefined && e.title === undefined,
  );
  const read = new Map<string, Partial<Pick<ConversationEntry, 'title' | 'groupKind'>>>();
  await mapLimited(untitled, Math.max(1, concurrency), async (entry) => {
    const record = await records.read(entry.group as string);
    read.set(
      entry.conversation,
      record !== undefined ? { title: record.title, groupKind: record.kind } : { groupKind: 'channel' },
    );
  });
  return {
    ...list,
    entries: list.entries.map((e) => {
      if (e.kind !== 'group' || e.group === undefined) return e;
      const found = read.get(e.conversation);
      if (found !== undefined) return { ...e, ...found };
      return e.groupKind === undefined && e.title !== undefined ? { ...e, groupKind: 'private' } : e;
    }),
  };
}
