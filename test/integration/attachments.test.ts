/**
 * Attachments through the whole local stack (real Azurite, the built-in host, the local service, both realtime
 * services): upload URLs refused to whoever may not write the conversation and for files too large or of a
 * refused type; the browser's PUT with the create-only SAS, which can neither read nor overwrite nor reach
 * another blob, and lands under `_pending/` where nobody reads it; the message with its attachment, which claims
 * the upload, delivered over SignalR and Web PubSub and kept in history; the read redirect refused to a non-member
 * of a private group, working for a member, a file read as a download; and the size limit holding for what is
 * stored, whatever was declared, since no SAS caps what a PUT writes.
 */
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { ATTACHMENT_LIMITS, pendingBlobName } from '../../src/lib/attachments/index.js';
import type { ChatClient, ChatDialect, ReceivedEvent } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const chat = useChatStack();

/** 8-byte PNG signature and a few bytes: what a browser would PUT (its content is not inspected). */
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8]);
const PDF = Buffer.from('%PDF-1.4\n% a small file\n');

interface UploadAnswer {
  blob: string;
  name: string;
  type: string;
  size: number;
  uploadUrl: string;
  expiresOn: string;
  headers: Record<string, string>;
}

/** `POST /api/uploads` as the page sends it, for the demo user `name`. */
function askUpload(name: string, body: unknown): Promise<Response> {
  return fetch(`${chat.stack.functionsUrl}/api/uploads?name=${encodeURIComponent(name)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Asks for an upload URL and PUTs `bytes` to it as the page does; the answer. */
async function upload(name: string, conversation: string, file: string, type: string, bytes: Buffer) {
  const res = await askUpload(name, { conversation, name: file, type, size: bytes.length });
  expect(res.status, await res.clone().text()).toBe(200);
  const answer = (await res.json()) as UploadAnswer;
  const put = await fetch(answer.uploadUrl, {
    method: 'PUT',
    headers: answer.headers,
    body: new Uint8Array(bytes),
  });
  expect(put.status, await put.clone().text()).toBe(201);
  return answer;
}

/** The read redirect, not followed. */
function readRedirect(name: string, conversation: string, blob: string, type: string): Promise<Response> {
  const query = new URLSearchParams({ name, conversation, blob, type });
  return fetch(`${chat.stack.functionsUrl}/api/attachments?${query}`, { redirect: 'manual' });
}

/** The attachments container of the stack's Azurite, as the app uses it. */
function attachmentsContainer(): ContainerClient {
  const storage = chat.stack.env.CHAT_HISTORY_STORAGE as string;
  return BlobServiceClient.fromConnectionString(storage).getContainerClient('chat-attachments');
}

/** Sends `up` as a message of `client` to `conversation` (`where`: `{ group }` or `{ to }`), which claims it. */
async function sendFile(client: ChatClient, up: UploadAnswer, where: Record<string, string> = {}) {
  const attachment = { blob: up.blob, name: up.name, type: up.type, size: up.size };
  const cid = `send-${up.blob}`;
  const answer = await ask(
    client,
    'sendMessage',
    { text: '', attachment, clientMessageId: cid, ...where },
    (e) => errorFor(cid)(e) || messageWith(cid)(e),
  );
  expect(answer.type, JSON.stringify(answer.payload)).toBe('message');
}

async function ask(
  client: ChatClient,
  command: string,
  payload: unknown,
  match: (e: ReceivedEvent) => boolean,
) {
  const from = client.events.length;
  await client.send(command, payload);
  return client.waitFor(match, from);
}

const errorFor = (cid: string) => (e: ReceivedEvent) =>
  e.type === 'error' && e.payload.clientMessageId === cid;
const messageWith = (cid: string) => (e: ReceivedEvent) =>
  e.type === 'message' && e.payload.clientMessageId === cid;

describe('upload URLs', () => {
  it('are refused to a non-member, a stranger to a private conversation, too large a file or a refused type', async () => {
    const ann = await chat.connect('ann', 'signalr');
    await ask(ann, 'createGroup', { group: 'secret', members: ['bob'] }, (e) => e.type === 'group');
    const cases: [string, unknown, number, string][] = [
      [
        'eve',
        { conversation: 'group:secret', name: 'a.png', type: 'image/png', size: 10 },
        403,
        'not-a-member',
      ],
      [
        'eve',
        { conversation: 'dm:ann:bob', name: 'a.png', type: 'image/png', size: 10 },
        403,
        'forbidden-conversation',
      ],
      [
        'ann',
        { conversation: 'room', name: 'big.png', type: 'image/png', size: 10 * 1024 * 1024 + 1 },
        413,
        'attachment-too-large',
      ],
      [
        'ann',
        { conversation: 'room', name: 'page.html', type: 'text/html', size: 10 },
        415,
        'attachment-type-refused',
      ],
      [
        'ann',
        { conversation: 'room', name: 'logo.svg', type: 'image/svg+xml', size: 10 },
        415,
        'attachment-type-refused',
      ],
      [
        'ann',
        { conversation: 'room', name: 'run.js', type: 'text/javascript', size: 10 },
        415,
        'attachment-type-refused',
      ],
      [
        'ann',
        { conversation: 'nowhere', name: 'a.png', type: 'image/png', size: 10 },
        400,
        'invalid-attachment',
      ],
    ];
    for (const [user, body, status, code] of cases) {
      const res = await askUpload(user, body);
      const answer = (await res.json()) as { code: string; message: string; uploadUrl?: string };
      expect([res.status, answer.code], JSON.stringify(body)).toEqual([status, code]);
      expect(answer.message.length).toBeGreaterThan(20);
      expect(answer.uploadUrl).toBeUndefined();
    }
    // Without a user at all, as negotiate refuses it.
    const anonymous = await fetch(`${chat.stack.functionsUrl}/api/uploads`, {
      method: 'POST',
      body: JSON.stringify({ conversation: 'room', name: 'a.png', type: 'image/png', size: 10 }),
    });
    expect(anonymous.status).toBe(400);
    expect(((await anonymous.json()) as { code: string }).code).toBe('no-user');
  });

  it('are limited per user and minute (429 with Retry-After), one user at a time', async () => {
    const body = { conversation: 'room', name: 'a.png', type: 'image/png', size: 10 };
    for (let i = 0; i < 30; i += 1) expect((await askUpload('flood', body)).status).toBe(200);
    const refused = await askUpload('flood', body);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { code: string }).code).toBe('too-many-uploads');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await askUpload('calm', body)).status).toBe(200);
  });

  it('work for a member, and the create-only SAS cannot read, overwrite or reach another blob', async () => {
    const answer = await upload('ann', 'room', '../../etc/passwd?x=1#.png', 'image/png', PNG);
    // The server names the blob: the conversation, a ULID, the file name made safe (no folder part, no query).
    expect(answer.blob).toMatch(/^room\/[0-9A-HJKMNP-TV-Z]{26}\/passwd_x%3D1%23.png$/);
    expect(answer.name).toBe('passwd_x=1#.png');
    const url = new URL(answer.uploadUrl);
    expect(url.searchParams.get('sp')).toBe('c');
    expect(url.searchParams.get('sr')).toBe('b');
    // Read with it: refused.
    expect((await fetch(answer.uploadUrl)).status).toBe(403);
    // Overwrite the uploaded blob with it: refused, and the blob is unchanged.
    const again = await fetch(answer.uploadUrl, {
      method: 'PUT',
      headers: answer.headers,
      body: new Uint8Array(PDF),
    });
    expect(again.status).not.toBe(201);
    // Another blob's name with the same signature: refused, and nothing is created.
    const other = new URL(answer.uploadUrl);
    other.pathname = other.pathname.replace(/[^/]+$/, 'other.png');
    const elsewhere = await fetch(other, {
      method: 'PUT',
      headers: answer.headers,
      body: new Uint8Array(PNG),
    });
    expect(elsewhere.status).toBe(403);
    const container = attachmentsContainer();
    // The upload waits under `_pending/` for the message that claims it; nothing is at its name yet.
    expect(url.pathname).toContain('/chat-attachments/_pending/room/');
    const props = await container.getBlobClient(pendingBlobName(answer.blob)).getProperties();
    expect([props.contentLength, props.contentType]).toEqual([PNG.length, 'image/png']);
    expect(await container.getBlobClient(answer.blob).exists()).toBe(false);
    expect(await container.getBlobClient(answer.blob.replace(/[^/]+$/, 'other.png')).exists()).toBe(false);
    expect(
      await container.getBlobClient(pendingBlobName(answer.blob).replace(/[^/]+$/, 'other.png')).exists(),
    ).toBe(false);
  });
});

describe('messages with an attachment', () => {
  const pairs: [ChatDialect, ChatDialect][] = [
    ['signalr', 'webpubsub'],
    ['webpubsub', 'signalr'],
  ];
  for (const [senderDialect, receiverDialect] of pairs) {
    it(`reach the other person (${senderDialect} → ${receiverDialect}) and stay in history`, async () => {
      const sender = await chat.connect(`s-${senderDialect}`, senderDialect);
      const receiver = await chat.connect(`r-${senderDialect}`, receiverDialect);
      const conversation = `dm:${[sender.user, receiver.user].sort().join(':')}`;
      const up = await upload(sender.user, conversation, 'photo.png', 'image/png', PNG);
      const attachment = {
        blob: up.blob,
        name: up.name,
        type: up.type,
        size: up.size,
        width: 640,
        height: 480,
      };
      const cid = `with-file-${senderDialect}`;
      await sender.send('sendMessage', { text: '', to: receiver.user, attachment, clientMessageId: cid });
      const got = await receiver.waitFor(messageWith(cid));
      expect(got.payload).toMatchObject({ from: sender.user, conversation, text: '', attachment });
      const page = await ask(receiver, 'loadHistory', { conversation }, (e) => e.type === 'history');
      const messages = page.payload.messages as { clientMessageId?: string; attachment?: unknown }[];
      expect(messages.find((m) => m.clientMessageId === cid)?.attachment).toEqual(attachment);
    });
  }

  it('are refused when the blob is missing, of another size or type, or of another conversation', async () => {
    const ann = await chat.connect('ann2', 'webpubsub');
    const up = await upload('ann2', 'room', 'notes.pdf', 'application/pdf', PDF);
    const ref = { blob: up.blob, name: up.name, type: up.type, size: up.size };
    const cases: [string, Record<string, unknown>, Record<string, unknown>, string][] = [
      ['malformed', { ...ref, blob: 'room/x/notes.pdf' }, {}, 'invalid-attachment'],
      ['size', { ...ref, size: up.size + 1 }, {}, 'attachment-not-stored'],
      ['type', { ...ref, type: 'text/plain' }, {}, 'attachment-not-stored'],
      ['elsewhere', ref, { to: 'bob' }, 'invalid-attachment'],
      ['dims', { ...ref, width: 10, height: 10 }, {}, 'invalid-attachment'],
    ];
    for (const [label, attachment, where, code] of cases) {
      const cid = `refused-${label}`;
      const answer = await ask(
        ann,
        'sendMessage',
        { text: label, attachment, clientMessageId: cid, ...where },
        (e) => errorFor(cid)(e) || messageWith(cid)(e),
      );
      expect([label, answer.type, answer.payload.code]).toEqual([label, 'error', code]);
    }
    // The well-formed name of a blob never uploaded: the HEAD finds nothing.
    const ghost = { ...ref, blob: up.blob.replace(/\/[0-9A-Z]{26}\//, '/01ARZ3NDEKTSV4RRFFQ69G5FAV/') };
    const missing = await ask(
      ann,
      'sendMessage',
      { text: 'x', attachment: ghost, clientMessageId: 'ghost' },
      (e) => errorFor('ghost')(e) || messageWith('ghost')(e),
    );
    expect(missing.payload.code).toBe('attachment-not-stored');
  });
});

describe('reading an attachment', () => {
  it('is refused to a non-member of a private group and redirects a member to a short-lived read URL', async () => {
    const cy = await chat.connect('cy', 'signalr');
    await ask(cy, 'createGroup', { group: 'vault', members: ['dee'] }, (e) => e.type === 'group');
    const image = await upload('cy', 'group:vault', 'map.png', 'image/png', PNG);
    // Until a message claims it, the upload is nobody's to read, not even its sender's.
    expect((await readRedirect('cy', 'group:vault', image.blob, 'image/png')).status).toBe(404);
    await sendFile(cy, image, { group: 'vault' });
    const eve = await readRedirect('eve', 'group:vault', image.blob, 'image/png');
    expect(eve.status).toBe(403);
    expect(((await eve.json()) as { code: string }).code).toBe('not-a-member');
    expect(eve.headers.get('location')).toBeNull();
    for (const member of ['cy', 'dee']) {
      const res = await readRedirect(member, 'group:vault', image.blob, 'image/png');
      expect(res.status).toBe(302);
      const location = res.headers.get('location') as string;
      expect(new URL(location).searchParams.get('sp')).toBe('r');
      const read = await fetch(location);
      expect(read.status).toBe(200);
      expect(read.headers.get('content-type')).toBe('image/png');
      expect(read.headers.get('content-disposition')).toBeNull();
      expect(Buffer.from(await read.arrayBuffer())).toEqual(PNG);
    }
    // The read URL of one blob reads no other.
    const res = await readRedirect('cy', 'group:vault', image.blob, 'image/png');
    const other = new URL(res.headers.get('location') as string);
    other.pathname = other.pathname.replace(/[^/]+$/, 'other.png');
    expect((await fetch(other)).status).toBe(403);
    // A blob of another conversation, named under this one's query: not found, no URL.
    const roomFile = await upload('cy', 'room', 'r.png', 'image/png', PNG);
    await sendFile(cy, roomFile);
    expect((await readRedirect('cy', 'group:vault', roomFile.blob, 'image/png')).status).toBe(404);
  });

  it('serves a file as a download (Content-Disposition: attachment) with the declared type', async () => {
    const file = await upload('ann', 'room', 'Quarterly "report" é.pdf', 'application/pdf', PDF);
    await sendFile(await chat.connect('ann', 'webpubsub'), file);
    const res = await readRedirect('bob', 'room', file.blob, 'application/pdf');
    expect(res.status).toBe(302);
    const read = await fetch(res.headers.get('location') as string);
    expect(read.status).toBe(200);
    expect(read.headers.get('content-type')).toBe('application/pdf');
    const disposition = read.headers.get('content-disposition') ?? '';
    expect(disposition).toMatch(/^attachment; filename="Quarterly _report_ _.pdf"; filename\*=UTF-8''/);
    expect(decodeURIComponent(disposition.split("''")[1] as string)).toBe('Quarterly _report_ é.pdf');
    // An HTML type asked for at read time is refused: no read URL makes a file a page.
    expect((await readRedirect('bob', 'room', file.blob, 'text/html')).status).toBe(415);
    // Nor is another allowed type than the file's own.
    const other = await readRedirect('bob', 'room', file.blob, 'text/plain');
    expect([other.status, ((await other.json()) as { code: string }).code]).toEqual([
      400,
      'invalid-attachment',
    ]);
  });
});

describe('the size limit', () => {
  const max = ATTACHMENT_LIMITS.maxBytes;

  it('holds for what is stored: a file PUT larger than declared is never sent, never read, and deleted', async () => {
    const mallory = await chat.connect('mallory', 'signalr');
    // Declared 5 bytes; no SAS can cap what the PUT writes, so storage takes more than the limit.
    const res = await askUpload('mallory', {
      conversation: 'room',
      name: 'big.zip',
      type: 'application/zip',
      size: 5,
    });
    expect(res.status).toBe(200);
    const grant = (await res.json()) as UploadAnswer;
    const big = Buffer.alloc(max + 1, 1);
    const put = await fetch(grant.uploadUrl, {
      method: 'PUT',
      headers: grant.headers,
      body: new Uint8Array(big),
    });
    expect(put.status).toBe(201);
    const container = attachmentsContainer();
    const pending = container.getBlobClient(pendingBlobName(grant.blob));
    expect((await pending.getProperties()).contentLength).toBe(max + 1);
    // Nobody can read it: it is no file of the room until a message claims it.
    const read = await readRedirect('bob', 'room', grant.blob, 'application/zip');
    expect([read.status, read.headers.get('location')]).toEqual([404, null]);
    // A message cannot claim it, neither with the size it declared nor with its real one; the first try deletes it.
    const ref = { blob: grant.blob, name: grant.name, type: grant.type };
    const refusals: [number, string][] = [
      [5, 'attachment-not-stored'],
      [max + 1, 'invalid-attachment'],
    ];
    for (const [size, code] of refusals) {
      const cid = `big-${size}`;
      const answer = await ask(
        mallory,
        'sendMessage',
        { text: '', attachment: { ...ref, size }, clientMessageId: cid },
        (e) => errorFor(cid)(e) || messageWith(cid)(e),
      );
      expect([size, answer.type, answer.payload.code]).toEqual([size, 'error', code]);
    }
    expect(await pending.exists()).toBe(false);
    expect(await container.getBlobClient(grant.blob).exists()).toBe(false);
  });

  it('holds at the read route for a file stored under its name larger than the limit: 410, and it is deleted', async () => {
    // As an earlier version let an upload land: straight under the file's name, larger than declared.
    const res = await askUpload('ann', {
      conversation: 'room',
      name: 'old.zip',
      type: 'application/zip',
      size: 5,
    });
    const { blob } = (await res.json()) as UploadAnswer;
    const stored = attachmentsContainer().getBlockBlobClient(blob);
    await stored.uploadData(Buffer.alloc(max + 1, 2), {
      blobHTTPHeaders: { blobContentType: 'application/zip' },
    });
    const read = await readRedirect('bob', 'room', blob, 'application/zip');
    expect(read.headers.get('location')).toBeNull();
    const body = (await read.json()) as { code: string; message: string };
    expect([read.status, body.code]).toEqual([410, 'attachment-removed']);
    expect(body.message).toContain(`${max + 1} bytes; at most ${max}`);
    expect(await stored.exists()).toBe(false);
    expect((await readRedirect('bob', 'room', blob, 'application/zip')).status).toBe(404);
  });

  it('lets the same file be sent again (a retried send) once claimed', async () => {
    const sender = await chat.connect('sam', 'webpubsub');
    const up = await upload('sam', 'room', 'twice.pdf', 'application/pdf', PDF);
    await sendFile(sender, up);
    const attachment = { blob: up.blob, name: up.name, type: up.type, size: up.size };
    const again = await ask(
      sender,
      'sendMessage',
      { text: 'again', attachment, clientMessageId: 'twice-again' },
      (e) => errorFor('twice-again')(e) || messageWith('twice-again')(e),
    );
    expect(again.type).toBe('message');
    expect(await attachmentsContainer().getBlobClient(pendingBlobName(up.blob)).exists()).toBe(false);
    expect((await readRedirect('bob', 'room', up.blob, 'application/pdf')).status).toBe(302);
  });
});
