/**
 * Moderation's pure parts (docs/architecture.md, "Moderation"): command validation, the roles read from a
 * principal and carried in a claim, and the fold of a moderator's `remove` record by the server and the page.
 */
import { describe, expect, it } from 'vitest';
import { principalRoles } from '../../src/app/identity.js';
import { maxOpenReportsFromSettings } from '../../src/app/services.js';
import {
  chatRolesOf,
  DEFAULT_MAX_OPEN_REPORTS_PER_USER,
  decodeRoles,
  encodeRolesClaim,
  MAX_MUTE_MINUTES,
  MAX_REASON_LENGTH,
  MAX_REPORTS_CURSOR_LENGTH,
  parseCommand,
  SANCTIONED_COMMANDS,
  sanctionRefusal,
  type UserSanctions,
} from '../../src/lib/chat/index.js';
import { type ChatMessage, foldHistory } from '../../src/lib/history/index.js';
import { claimsOf, principalHeadersOf } from '../../src/local/functions-host/easy-auth.js';

const ID = '01J00000000000000000000001';
const message = (n: number, extra: Partial<ChatMessage> = {}): ChatMessage => ({
  id: `01J${String(n).padStart(23, '0')}`,
  conversation: 'room',
  from: 'ann',
  text: `m${n}`,
  sentAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  ...extra,
});

describe('moderation commands', () => {
  it('take what they need and nothing that could name a role or a record kind', () => {
    const parsed = parseCommand('removeMessage', {
      conversation: 'room',
      messageId: ID,
      reason: ' spam ',
      roles: ['admin'],
      kind: 'remove',
    });
    expect(parsed).toEqual({
      ok: true,
      command: { type: 'removeMessage', conversation: 'room', messageId: ID, reason: 'spam' },
    });
    const send = parseCommand('sendMessage', { text: 'hi', kind: 'remove', target: ID });
    expect(send).toEqual({ ok: true, command: { type: 'sendMessage', text: 'hi' } });
  });

  it('refuse bad durations, reasons, users and cursors with codes that say what to fix', () => {
    const code = (name: string, payload: object) => {
      const parsed = parseCommand(name, payload);
      return parsed.ok ? 'ok' : parsed.error.code;
    };
    expect(code('muteUser', { user: 'bob', minutes: 0 })).toBe('invalid-duration');
    expect(code('muteUser', { user: 'bob', minutes: MAX_MUTE_MINUTES + 1 })).toBe('invalid-duration');
    expect(code('muteUser', { user: 'bob', minutes: 1.5 })).toBe('invalid-duration');
    expect(code('muteUser', { user: 'bob', minutes: MAX_MUTE_MINUTES })).toBe('ok');
    expect(code('banUser', { user: 'bob', reason: 'x'.repeat(MAX_REASON_LENGTH + 1) })).toBe(
      'invalid-reason',
    );
    expect(code('banUser', { user: 'bob', reason: 'two\nlines' })).toBe('invalid-reason');
    // Control and format characters are taken out, as from a title: nothing reorders what moderators read.
    const reason = (name: string, payload: Record<string, unknown>) => {
      const parsed = parseCommand(name, payload);
      return parsed.ok && 'reason' in parsed.command ? parsed.command.reason : undefined;
    };
    expect(reason('banUser', { user: 'bob', reason: 'spam \u202Egnp.exe' })).toBe('spam gnp.exe');
    expect(reason('muteUser', { user: 'bob', minutes: 5, reason: 'a\u0000b\u001B[31mc' })).toBe('ab[31mc');
    expect(
      reason('reportMessage', { conversation: 'room', messageId: ID, reason: ' \u200B\u2066 ' }),
    ).toBeUndefined();
    expect(code('banUser', { user: 'a:b' })).toBe('invalid-user');
    expect(code('removeFromChannel', { user: 'bob', group: '' })).toBe('invalid-group');
    expect(code('resolveReport', { report: 'nope' })).toBe('invalid-report');
    expect(code('listAudit', { before: '' })).toBe('invalid-cursor');
    expect(code('listAudit', { before: '9999-99-99:1' })).toBe('invalid-cursor');
    expect(code('listAudit', { before: '2023-02-29:0' })).toBe('invalid-cursor');
    expect(code('listAudit', { before: '2026-01-01' })).toBe('invalid-cursor');
    expect(code('listAudit', { before: '2024-02-29:3' })).toBe('ok');
    expect(code('listAudit', { limit: 0 })).toBe('invalid-limit');
    expect(code('listReports', { after: '' })).toBe('invalid-cursor');
    expect(code('listReports', { after: 7 })).toBe('invalid-cursor');
    expect(code('listReports', { after: 'x'.repeat(MAX_REPORTS_CURSOR_LENGTH + 1) })).toBe('invalid-cursor');
    expect(code('listReports', { after: 'a token', limit: 2 })).toBe('ok');
    // The bound on one person's open reports: its setting's default is the store's.
    expect(maxOpenReportsFromSettings({})).toBe(DEFAULT_MAX_OPEN_REPORTS_PER_USER);
    expect(maxOpenReportsFromSettings({ CHAT_MAX_OPEN_REPORTS_PER_USER: '5' })).toBe(5);
    expect(() => maxOpenReportsFromSettings({ CHAT_MAX_OPEN_REPORTS_PER_USER: '0' })).toThrow(
      /CHAT_MAX_OPEN_REPORTS_PER_USER must be a whole number from 1 to 1000/,
    );
    expect(code('reportMessage', { conversation: 'nowhere', messageId: ID })).toBe('invalid-conversation');
  });
});

