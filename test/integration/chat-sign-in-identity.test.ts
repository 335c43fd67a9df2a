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
