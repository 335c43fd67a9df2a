/**
 * The refusals of a group in the words people see it by (docs/architecture.md, "Private groups and channels"):
 * its title rather than its name, and what to do next: join a channel, ask an owner of a private group. A
 * refusal reads the group's record only when it refuses, so a member's reads and sends cost nothing more.
 */
import type { GroupRecord, GroupRecordStore } from '../../conversations/index.js';
import { CHAT_ERRORS, type ChatErrorPayload } from '../errors.js';

/** The records a refusal names its group by; without them it names none. */
export type RecordsToName = Pick<GroupRecordStore, 'read'> | undefined;

/**
 * The group's record to word a refusal with: `undefined` when it has none, `null` when it could not be read
 * (the refusal then keeps the catalogue's words rather than fail for it).
 */
export async function recordToName(
  records: Pick<GroupRecordStore, 'read'>,
  group: string,
): Promise<GroupRecord | undefined | null> {
  return records.read(group).catch(() => null);
}

/**
 * `not-a-member` for `command` on `group`, naming the group by its title and saying what to do: a private
 * group's owners add its members, anyone joins a channel (a group without a record is a channel from before
 * records).
 */
export async function notAMember(
  records: RecordsToName,
  command: string,
  group: string,
): Promise<ChatErrorPayload> {
  const record = records === undefined ? null : await recordToName(records, group);
  if (record === null) return { code: 'not-a-member', message: CHAT_ERRORS['not-a-member'], command };
  return notAMemberOf(record, command, group);
}

/** `not-a-member` worded from the group's record (`undefined`: a channel from before records). */
export function notAMemberOf(
  record: GroupRecord | undefined,
  command: string,
  group: string,
): ChatErrorPayload {
  const title = record?.title ?? group;
  const message =
    record?.kind === 'private'
      ? `You are not a member of the private group "${title}": only its owners can add you`
      : `You are not in the channel "${title}": join it to read and write there`;
  return { code: 'not-a-member', message, command };
}