describe('what a muted or banned user may not do', () => {
  const caller = { user: 'eve', connectionId: 'c1', dialect: 'signalr' as const };
  const until = '2999-01-01T00:00:00.000Z';
  const storeOf = (state: UserSanctions) => {
    let reads = 0;
    return {
      store: {
        sanctionsOf: async () => {
          reads++;
          return state;
        },
      },
      reads: () => reads,
    };
  };
  const commands = {
    sendMessage: { type: 'sendMessage', text: 'hi', clientMessageId: 'c9' },
    editMessage: { type: 'editMessage', conversation: 'room', messageId: ID, text: 'x' },
    react: { type: 'react', conversation: 'room', messageId: ID, emoji: '👍' },
    reportMessage: { type: 'reportMessage', conversation: 'room', messageId: ID },
    createGroup: { type: 'createGroup', group: 'g', kind: 'channel', members: [], title: 'Loud' },
    addMember: { type: 'addMember', group: 'g', user: 'bob', owner: false },
    renameGroup: { type: 'renameGroup', group: 'g', title: 'Loud' },
    setTopic: { type: 'setTopic', group: 'g', topic: 'loud' },
  } as const;
  const allowed = [
    { type: 'deleteMessage', conversation: 'room', messageId: ID },
    { type: 'unreact', conversation: 'room', messageId: ID, emoji: '👍' },
    { type: 'removeMember', group: 'g', user: 'bob' },
    { type: 'leaveGroup', group: 'g' },
    { type: 'joinGroup', group: 'g' },
    { type: 'typing', conversation: 'room' },
    { type: 'loadHistory', conversation: 'room', limit: 50 },
    { type: 'markRead', conversation: 'room', messageId: ID },
    { type: 'listChannels', limit: 20 },
    { type: 'listMembers', group: 'g' },
  ] as const;

  it('refuses everything that adds to what others see, with the mute’s end or the ban', async () => {
    expect(Object.keys(commands).sort()).toEqual([...SANCTIONED_COMMANDS].sort());
    const muted = storeOf({ mute: { by: 'mona', at: until, until, reason: 'cool down' } }).store;
    const banned = storeOf({ ban: { by: 'mona', at: until, reason: 'spam' } }).store;
    for (const command of Object.values(commands)) {
      const mute = await sanctionRefusal(muted, caller, command);
      expect(mute, command.type).toMatchObject({ code: 'muted', command: command.type, until });
      expect(mute?.message).toContain(`it ends at ${until} (cool down)`);
      // What a mute leaves is what the server lets through: removing a member is taking back one's own.
      expect(mute?.message).toContain('remove members from a group you own, but not send');
      const ban = await sanctionRefusal(banned, caller, command);
      expect(ban, command.type).toMatchObject({ code: 'banned', command: command.type });
      expect(ban?.message).toContain('spam');
    }
    expect(await sanctionRefusal(muted, caller, commands.sendMessage)).toMatchObject({
      clientMessageId: 'c9',
    });
    expect(await sanctionRefusal(storeOf({}).store, caller, commands.react)).toBeUndefined();
  });

  it('lets them read, leave and take back their own, without a look-up of their state', async () => {
    const { store, reads } = storeOf({ mute: { by: 'mona', at: until, until } });
    for (const command of allowed)
      expect(await sanctionRefusal(store, caller, command), command.type).toBeUndefined();
    expect(reads()).toBe(0);
  });
});

