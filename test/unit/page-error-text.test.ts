/**
 * What the page says for a refusal (static/state/chat-state.js, `applyError`), run in Node: the server's times
 * in the reader's own time, and a refusal for my mute, which the page's line about the mute already says, not
 * said a second time, while a refusal after the mute's end is shown as any other.
 */
import { describe, expect, it } from 'vitest';

interface Conversation {
  error: string | null;
}
interface State {
  conversations: Map<string, Conversation>;
  globalError: string | null;
}
const page = (path: string) => import(new URL(`../../static/${path}`, import.meta.url).href);
const chat: {
  createChatState(me: string): State;
  openConversation(state: State, id: string): Conversation;
  noteCommand(state: State, command: string, conversation: string): void;
  applyError(state: State, error: object): void;
  errorText(error: object): string;
} = await page('state/chat-state.js');
const format: { localTime(iso: string): string } = await page('text/format.js');

/** The server's refusal of a reaction for a mute that ends at `until`. */
const mutedReaction = (until: string) => ({
  code: 'muted',
  command: 'react',
  message: `A moderator has muted you: you cannot react: it ends at ${until}`,
  until,
});

describe('the page’s words for a refusal', () => {
  it('writes the server’s times in the reader’s own time', () => {
    const until = '2026-12-08T05:50:18.153Z';
    const text = chat.errorText({ code: 'banned', message: `Banned until ${until}` });
    expect(text).toBe(`Banned until ${format.localTime(until)}`);
    expect(text).not.toContain('2026-12-08T');
  });

  it('does not say a refusal for my mute again while the mute lasts, and says one after it as any other', () => {
    const state = chat.createChatState('bob');
    const room = chat.openConversation(state, 'room');
    chat.noteCommand(state, 'react', 'room');
    const later = new Date(Date.now() + 3_600_000).toISOString();
    chat.applyError(state, mutedReaction(later));
    expect([room.error, state.globalError]).toEqual([null, null]);

    // A mute the page takes as over (its clock ahead of the server's): the refusal is shown, in local time.
    const past = new Date(Date.now() - 1_000).toISOString();
    chat.applyError(state, mutedReaction(past));
    expect(room.error).toBe(
      `A moderator has muted you: you cannot react: it ends at ${format.localTime(past)}`,
    );
  });
});
