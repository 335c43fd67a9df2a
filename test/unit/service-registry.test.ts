import { describe, expect, it } from 'vitest';
import {
  DEFAULT_USER_GROUP_TTL_SECONDS,
  HubRegistry,
  type RegisteredConnection,
} from '../../src/local/service/connections.js';

function connection(id: string, userId?: string): RegisteredConnection {
  return { id, hub: 'chat', userId, deliver: () => {}, close: () => {} };
}

function ids(members: Iterable<RegisteredConnection>): string[] {
  return [...members].map((c) => c.id).sort();
}

describe('HubRegistry group memberships', () => {
  it('ends a user membership after its ttl, and after a year without one', () => {
    let now = 1_000_000;
    const registry = new HubRegistry(() => now);
    registry.add(connection('a', 'ann'));
    registry.addUserToGroup('short', 'ann', 10);
    registry.addUserToGroup('long', 'ann');
    now += 9_999;
    expect(registry.isUserInGroup('short', 'ann')).toBe(true);
    now += 1;
    expect(registry.isUserInGroup('short', 'ann')).toBe(false);
    expect(registry.hasGroup('short')).toBe(false);
    now += DEFAULT_USER_GROUP_TTL_SECONDS * 1000 - 10_001;
    expect(ids(registry.groupMembers('long'))).toEqual(['a']);
    now += 1;
    expect(ids(registry.groupMembers('long'))).toEqual([]);
  });

  it('ttl 0 adds only the connections the user has now', () => {
    const registry = new HubRegistry();
    registry.add(connection('a', 'ann'));
    registry.addUserToGroup('g', 'ann', 0);
    registry.add(connection('b', 'ann'));
    expect(ids(registry.groupMembers('g'))).toEqual(['a']);
    expect(registry.isUserInGroup('g', 'ann')).toBe(true);
  });

  it('removes a connection from one group (false when it was not in it) or from all', () => {
    const registry = new HubRegistry();
    registry.add(connection('a', 'ann'));
    registry.addConnectionToGroup('g', 'a');
    registry.addConnectionToGroup('h', 'a');
    expect(registry.removeConnectionFromGroup('g', 'a')).toBe(true);
    expect(registry.removeConnectionFromGroup('g', 'a')).toBe(false);
    expect(registry.hasGroup('h')).toBe(true);
    registry.removeConnectionFromAllGroups('a');
    expect(registry.hasGroup('h')).toBe(false);
  });
});