describe('roles', () => {
  it('are read from the principal as Easy Auth lists them, unknown values dropped', () => {
    const user = {
      oid: '00000000-0000-8000-8000-000000000001',
      name: 'Mona',
      upn: 'mona@localhost',
      roles: ['Chat.Moderator'],
    };
    expect(claimsOf(user)).toContainEqual({ typ: 'roles', val: 'Chat.Moderator' });
    const header = principalHeadersOf(user)['x-ms-client-principal'] as string;
    expect(chatRolesOf(principalRoles(header))).toEqual(['moderator']);
    const withRoleType = Buffer.from(
      JSON.stringify({
        role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
        claims: [
          { typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', val: 'Chat.Admin' },
          { typ: 'roles', val: 'Chat.Moderator' },
          { typ: 'roles', val: 'constructor' },
          { typ: 'roles', val: '__proto__' },
        ],
      }),
    ).toString('base64');
    expect(chatRolesOf(principalRoles(withRoleType))).toEqual(['moderator', 'admin']);
    expect(principalRoles('not base64 json')).toEqual([]);
  });

  it('travel in a claim without commas and come back as they went', () => {
    const claim = encodeRolesClaim(['moderator', 'admin']);
    expect(claim).not.toContain(',');
    expect(decodeRoles(claim)).toEqual(['moderator', 'admin']);
    expect(decodeRoles('superuser moderator')).toEqual(['moderator']);
    expect(decodeRoles(undefined)).toEqual([]);
  });
});

describe("a moderator's remove record", () => {
  const page = (path: string) => import(new URL(`../../static/${path}`, import.meta.url).href);

  it('deletes the message whoever wrote the record, while a delete by someone else stays ignored', async () => {
    const target = message(1);
    const other = message(2);
    const lines = [
      target,
      other,
      message(3, { from: 'mona', text: '', kind: 'remove', target: target.id }),
      message(4, { from: 'eve', text: '', kind: 'delete', target: other.id }),
    ];
    const folded = foldHistory(lines);
    expect(folded).toEqual([{ ...target, text: '', deleted: true, removed: true }, other]);
    // The page folds them the same way.
    const state = { ...(await page('state/chat-state.js')).createChatState('bob') };
    const { foldLines } = await page('state/message-changes.js');
    expect(foldLines(state, lines)).toEqual(folded);
  });
});

describe('open reports on the page', () => {
  it('show a new report first, and one another person joined once, with its reporters, in the place it had', async () => {
    const { applyModerationEvent, createModerationState } = await import(
      new URL('../../static/state/moderation.js', import.meta.url).href
    );
    const mod = createModerationState();
    const first = { id: ID, messageId: ID, conversation: 'room', reporter: 'ann', text: 'spam' };
    const other = { ...first, id: '01J00000000000000000000002', messageId: '01J00000000000000000000002' };
    applyModerationEvent(mod, 'mona', 'report', first);
    applyModerationEvent(mod, 'mona', 'report', other);
    const joined = { ...first, alsoReportedBy: [{ user: 'bob', at: '2026-01-01T00:00:00.000Z' }] };
    applyModerationEvent(mod, 'mona', 'report', joined);
    expect(mod.reports).toEqual([other, joined]);
    // A repeat is refused with a notice the reporter reads.
    applyModerationEvent(mod, 'ann', 'error', { code: 'already-reported', message: 'You have reported it' });
    expect(mod.notice).toBe('You have reported it');
  });

  it('"More reports" asks for the page after the last one and adds it; a first page replaces them', async () => {
    const { applyModerationEvent, createModerationState, moreReportsPayload } = await import(
      new URL('../../static/state/moderation.js', import.meta.url).href
    );
    const report = (n: number) => ({
      id: `01J${String(n).padStart(23, '0')}`,
      reporter: 'ann',
      text: `r${n}`,
    });
    const mod = createModerationState();
    applyModerationEvent(mod, 'mona', 'reports', { reports: [report(9), report(8)], more: true, next: 'p2' });
    expect(moreReportsPayload(mod)).toEqual({ after: 'p2' });
    // The answer names the cursor it continues: its reports come after those shown.
    applyModerationEvent(mod, 'mona', 'reports', { reports: [report(7)], more: false, after: 'p2' });
    expect(mod.reports.map((r: { text: string }) => r.text)).toEqual(['r9', 'r8', 'r7']);
    expect(mod.reportsMore).toBe(false);
    expect(moreReportsPayload(mod)).toBe(null);
    // A first page (a moderator's arrival after a reload) replaces what was shown.
    applyModerationEvent(mod, 'mona', 'reports', { reports: [report(6)], more: false });
    expect(mod.reports.map((r: { text: string }) => r.text)).toEqual(['r6']);
  });
});

describe("a report's place on the page", () => {
  const load = async () => {
    const { createChatState } = await import(
      new URL('../../static/state/chat-state.js', import.meta.url).href
    );
    const { reportPlace } = await import(new URL('../../static/state/report-place.js', import.meta.url).href);
    const state = createChatState('mona', {});
    const names: Record<string, string> = { ann: 'Ann', bob: 'Bob', mona: 'Mona' };
    const place = (report: Record<string, unknown>) =>
      reportPlace(state, { author: 'ann', reporter: 'bob', ...report }, (id: string) => names[id] ?? id);
    return { state, place };
  };

  it('names a group by the title the page knows, else the one its members saw, else its name; never its id', async () => {
    const { state, place } = await load();
    expect(place({ conversation: 'group:standup' })).toMatchObject({ label: '#standup', open: false });
    expect(place({ conversation: 'group:standup', groupTitle: 'Daily', groupKind: 'private' })).toEqual({
      label: 'the private group Daily',
      open: false,
      why: 'Only the group’s members can open it.',
    });
    state.groupRecords.set('standup', { group: 'standup', kind: 'channel', title: 'Standup', version: 2 });
    expect(place({ conversation: 'group:standup', groupTitle: 'Daily', groupKind: 'private' })).toEqual({
      label: '#Standup',
      open: false,
      why: 'Join the channel to see it in place.',
    });
    state.groups.push('standup');
    expect(place({ conversation: 'group:standup' })).toMatchObject({ open: true, why: '' });
  });

  it('names a private conversation by its two people, and opens it only for one of them', async () => {
    const { place } = await load();
    // Its people are the report's author and reporter, named as the report names them.
    expect(place({ conversation: 'dm:ann:bob', authorName: 'Ann A.', reporterName: 'Bob B.' })).toEqual({
      label: 'the private conversation of Ann A. and Bob B.',
      open: false,
      why: 'Only its two people can open a private conversation.',
    });
    expect(place({ conversation: 'dm:ann:mona', reporter: 'mona' })).toEqual({
      label: 'your private conversation with Ann',
      open: true,
      why: '',
    });
    expect(place({ conversation: 'room' })).toEqual({ label: 'the room', open: true, why: '' });
  });
});

describe('the audit log and who is muted or banned, on the page', () => {
  const staticModule = (path: string) => import(new URL(`../../static/${path}`, import.meta.url).href);

  it('says each action in words, with the place and the names, never a command or an id', async () => {
    const { createChatState } = await staticModule('state/chat-state.js');
    const { auditWords, durationWords } = await staticModule('state/audit-words.js');
    const state = createChatState('mona', {});
    const names: Record<string, string> = { ann: 'Ann', bob: 'Bob', cy: 'Cy', mona: 'Mona' };
    const line = (entry: Record<string, unknown>) =>
      auditWords(
        state,
        { at: '2026-12-08T04:00:00.000Z', by: 'mona', ...entry },
        (id: string) => names[id] ?? id,
      )
        .map((p: { text: string }) => p.text)
        .join('');
    const until = '2026-12-08T05:00:00.000Z';
    expect(line({ action: 'muteUser', target: 'bob', until })).toMatch(
      /^Mona muted Bob for an hour \(until .+\)$/,
    );
    expect(line({ action: 'unmuteUser', target: 'bob' })).toBe('Mona lifted the mute of Bob');
    expect(line({ action: 'banUser', target: 'cy', reason: 'spam' })).toBe(
      'Mona banned Cy from the chat (spam)',
    );
    expect(line({ action: 'unbanUser', target: 'cy' })).toBe('Mona lifted the ban of Cy');
    expect(line({ action: 'removeFromChannel', target: 'cy', group: 'lobby' })).toBe(
      'Mona removed Cy from #lobby',
    );
    expect(line({ action: 'removeMessage', target: `dm:ann:bob ${ID}`, author: 'ann' })).toBe(
      'Mona deleted a message of Ann in the private conversation of Ann and Bob',
    );
    expect(line({ action: 'removeMessage', target: `room ${ID}` })).toBe(
      'Mona deleted a message in the room',
    );
    expect(line({ action: 'resolveReport', target: ID, reason: 'message deleted' })).toBe(
      'Mona resolved a report (message deleted)',
    );
    // Someone the page has no name for is named as the entry recorded them.
    expect(line({ by: 'dee', byName: 'Dee', action: 'unbanUser', target: 'cy' })).toBe(
      'Dee lifted the ban of Cy',
    );
    expect([1, 30, 120, 1440, 4320, 10_080].map(durationWords)).toEqual([
      'for a minute',
      'for 30 minutes',
      'for 2 hours',
      'for a day',
      'for 3 days',
      'for a week',
    ]);
  });

  it('keeps who is muted or banned up to date from each logged action, and leaves out a mute that has ended', async () => {
    const { applyModerationEvent, createModerationState, sanctionedAt } =
      await staticModule('state/moderation.js');
    const mod = createModerationState();
    applyModerationEvent(mod, 'mona', 'sanctions', {
      sanctions: [
        { user: 'bob', mute: { until: '2026-12-08T05:00:00.000Z', at: '2026-12-08T04:00:00.000Z' } },
      ],
      more: false,
    });
    const audited = (action: string, target: string, extra = {}) =>
      applyModerationEvent(mod, 'mona', 'audited', {
        entry: { at: '2026-12-08T04:10:00.000Z', by: 'dee', action, target, ...extra },
      });
    audited('banUser', 'cy');
    audited('banUser', 'bob');
    expect(mod.sanctions).toEqual([
      {
        user: 'bob',
        mute: { until: '2026-12-08T05:00:00.000Z', at: '2026-12-08T04:00:00.000Z' },
        ban: { at: '2026-12-08T04:10:00.000Z' },
      },
      { user: 'cy', ban: { at: '2026-12-08T04:10:00.000Z' } },
    ]);
    audited('unmuteUser', 'bob');
    audited('unbanUser', 'cy');
    audited('resolveReport', ID);
    expect(mod.sanctions).toEqual([{ user: 'bob', ban: { at: '2026-12-08T04:10:00.000Z' } }]);
    audited('muteUser', 'ann', { until: '2026-12-08T04:15:00.000Z' });
    expect(
      sanctionedAt(mod.sanctions, Date.parse('2026-12-08T04:20:00.000Z')).map(
        (s: { user: string }) => s.user,
      ),
    ).toEqual(['bob']);
    // The log shows a logged action first once loaded; a first page replaces it, an older page adds to it.
    applyModerationEvent(mod, 'mona', 'audit', { entries: [{ action: 'banUser' }], next: '2026-12-08:3' });
    audited('unbanUser', 'bob');
    expect(mod.audit.map((e: { action: string }) => e.action)).toEqual(['unbanUser', 'banUser']);
    applyModerationEvent(mod, 'mona', 'audit', { entries: [{ action: 'muteUser' }], before: '2026-12-08:3' });
    expect(mod.audit.map((e: { action: string }) => e.action)).toEqual(['unbanUser', 'banUser', 'muteUser']);
    applyModerationEvent(mod, 'mona', 'audit', { entries: [{ action: 'unbanUser' }] });
    expect(mod.audit.map((e: { action: string }) => e.action)).toEqual(['unbanUser']);
  });
});
