/**
 * Attachments in Chromium against the whole local stack (Azurite with CORS for the page, as npm start sets it):
 * ann (desktop) attaches an image in a private group, which uploads straight to Blob Storage and shows inline
 * for bob (phone, over Web PubSub), at its size and inside the column; a file shows as a download chip; a
 * refused type says why; eve, not a member, gets no image: the app refuses her the read URL; an image deleted by
 * retention says so in words. The sender sees the image from the file itself until the message is stored, and the
 * page asks the app for it only then.
 */
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { BlobServiceClient } from '@azure/storage-blob';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  createGroup,
  delivered,
  horizontalOverflow,
  type Person,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  send,
  sidebarButton,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

let chat: BrowserStack;
let ann: Person;
let bob: Person;
let eve: Person;

const shot = (person: Person, what: string) =>
  person.page.screenshot({
    path: join(SCREENSHOTS, `attachments-${what}-${person.name}-${person.phone ? 'phone' : 'desktop'}.png`),
    animations: 'disabled',
  });

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}
/** A real PNG of `width` × `height`: a diagonal gradient, so the screenshot shows it. */
function png(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) row.set([(x * 255) / width, 120, (y * 255) / height], 1 + x * 3);
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Picks a file with the composer's attach button's file input. */
async function attach(person: Person, name: string, mimeType: string, buffer: Buffer): Promise<void> {
  await person.page.getByTestId('attach-input').setInputFiles({ name, mimeType, buffer });
}

/** The delivered inline image of the open conversation with this file name. */
function image(person: Person, name: string): Locator {
  return person.page.locator(`.messages .msg:not(.pending) img.attachment-image[alt="${name}"]`);
}

/** Waits until the image has loaded and returns its natural and drawn sizes. */
async function loaded(locator: Locator) {
  await locator.waitFor({ timeout: SHOW_TIMEOUT_MS });
  await expect
    .poll(() => locator.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), {
      timeout: SHOW_TIMEOUT_MS,
    })
    .toBeGreaterThan(0);
  return locator.evaluate((img: HTMLImageElement) => ({
    natural: [img.naturalWidth, img.naturalHeight] as const,
    drawn: [img.getBoundingClientRect().width, img.getBoundingClientRect().height] as const,
  }));
}

beforeAll(async () => {
  chat = await startBrowserStack({ webPubSub: true });
  ann = await chat.open('ann');
  bob = await chat.open('bob', { phone: true, query: '?name=bob&service=webpubsub' });
  eve = await chat.open('eve');
  await Promise.all([ann, bob, eve].map((p) => waitConnected(p)));
});

afterAll(async () => {
  await chat?.stop();
});

