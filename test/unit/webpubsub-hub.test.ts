import { describe, expect, it } from 'vitest';
import {
  allows,
  type MemberConnection,
  memberSet,
  WebPubSubHubState,
  type WebPubSubOutbound,
} from '../../src/local/service/webpubsub/hub.js';

function member(
  hub: string,
  connectionId: string,
  userId?: string,
  groups: string[] = [],
): MemberConnection & {
  sent: WebPubSubOutbound[];
} {
  const sent: WebPubSubOutbound[] = [];
  return {
    connectionId,
    hub,
    userId,
    groups: memberSet(groups),
    roles: memberSet([]),
    sent,
    sendMessage: (message) => sent.push(message),
    closeConnection: () => {},
  };
}

const ids = (connections: Iterable<MemberConnection>): string[] =>
  [...connections].map((c) => c.connectionId).sort();

describe('the Web PubSub hub state', () => {
  it('finds connections by hub (case-insensitively), by user and by the groups they joined at connect', () => {
    const state = new WebPubSubHubState();
    state.add(member('Chat', 'a', 'alice', ['room']));
    state.add(member('chat', 'b', 'alice'));
    state.add(member('other', 'c', 'alice', ['room']));
    expect(ids(state.connections('CHAT'))).toEqual(['a', 'b']);
    expect(ids(state.userConnections('chat', 'alice'))).toEqual(['a', 'b']);
    expect(ids(state.userConnections('chat', 'Alice'))).toEqual([]);
    expect(ids(state.groupConnections('chat', 'room'))).toEqual(['a']);
    expect(state.connection('chat', 'c')).toBeUndefined();
  });

  it('adds and removes connections to groups, false for a connection it does not know', () => {
    const state = new WebPubSubHubState();
    const a = member('chat', 'a');
    state.add(a);
    expect(state.addToGroup('chat', 'a', 'g')).toBe(true);
    expect(a.groups.has('g')).toBe(true);
    expect(ids(state.groupConnections('chat', 'g'))).toEqual(['a']);
    expect(state.addToGroup('chat', 'missing', 'g')).toBe(false);
    expect(state.removeFromGroup('chat', 'a', 'g')).toBe(true);
    expect(a.groups.size).toBe(0);
    expect(ids(state.groupConnections('chat', 'g'))).toEqual([]);
    expect(state.removeFromGroup('chat', 'missing', 'g')).toBe(false);
  });

  it("adds a user's current connections to a group, and takes them out of one group or of all", () => {
    const state = new WebPubSubHubState();
    const a = member('chat', 'a', 'alice', ['x']);
    const b = member('chat', 'b', 'alice');
    state.add(a);
    state.add(b);
    state.add(member('chat', 'c', 'bob'));
    state.addUserToGroup('chat', 'alice', 'g');
    expect(ids(state.groupConnections('chat', 'g'))).toEqual(['a', 'b']);
    // A later connection of the user does not inherit the membership (Azure: the current connections only).
    state.add(member('chat', 'd', 'alice'));
    expect(ids(state.groupConnections('chat', 'g'))).toEqual(['a', 'b']);
    state.removeUserFromGroup('chat', 'alice', 'g');
    expect(ids(state.groupConnections('chat', 'g'))).toEqual([]);
    expect(ids(state.groupConnections('chat', 'x'))).toEqual(['a']);
    state.addUserToGroup('chat', 'alice', 'g');
    state.removeUserFromGroup('chat', 'alice');
    expect([...a.groups, ...b.groups]).toEqual([]);
  });

  it('forgets a removed connection everywhere, but not a newer one registered under the same id', () => {
    const state = new WebPubSubHubState();
    const old = member('chat', 'a', 'alice', ['g']);
    state.add(old);
    const newer = member('chat', 'a', 'alice', ['g']);
    state.add(newer);
    state.remove(old);
    expect(state.connection('chat', 'a')).toBe(newer);
    state.remove(newer);
    expect(state.connection('chat', 'a')).toBeUndefined();
    expect(ids(state.userConnections('chat', 'alice'))).toEqual([]);
    expect(ids(state.groupConnections('chat', 'g'))).toEqual([]);
  });

  it("grants and revokes Azure's role strings; an unscoped role covers every group, a scoped one its own", () => {
    const state = new WebPubSubHubState();
    const a = member('chat', 'a');
    state.add(a);
    expect(state.has('chat', 'a', 'sendToGroup', 'g')).toBe(false);
    expect(state.grant('chat', 'a', 'sendToGroup', 'g')).toBe(true);
    expect([...a.roles]).toEqual(['webpubsub.sendToGroup.g']);
    expect(state.has('chat', 'a', 'sendToGroup', 'g')).toBe(true);
    expect(state.has('chat', 'a', 'sendToGroup', 'h')).toBe(false);
    expect(state.has('chat', 'a', 'sendToGroup')).toBe(false);
    expect(state.grant('chat', 'a', 'joinLeaveGroup')).toBe(true);
    expect(state.has('chat', 'a', 'joinLeaveGroup', 'any')).toBe(true);
    expect(state.revoke('chat', 'a', 'sendToGroup', 'g')).toBe(true);
    expect(state.has('chat', 'a', 'sendToGroup', 'g')).toBe(false);
    expect(state.grant('chat', 'missing', 'sendToGroup')).toBe(false);
    expect(state.revoke('chat', 'missing', 'sendToGroup')).toBe(false);
    expect(state.has('chat', 'missing', 'joinLeaveGroup')).toBe(false);
    expect(allows(new Set(['webpubsub.joinLeaveGroup.a.b']), 'joinLeaveGroup', 'a.b')).toBe(true);
  });

  it('keeps the membership of connections that start with none apart: a change reaches only its connection', () => {
    const state = new WebPubSubHubState();
    const a = member('chat', 'a');
    const b = member('chat', 'b');
    state.add(a);
    state.add(b);
    state.addToGroup('chat', 'a', 'g');
    state.grant('chat', 'a', 'sendToGroup');
    expect([...a.groups]).toEqual(['g']);
    expect([...b.groups]).toEqual([]);
    expect(state.has('chat', 'b', 'sendToGroup')).toBe(false);
    state.removeFromGroup('chat', 'a', 'g');
    state.revoke('chat', 'a', 'sendToGroup');
    state.addToGroup('chat', 'b', 'h');
    expect([...a.groups]).toEqual([]);
    expect([...b.groups]).toEqual(['h']);
    expect(ids(state.groupConnections('chat', 'h'))).toEqual(['b']);
    expect(state.has('chat', 'a', 'sendToGroup')).toBe(false);
    expect(memberSet([]).size).toBe(0);
  });
});
