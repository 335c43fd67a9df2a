/**
 * The daily bound on the groups one user creates, through the whole local stack with the default settings
 * (docs/architecture.md, "Private groups and channels"): creating channels and leaving each at once, as a
 * flood would, stops at the 20th; the 21st is refused with `too-many-groups-created` and when the next is
 * possible, a join of a name nobody uses is refused the same way, and another user still creates.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_GROUPS_CREATED_PER_DAY } from '../../src/lib/conversations/index.js';
import { SETTINGS } from '../../src/lib/settings.js';
import { ask, type ChatClient, errorCodeOf, type ReceivedEvent } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

// Enough commands that the command limit never answers in place of the bound under test.
const chat = useChatStack({ env: { CHAT_COMMAND_BURST: '100' } });
const { connect } = chat;

const about = (group: string) => (e: ReceivedEvent) =>
  (e.type === 'group' || e.type === 'system') && e.payload.group === group;
const left = (group: string) => (e: ReceivedEvent) =>
  e.type === 'system' && e.payload.kind === 'groupLeft' && e.payload.group === group;

const createChannel = (client: ChatClient, group: string) =>
  errorCodeOf(client, 'createGroup', { group, kind: 'channel', topic: `spam ${group}` }, about(group));

describe('groups one user creates in a day, over the whole stack', () => {
  it('has the documented default in the settings catalogue', () => {
    expect(Number(SETTINGS.maxGroupsCreatedPerDay.default)).toBe(DEFAULT_MAX_GROUPS_CREATED_PER_DAY);
    expect(DEFAULT_MAX_GROUPS_CREATED_PER_DAY).toBe(20);
  });

  it('refuses the 21st channel created and left within the day, while another user still creates', async () => {
    const spammer = await connect('gc-spammer', 'signalr');
    const other = await connect('gc-other', 'webpubsub');
    for (let i = 1; i <= DEFAULT_MAX_GROUPS_CREATED_PER_DAY; i++) {
      expect(await createChannel(spammer, `gc-spam-${i}`)).toBe('answered');
      // Leaving keeps the spammer far from the groups one may be in: only the daily bound stops them.
      expect(await errorCodeOf(spammer, 'leaveGroup', { group: `gc-spam-${i}` }, left(`gc-spam-${i}`))).toBe(
        'answered',
      );
    }
    const refused = await ask(
      spammer,
      'createGroup',
      { group: 'gc-spam-21', kind: 'channel' },
      (e) => e.type === 'error' || about('gc-spam-21')(e),
    );
    expect(refused.payload).toMatchObject({ code: 'too-many-groups-created', command: 'createGroup' });
    const until = Date.parse(String(refused.payload.until));
    // A day after the first creation, which was moments ago.
    expect(until).toBeGreaterThan(Date.now() + 23 * 60 * 60_000);
    expect(refused.payload.message).toContain(`the next one is possible at ${refused.payload.until}`);
    // Joining a name nobody uses would create a channel: refused too.
    expect(await errorCodeOf(spammer, 'joinGroup', { group: 'gc-spam-22' }, about('gc-spam-22'))).toBe(
      'too-many-groups-created',
    );
    // Joining a channel that exists creates nothing: still allowed.
    expect(await errorCodeOf(spammer, 'joinGroup', { group: 'gc-spam-1' }, about('gc-spam-1'))).toBe(
      'answered',
    );
    expect(await createChannel(other, 'gc-other-1')).toBe('answered');
    // Neither refused name was created: the other user takes one of them.
    expect(await createChannel(other, 'gc-spam-21')).toBe('answered');
  });
});
