/**
 * Upload URLs per client address (docs/architecture.md, "Attachments"): names are free without sign-in, so a
 * caller who takes a new name for every upload is still bound by `CHAT_UPLOADS_PER_MINUTE_PER_ADDRESS`, answered
 * 429 `too-many-uploads` with `Retry-After`. Every request of the test comes from one address (this machine).
 */
import { describe, expect, it } from 'vitest';
import { useChatStack } from '../support/fixtures.js';

const PER_ADDRESS = 5;
const chat = useChatStack({ env: { CHAT_UPLOADS_PER_MINUTE_PER_ADDRESS: String(PER_ADDRESS) } });

function askUpload(name: string): Promise<Response> {
  return fetch(`${chat.stack.functionsUrl}/api/uploads?name=${encodeURIComponent(name)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ conversation: 'room', name: 'a.png', type: 'image/png', size: 10 }),
  });
}

describe('upload URLs from one address', () => {
  it('are refused past the per-address bound whatever name asks, with 429 and Retry-After', async () => {
    // One URL per fresh name: none of them is near the per-user limit (30).
    for (let i = 0; i < PER_ADDRESS; i += 1) {
      const res = await askUpload(`fresh${i}`);
      expect(res.status, await res.text()).toBe(200);
    }
    const refused = await askUpload(`fresh${PER_ADDRESS}`);
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as { code: string; message: string };
    expect(body.code).toBe('too-many-uploads');
    expect(body.message).toContain('Retry-After');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
