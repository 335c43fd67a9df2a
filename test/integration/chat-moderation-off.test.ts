/**
 * Moderation without sign-in (`CHAT_AUTH=none`, the demo mode): no roles exist, the welcome says moderation is
 * off, and every moderation command, reports included, is refused with `moderation-off`.
 */
import { describe, expect, it } from 'vitest';
import { isMessage } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const chat = useChatStack();

describe('moderation in the demo mode (CHAT_AUTH=none)', () => {
  for (const dialect of ['signalr', 'webpubsub'] as const) {
    it(`says moderation is off and refuses its commands (${dialect})`, async () => {
      const client = await chat.connect(`mod-${dialect}`, dialect);
      expect(client.events.find((e) => e.type === 'welcome')?.payload.moderation).toEqual({
        enabled: false,
        roles: [],
      });
      await client.send('sendMessage', { text: `demo ${dialect}` });
      const sent = await client.waitFor(isMessage(`demo ${dialect}`));
      for (const [command, payload] of [
        ['reportMessage', { conversation: 'room', messageId: sent.payload.id }],
        ['removeMessage', { conversation: 'room', messageId: sent.payload.id }],
        ['muteUser', { user: 'someone', minutes: 1 }],
        ['listAudit', {}],
      ] as const) {
        const at = client.events.length;
        await client.send(command, payload);
        const refused = await client.waitFor((e) => e.type === 'error' && e.payload.command === command, at);
        expect(refused.payload.code).toBe('moderation-off');
        expect(String(refused.payload.message)).toContain('without sign-in');
      }
    });
  }
});