describe('attachments in Chromium', () => {
  it('uploads an image that shows inline for a member on desktop and phone, at its aspect ratio', async () => {
    await createGroup(ann, 'Photos', 'bob');
    await send(ann, 'a picture follows');
    await attach(ann, 'sunset.png', 'image/png', png(800, 400));
    const atAnn = await loaded(image(ann, 'sunset.png'));
    expect(atAnn.natural).toEqual([800, 400]);
    // Bounded by the column (360 px at most here), its aspect ratio kept.
    expect(atAnn.drawn[0]).toBeLessThanOrEqual(360);
    expect(Math.abs(atAnn.drawn[0] / atAnn.drawn[1] - 2)).toBeLessThan(0.05);
    await shot(ann, 'image');

    await bob.page.locator('#menu-button').click();
    await sidebarButton(bob, /^Photos/).click();
    await delivered(bob, 'a picture follows').waitFor({ timeout: SHOW_TIMEOUT_MS });
    const atBob = await loaded(image(bob, 'sunset.png'));
    expect(atBob.natural).toEqual([800, 400]);
    expect(Math.abs(atBob.drawn[0] / atBob.drawn[1] - 2)).toBeLessThan(0.05);
    expect(await horizontalOverflow(bob)).toBe(0);
    await shot(bob, 'image');
  });

  it('shows a file as a download chip and says why a refused type is not sent', async () => {
    await attach(ann, 'notes.pdf', 'application/pdf', Buffer.from('%PDF-1.4\n%small\n'));
    const chip = ann.page.locator('.messages .msg:not(.pending) a.attachment-chip', { hasText: 'notes.pdf' });
    await chip.waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await chip.getAttribute('download')).not.toBeNull();
    await bob.page
      .locator('.messages .msg:not(.pending) a.attachment-chip', { hasText: 'notes.pdf' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });

    await attach(ann, 'page.html', 'text/html', Buffer.from('<script>alert(1)</script>'));
    const refusal = ann.page.getByTestId('upload-error');
    await refusal.waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await refusal.textContent()).toMatch(/page\.html was not sent: .*cannot be attached/);
    await shot(ann, 'refused-type');
    expect(await ann.page.locator('.messages').textContent()).not.toContain('page.html');
  });

  it('sends an image pasted into the message box, and one dropped on it', async () => {
    const bytes = [...png(120, 90)];
    for (const [how, name] of [
      ['paste', 'pasted.png'],
      ['drop', 'dropped.png'],
    ] as const) {
      await ann.page.locator('#composer-input').evaluate(
        (box, { how, name, bytes }) => {
          const data = new DataTransfer();
          data.items.add(new File([new Uint8Array(bytes)], name, { type: 'image/png' }));
          const init = { bubbles: true, cancelable: true };
          box.dispatchEvent(
            how === 'paste'
              ? new ClipboardEvent('paste', { ...init, clipboardData: data })
              : new DragEvent('drop', { ...init, dataTransfer: data }),
          );
        },
        { how, name, bytes },
      );
      expect((await loaded(image(ann, name))).natural).toEqual([120, 90]);
      expect((await loaded(image(bob, name))).natural).toEqual([120, 90]);
    }
  });

  it('shows the sender the image from the file until it is stored, and asks for it only then', async () => {
    // Another tab of ann's whose messages with a file wait on their way to the service until released.
    let holding = true;
    const held: (string | Buffer)[] = [];
    let toService: ((frame: string | Buffer) => void) | undefined;
    const tab = await chat.open('ann', {
      beforeLoad: ({ page }) =>
        page.routeWebSocket(/.*/, (socket) => {
          const service = socket.connectToServer();
          toService = (frame) => service.send(frame);
          socket.onMessage((frame) => {
            if (holding && String(frame).includes('"attachment"')) held.push(frame);
            else service.send(frame);
          });
          service.onMessage((frame) => socket.send(frame));
        }),
    });
    const reads: number[] = [];
    tab.page.on('response', (response) => {
      if (new URL(response.url()).pathname.endsWith('/attachments')) reads.push(response.status());
    });
    await waitConnected(tab);
    await sidebarButton(tab, /^Photos/).click();
    await delivered(tab, 'a picture follows').waitFor({ timeout: SHOW_TIMEOUT_MS });
    const readsBefore = reads.length;

    await attach(tab, 'held.png', 'image/png', png(300, 200));
    const pending = tab.page.locator('.messages .msg.pending img.attachment-image[alt="held.png"]');
    expect((await loaded(pending)).natural).toEqual([300, 200]);
    expect(await pending.getAttribute('src')).toMatch(/^data:image\//);
    expect(held.length).toBeGreaterThan(0);
    await shot(tab, 'pending-preview');

    holding = false;
    for (const frame of held.splice(0)) toService?.(frame);
    const stored = image(tab, 'held.png');
    expect((await loaded(stored)).natural).toEqual([300, 200]);
    expect(await stored.getAttribute('src')).toContain('/attachments?');
    // Asked for once it was stored, and found: never a 404 of a file not stored yet.
    const after = reads.slice(readsBefore);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((status) => status !== 302)).toEqual([]);
    expect((await loaded(image(ann, 'held.png'))).natural).toEqual([300, 200]);
  });

  it('refuses the image to a non-member: no read URL, no image', async () => {
    const src = (await image(ann, 'sunset.png').getAttribute('src')) as string;
    // The same address with eve's name, from eve's page (as her browser would ask for it).
    const hers = src.replace(/name=ann/, 'name=eve');
    const answer = await eve.page.evaluate(async (url) => {
      const res = await fetch(url, { redirect: 'manual' });
      return { status: res.status, body: await res.text() };
    }, hers);
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body).code).toBe('not-a-member');
    const shown = await eve.page.evaluate(
      (url) =>
        new Promise<number>((resolve) => {
          const img = new Image();
          img.onload = () => resolve(img.naturalWidth);
          img.onerror = () => resolve(0);
          img.src = url;
        }),
      hers,
    );
    expect(shown).toBe(0);
    expect(await eve.page.locator('img.attachment-image').count()).toBe(0);
    await shot(eve, 'not-a-member');
    for (const person of [ann, bob, eve]) expect(problemsOf(person)).toMatchObject({ errors: [], csp: [] });
  });

  it('says in words that an image is gone once retention deleted it', async () => {
    const src = (await image(ann, 'sunset.png').getAttribute('src')) as string;
    const blob = new URL(src, ann.page.url()).searchParams.get('blob') as string;
    // What the lifecycle rule (or the local sweeper) does after HISTORY_RETENTION_DAYS.
    await BlobServiceClient.fromConnectionString(chat.stack.blob.connectionString)
      .getContainerClient('chat-attachments')
      .deleteBlob(blob);
    // A fresh browser (nothing cached), as a reader coming back long after.
    const later = await chat.open('ann');
    await waitConnected(later);
    await sidebarButton(later, /^Photos/).click();
    const before = delivered(later, 'a picture follows');
    await before.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await before.scrollIntoViewIfNeeded(); // the image loads lazily, once near the view
    const gone = later.page.locator('.messages .attachment-gone', { hasText: 'sunset.png' });
    await gone.waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await gone.textContent()).toContain('sunset.png: this image is no longer available');
    expect(await image(later, 'sunset.png').count()).toBe(0);
    await shot(later, 'gone');
  });
});
