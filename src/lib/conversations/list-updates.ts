/**
 * The changes the chat makes to users' lists, each followed by the new list for every connection of its user
 * when it changed (docs/architecture.md, "My conversations").
 */
import { groupConversation } from '../conversation.js';
import type { ConversationEntry, ConversationList } from './entry.js';
import { type ConversationErrorCode, ConversationListError } from './errors.js';
import type { GroupKind } from './group-records.js';
import type { ConversationListStore, ListChange } from './list-store.js';

/** A user as a list entry names them: the id, and the display name when it differs. */
export interface ListedUser {
  readonly user: string;
  readonly name?: string | undefined;
}

/** What a group's entry says of it beside its name, when the record is at hand (entry.ts). */
export interface ListedGroup {
  readonly groupKind?: GroupKind;
  /** A private group's title (a channel's entry keeps none). */
  readonly title?: string;
}

export class ListUpdates {
  readonly #lists: Pick<ConversationListStore, 'add' | 'remove' | 'retitle'>;
  readonly #notify: (user: string, list: ConversationList) => Promise<void>;

  /** `notify` sends a changed list to the user's connections. */
  constructor(
    lists: Pick<ConversationListStore, 'add' | 'remove' | 'retitle'>,
    notify: (user: string, list: ConversationList) => Promise<void>,
  ) {
    this.#lists = lists;
    this.#notify = notify;
  }

  /**
   * Lists the private conversation of `a` and `b` for both (once known on this instance, at no cost). Returns
   * the code of a refusal; a storage failure throws.
   */
  async direct(
    a: ListedUser,
    b: ListedUser,
    conversation: string,
    addedAt: string,
  ): Promise<ConversationErrorCode | undefined> {
    const entry = (other: ListedUser): ConversationEntry => ({
      conversation,
      kind: 'dm',
      with: other.user,
      ...(other.name !== undefined && other.name !== other.user ? { withName: other.name } : {}),
      addedAt,
    });
    const refused = await Promise.all([
      this.change(a.user, () => this.#lists.add(a.user, entry(b))),
      b.user !== a.user ? this.change(b.user, () => this.#lists.add(b.user, entry(a))) : undefined,
    ]);
    return refused.find((code) => code !== undefined);
  }

  /**
   * Lists a group for `user`, with what `listed` knows of it: its kind, and a private group's title, which its
   * renames keep current. `list-full` when the list holds only groups and no room is left.
   */
  joinGroup(
    user: string,
    group: string,
    addedAt: string,
    listed: ListedGroup = {},
  ): Promise<ConversationErrorCode | undefined> {
    const entry: ConversationEntry = {
      conversation: groupConversation(group),
      kind: 'group',
      group,
      ...(listed.title !== undefined ? { title: listed.title } : {}),
      ...(listed.groupKind !== undefined ? { groupKind: listed.groupKind } : {}),
      addedAt,
    };
    return this.change(user, () => this.#lists.add(user, entry));
  }

  /** Shows a private group's new title in `user`'s list (a list without the group is left as it is). */
  retitleGroup(user: string, group: string, title: string): Promise<ConversationErrorCode | undefined> {
    return this.change(user, () => this.#lists.retitle(user, groupConversation(group), title));
  }

  leaveGroup(user: string, group: string): Promise<ConversationErrorCode | undefined> {
    return this.change(user, () => this.#lists.remove(user, groupConversation(group)));
  }

  /**
   * The same changes, with each changed list held until `send` (in the order they were made): for a change
   * that the list must not announce before what it stands for is in effect (a join's membership: a page takes
   * a group new to its list as joined, docs/architecture.md, "My conversations").
   */
  holding(): { readonly updates: ListUpdates; send(): Promise<void> } {
    const held: [string, ConversationList][] = [];
    const updates = new ListUpdates(this.#lists, async (user, list) => {
      held.push([user, list]);
    });
    return {
      updates,
      send: async () => {
        for (const [user, list] of held.splice(0)) await this.#notify(user, list);
      },
    };
  }

  /** Runs one change of `user`'s list and sends the list on when it changed; returns a refusal's code. */
  async change(user: string, run: () => Promise<ListChange>): Promise<ConversationErrorCode | undefined> {
    let result: ListChange;
    try {
      result = await run();
    } catch (error) {
      if (error instanceof ConversationListError) return error.code;
      throw error;
    }
    if (result.changed) await this.#notify(user, result.list);
    return undefined;
  }
}
