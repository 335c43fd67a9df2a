/** The page's conversation in its address (static/state/address.js). */
import { describe, expect, it } from 'vitest';

const address: {
  fragmentOf(id: string): string;
  conversationOfFragment(fragment: string, me: string): string | undefined;
} = await import(new URL('../../static/state/address.js', import.meta.url).href);

describe('the conversation in the address', () => {
  it('writes the room as no fragment and the others as their id, percent-encoded but for ":"', () => {
    expect(address.fragmentOf('room')).toBe('');
    expect(address.fragmentOf('group:team')).toBe('#group:team');
    expect(address.fragmentOf('group:Café plans')).toBe('#group:Caf%C3%A9%20plans');
    expect(address.fragmentOf('dm:ann:bob')).toBe('#dm:ann:bob');
  });

  it('reads back what it wrote, and what a browser writes for a typed address', () => {
    for (const id of ['group:team', 'group:Café plans', 'group:東京', 'dm:ann:bob', 'group:__proto__'])
      expect(address.conversationOfFragment(address.fragmentOf(id), 'ann')).toBe(id);
    expect(address.conversationOfFragment('#group%3Ateam', 'ann')).toBe('group:team');
    expect(address.conversationOfFragment('#group:caf%c3%a9', 'ann')).toBe('group:café');
  });

  it('names nothing for no fragment, a malformed one, no conversation, or a private conversation of others', () => {
    for (const fragment of ['', '#', '#%E0%A4%A', '#nonsense', '#group:..', '#group:a/b', '#dm:bob:ann'])
      expect(address.conversationOfFragment(fragment, 'ann'), fragment).toBeUndefined();
    expect(address.conversationOfFragment('#room', 'ann')).toBe('room');
    expect(address.conversationOfFragment('#dm:bob:cy', 'ann')).toBeUndefined();
    expect(address.conversationOfFragment('#dm:bob:cy', 'cy')).toBe('dm:bob:cy');
  });
});
