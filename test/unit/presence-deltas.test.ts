import { describe, expect, it } from 'vitest';
import { type PresenceChanges, PresenceDeltas } from '../../src/lib/chat/presence/deltas.js';

describe('presence deltas carry the display names the instance had at hand', () => {
  it('sends one batch with the names of the users in it, and none when no one in it has one', async () => {
    const deltas = new PresenceDeltas({ windowMs: 1 });
    const sent: PresenceChanges[] = [];
    const send = async (changes: PresenceChanges) => {
      sent.push(changes);
    };
    await Promise.all([
      deltas.announce({ joined: ['a1'], names: { a1: 'Ann' } }, send),
      deltas.announce({ joined: ['a2'], names: { a2: 'Ann' } }, send),
      deltas.announce({ joined: ['bob'] }, send),
      deltas.announce({ left: ['a1'], names: { a1: 'Ann' } }, send),
    ]);
    await deltas.announce({ joined: ['cat'] }, send);
    expect(sent).toEqual([
      { joined: ['a2', 'bob'], left: ['a1'], names: { a1: 'Ann', a2: 'Ann' } },
      { joined: ['cat'], left: [] },
    ]);
  });

  it('keeps users named like Object.prototype members as own keys of the names', async () => {
    const deltas = new PresenceDeltas({ windowMs: 1 });
    const sent: PresenceChanges[] = [];
    const names = Object.create(null) as Record<string, string>;
    for (const user of ['__proto__', 'constructor', 'toString']) names[user] = `Name of ${user}`;
    await deltas.announce({ joined: ['__proto__', 'constructor', 'toString'], names }, async (changes) => {
      sent.push(changes);
    });
    const delta = sent[0]?.names ?? {};
    expect(Object.keys(delta).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.getOwnPropertyDescriptor(delta, '__proto__')?.value).toBe('Name of __proto__');
    expect(JSON.parse(JSON.stringify(delta))).toEqual(
      JSON.parse(
        '{"__proto__":"Name of __proto__","constructor":"Name of constructor","toString":"Name of toString"}',
      ),
    );
  });
});
