/**
 * The titles and kinds a user's list shows of their groups (docs/architecture.md, "My conversations"). A private
 * group's entry keeps its title, written when the member is listed and by every rename (groups.ts). A channel's
 * entry has none, since a rename cannot reach the lists of a channel's members (anyone joins one, and nothing
 * lists them): the welcome reads those records, as it must to show the current title after a reload, and takes
 * their kinds with them, so the page can mark a private group in the list before it opens it. Each instance keeps
 * what it read for a short while ({@link ListedTitles}), so a user who reconnects again and again does not read
 * every channel's record each time (docs/capacity.md, "What one join, message and membership change cost, and
 * the CPU behind them").
 */

import type { ContainerClient } from '@azure/storage-blob';
import { setBounded } from '../../bounded-map.js';
import {
  type ConversationEntry,
  type ConversationList,
  type GroupChange,
  type GroupRecord,
  type GroupRecordOptions,
  GroupRecordStore,
} from '../../conversations/index.js';
import { mapLimited } from '../../map-limited.js';
import { DEFAULT_MEMBER_WORK_CONCURRENCY } from './groups.js';

/** What the list needs of a group's record: its title and kind. */
export type ListedTitle = Pick<GroupRecord, 'title' | 'kind'>;

/** Where the titles come from: the record store itself, or an instance's {@link ListedTitles}. */
export interface ListedTitleSource {
  /** The record's title and kind; `undefined` when the group has no record. */
  read(group: string): Promise<ListedTitle | undefined>;
}

/**
 * How long an instance shows the title and kind it read of a record before reading it again, in ms. A rename
 * reaches the pages of the group's members live (the `group` event); a page loaded within this time after a
 * rename, from an instance that read the record before it, may list a channel under its old title until then.
 */
export const DEFAULT_LISTED_TITLE_TTL_MS = 30_000;
/** Records whose title and kind an instance keeps at most; the one read longest ago is forgotten first. */
export const DEFAULT_MAX_LISTED_TITLES = 10_000;

/**
 * The titles and kinds of group records, as one instance read them (shared by all its invocations): a read
 * serves every welcome for {@link DEFAULT_LISTED_TITLE_TTL_MS}, and welcomes that need a record while it is
 * being read share that read. A failed read is not kept.
 */
export class ListedTitles implements ListedTitleSource {
  readonly #records: { read(group: string): Promise<ListedTitle | undefined> };
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #kept = new Map<
    string,
    { readonly at: number; readonly title: Promise<ListedTitle | undefined> }
  >();

  constructor(
    records: { read(group: string): Promise<ListedTitle | undefined> },
    options: { ttlMs?: number; maxGroups?: number; now?: () => number } = {},
  ) {
    this.#records = records;
    this.#ttlMs = options.ttlMs ?? DEFAULT_LISTED_TITLE_TTL_MS;
    this.#max = options.maxGroups ?? DEFAULT_MAX_LISTED_TITLES;
    this.#now = options.now ?? Date.now;
  }

  /** A record this instance wrote: its title and kind are shown from now on, for as long as a read's. */
  learn(record: GroupRecord): void {
    const title = Promise.resolve({ title: record.title, kind: record.kind });
    setBounded(this.#kept, record.group, { at: this.#now(), title }, this.#max);
  }

  read(group: string): Promise<ListedTitle | undefined> {
    const at = this.#now();
    const kept = this.#kept.get(group);
    if (kept !== undefined && at - kept.at < this.#ttlMs) return kept.title;
    // Only the title and kind are kept, not the record's member lists.
    const title = this.#records
      .read(group)
      .then((record) => (record === undefined ? undefined : { title: record.title, kind: record.kind }));
    const entry = { at, title };
    setBounded(this.#kept, group, entry, this.#max);
    title.catch(() => {
      if (this.#kept.get(group) === entry) this.#kept.delete(group);
    });
    return title;
  }
}

/**
 * An instance's record store whose {@link ListedTitles} learn every record it writes: a rename made on this
 * instance shows in its next welcome at once, one made on another instance within the titles' time.
 */
export class TitledGroupRecordStore extends GroupRecordStore {
  readonly titles: ListedTitles;

  constructor(
    container: ContainerClient,
    options: GroupRecordOptions & { readonly titles?: ConstructorParameters<typeof ListedTitles>[1] } = {},
  ) {
    super(container, options);
    this.titles = new ListedTitles(this, options.titles);
  }

  override async create(record: Parameters<GroupRecordStore['create']>[0]): Promise<GroupRecord> {
    const created = await super.create(record);
    this.titles.learn(created);
    return created;
  }

  override async change(...args: Parameters<GroupRecordStore['change']>): Promise<GroupChange> {
    const result = await super.change(...args);
    if (result.changed) this.titles.learn(result.record);
    return result;
  }
}

/**
 * `list` with each group entry given a title and a kind. An entry without a title gets its record's: one record
 * from `records` per such entry (a channel, or a private group listed before entries kept titles), 16 at a time,
 * which an instance's {@link ListedTitles} answers without a read for a while; a group
 * without a record (from before records, a public channel) keeps its name as its title, shown by the page. An
 * entry with a title and no kind (listed before entries kept kinds) is a private group's: only those keep titles.
 */
export async function withListedTitles(
  records: ListedTitleSource,
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
