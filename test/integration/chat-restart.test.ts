import { describe, expect, it } from 'vitest';
import { isMessage, welcomeOf as welcome } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const chat = useChatStack();
const { connect } = chat;

describe('restarts', () => {
  it('history, presence and groups are right after restarting the Functions host, then the local service', async () => {
    const ann = await connect('ann', 'signalr');
    const bob = await connect('bob', 'webpubsub');
    await ann.send('joinGroup', { group: 'team' });
    await ann.waitFor((e) => e.type === 'system' && e.payload.kind === 'groupJoined');
    await bob.send('joinGroup', { group: 'team' });
    await bob.waitFor((e) => e.type === 'system' && e.payload.kind === 'groupJoined');
    await ann.send('sendMessage', { text: 'before restarts' });
    await bob.waitFor(isMessage('before restarts'));
    await bob.send('sendMessage', { text: 'team before restarts', group: 'team' });
    await ann.waitFor(isMessage('team before restarts'));

    // 1. A fresh Functions host: nothing was kept in its memory.
    await chat.stack.restartFunctions();
    const cat = await connect('cat', 'webpubsub');
    expect(welcome(cat).online).toEqual(['ann', 'bob', 'cat']);
    expect(welcome(cat).history.messages.map((m) => m.text)).toEqual(['before restarts']);
    await ann.send('sendMessage', { text: 'team after host restart', group: 'team' });
    await bob.waitFor(isMessage('team after host restart'));
    await cat.close();
    await ann.waitFor((e) => e.type === 'presence' && (e.payload.left as string[]).includes('cat'));

    // 2. A fresh local service: every connection is closed, group memberships in the service are gone.
    await chat.stack.restartService();
    await Promise.all([ann.closed, bob.closed]);
    const ann2 = await connect('ann', 'webpubsub');
    expect(welcome(ann2).groups).toEqual(['team']);
    expect(welcome(ann2).online).toEqual(['ann']);
    expect(welcome(ann2).history.messages.map((m) => m.text)).toEqual(['before restarts']);
    const bob2 = await connect('bob', 'signalr');
    expect(welcome(bob2).online).toEqual(['ann', 'bob']);
    await ann2.waitFor((e) => e.type === 'presence' && (e.payload.joined as string[]).includes('bob'));
    // Memberships were re-applied on entry, so the group reaches both again.
    await bob2.send('sendMessage', { text: 'team after service restart', group: 'team' });
    await ann2.waitFor(isMessage('team after service restart'));
    const from = ann2.events.length;
    await ann2.send('loadHistory', { conversation: 'group:team' });
    const page = (await ann2.waitFor((e) => e.type === 'history', from)).payload as {
      messages: { text: string }[];
    };
    expect(page.messages.map((m) => m.text)).toEqual([
      'team before restarts',
      'team after host restart',
      'team after service restart',
    ]);
  });
});
