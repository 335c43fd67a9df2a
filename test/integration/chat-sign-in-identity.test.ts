/**
 * Sign-in in keyless mode, as deployed by default in Azure (`CHAT_AUTH=entra`, `SIGNALR_AUTH=identity`): the
 * service mints the client tokens (`:generateToken`), which cannot carry the display name, so the app names
 * the sender from the directory negotiate wrote.
 */
import { describe, expect, it } from 'vitest';
import { isMessage } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';
import { signIn } from '../support/sign-in.js';

const chat = useChatStack({ identity: true, env: { CHAT_AUTH: 'entra' } });

describe('sign-in with keyless SignalR', () => {
  it('names the sender by its display name without a token claim, and keeps ?name= out of it', async () => {
    const url = chat.stack.functionsUrl;
    const [annId, bobId] = await Promise.all([signIn(url, 'Ann Lee', 'ann'), signIn(url, 'Bob', 'bob')]);
    const ann = await chat.connect('bob', 'signalr', { headers: { cookie: annId.cookie } });
    const bob = await chat.connect('ann', 'signalr', { headers: { cookie: bobId.cookie } });
    expect(ann.events.find((e) => e.type === 'welcome')?.payload).toMatchObject({
      user: annId.userId,
      name: 'Ann Lee',
    });
    await ann.send('sendMessage', { text: 'keyless hello', to: bobId.userId });
    const seen = await bob.waitFor(isMessage('keyless hello'));
    expect(seen.payload).toMatchObject({ from: annId.userId, fromName: 'Ann Lee', to: bobId.userId });
  });
});

describe('moderation with keyless SignalR', () => {
  it('knows a moderator by the roles negotiate recorded (the token cannot carry them), and nobody else', async () => {
    const url = chat.stack.functionsUrl;
    const [modId, userId] = await Promise.all([
      signIn(url, 'Mona', 'mona', ['Chat.Moderator']),
      signIn(url, 'Ulf', 'ulf'),
    ]);
    const mod = await chat.connect('x', 'signalr', { headers: { cookie: modId.cookie } });
    const user = await chat.connect('x', 'signalr', { headers: { cookie: userId.cookie } });
    const welcome = (c: typeof mod) => c.events.find((e) => e.type === 'welcome')?.payload;
    expect(welcome(mod)?.moderation).toEqual({ enabled: true, roles: ['moderator'] });
    expect(welcome(user)?.moderation).toEqual({ enabled: true, roles: [] });
    await user.send('sendMessage', { text: 'keyless rude words' });
    const sent = await mod.waitFor(isMessage('keyless rude words'));
    const at = user.events.length;
    await user.send('removeMessage', { conversation: 'room', messageId: sent.payload.id });
    const refused = await user.waitFor(
      (e) => e.type === 'error' && e.payload.command === 'removeMessage',
      at,
    );
    expect(refused.payload.code).toBe('not-a-moderator');
    await mod.send('removeMessage', { conversation: 'room', messageId: sent.payload.id });
    const removed = await user.waitFor((e) => e.type === 'message' && e.payload.kind === 'remove');
    expect(removed.payload).toMatchObject({ target: sent.payload.id, by: modId.userId });
  });
});
