/**
 * Attachment reads are limited per user and minute (`CHAT_ATTACHMENT_READS_PER_MINUTE_PER_USER`), before the
 * read's membership check and Blob HEAD: one user opening files in a loop gets 429 with `Retry-After` and
 * costs nothing more, while another user's reads are served.
 */
import { describe, expect, it } from 'vitest';
import { useChatStack } from '../support/fixtures.js';

const READS = 5;
const chat = useChatStack({ env: { CHAT_ATTACHMENT_READS_PER_MINUTE_PER_USER: String(READS) } });

/** The read of a file that was never sent: 404 once the limit lets it through. */
function read(name: string): Promise<Response> {
  const query = new URLSearchParams({
    name,
    conversation: 'room',
    blob: 'room/01JABCDEFGHJKMNPQRSTVWXYZ0/a.png',
    type: 'image/png',
  });
  return fetch(`${chat.stack.functionsUrl}/api/attachments?${query}`, { redirect: 'manual' });
}

describe('attachment reads', () => {
  it('are limited per user and minute (429 with Retry-After), one user at a time', async () => {
    for (let i = 0; i < READS; i += 1) {
      const res = await read('looper');
      expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([
        404,
        'attachment-not-found',
      ]);
    }
    const refused = await read('looper');
    const answer = (await refused.json()) as { code: string; message: string };
    expect([refused.status, answer.code]).toEqual([429, 'too-many-attachment-reads']);
    expect(answer.message).toMatch(/Retry-After/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await read('calm')).status).toBe(404);
  });
});
