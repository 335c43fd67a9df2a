/**
 * The attachment routes with sign-in (`CHAT_AUTH=entra`) through the whole local stack: the built-in host
 * stands in for App Service Authentication, so the caller of `/api/uploads` and `/api/attachments` is the user
 * the platform's principal names (from the session), never a principal header or `?name=` the client wrote;
 * the app itself refuses a request that reaches it with no principal at all; and a ban refuses both routes, a
 * mute the upload.
 */
import azureFunctions from '@azure/functions';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { attachments, uploads } from '../../src/app/attachments.js';
import { fileNameOfBlob } from '../../src/lib/attachments/index.js';
import { principalHeadersOf } from '../../src/local/functions-host/easy-auth.js';
import type { ChatClient, ReceivedEvent } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';
import { type SignedIn, signIn } from '../support/sign-in.js';

const { HttpRequest, InvocationContext } = azureFunctions;

const chat = useChatStack({ env: { CHAT_AUTH: 'entra' } });

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8]);
const GROUP = 'group:atelier';
const FILE = { conversation: GROUP, name: 'plan.png', type: 'image/png', size: PNG.length };

let ann: SignedIn;
let bob: SignedIn;
let eve: SignedIn;

/** `POST /api/uploads` as the page sends it (a fetch, so the platform answers 401 rather than redirecting). */
function askUpload(headers: Record<string, string>, body: unknown = FILE, query = ''): Promise<Response> {
  return fetch(`${chat.stack.functionsUrl}/api/uploads${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-requested-with': 'XMLHttpRequest', ...headers },
    body: JSON.stringify(body),
  });
}

/** The read redirect, not followed. */
function readRedirect(headers: Record<string, string>, blob: string, extra: Record<string, string> = {}) {
  const query = new URLSearchParams({ conversation: GROUP, blob, type: 'image/png', ...extra });
  return fetch(`${chat.stack.functionsUrl}/api/attachments?${query}`, {
    headers: { 'x-requested-with': 'XMLHttpRequest', ...headers },
    redirect: 'manual',
  });
}

/** The principal headers App Service would write for Ann: what a client forging them would send. */
const annForged = () =>
  principalHeadersOf({ oid: ann.objectId, name: 'Ann', upn: 'ann@localhost', roles: ['Chat.Admin'] });

beforeAll(async () => {
  const url = chat.stack.functionsUrl;
  [ann, bob, eve] = await Promise.all([
    signIn(url, 'Ann', 'ann'),
    signIn(url, 'Bob', 'bob'),
    signIn(url, 'Eve', 'eve'),
  ]);
  // Ann's private group with Bob: Eve is signed in but not a member.
  const client = await chat.connect('whoever', 'signalr', { headers: { cookie: ann.cookie } });
  await client.send('createGroup', { group: 'atelier', members: [bob.userId] });
  await client.waitFor((e: ReceivedEvent) => e.type === 'group');
});

describe('attachments with sign-in (CHAT_AUTH=entra)', () => {
  it('let a signed-in member upload and every member read, by the session alone', async () => {
    const res = await askUpload({ cookie: ann.cookie });
    expect(res.status, await res.clone().text()).toBe(200);
    const answer = (await res.json()) as { blob: string; uploadUrl: string; headers: Record<string, string> };
    expect(fileNameOfBlob(GROUP, answer.blob)).toBe('plan.png');
    const put = await fetch(answer.uploadUrl, {
      method: 'PUT',
      headers: answer.headers,
      body: new Uint8Array(PNG),
    });
    expect(put.status).toBe(201);
    // Nobody reads an upload before a message claims it.
    expect((await readRedirect({ cookie: ann.cookie }, answer.blob)).status).toBe(404);
    const annChat = await chat.connect('whoever', 'signalr', { headers: { cookie: ann.cookie } });
    const attachment = { blob: answer.blob, name: 'plan.png', type: 'image/png', size: PNG.length };
    await annChat.send('sendMessage', { text: '', group: 'atelier', attachment, clientMessageId: 'plan' });
    await annChat.waitFor((e: ReceivedEvent) => e.type === 'message' && e.payload.clientMessageId === 'plan');
    for (const member of [ann, bob]) {
      const redirect = await readRedirect({ cookie: member.cookie }, answer.blob);
      expect(redirect.status).toBe(302);
      const read = await fetch(redirect.headers.get('location') as string);
      expect(read.status).toBe(200);
      expect(Buffer.from(await read.arrayBuffer())).toEqual(PNG);
    }
    // A signed-in user who is not a member: refused both ways, with no URL.
    const upload = await askUpload({ cookie: eve.cookie });
    expect([upload.status, ((await upload.json()) as { code: string }).code]).toEqual([403, 'not-a-member']);
    const read = await readRedirect({ cookie: eve.cookie }, answer.blob);
    expect([read.status, read.headers.get('location')]).toEqual([403, null]);
  });

  it('refuse a request without a session: no principal, no URL', async () => {
    const upload = await askUpload({}, FILE, `?name=${encodeURIComponent(ann.userId)}`);
    expect(upload.status).toBe(401);
    expect(await upload.text()).not.toContain('uploadUrl');
    const read = await readRedirect({}, `${GROUP}/01ARZ3NDEKTSV4RRFFQ69G5FAV/plan.png`, { name: ann.userId });
    expect(read.status).toBe(401);
    expect(read.headers.get('location')).toBeNull();
  });

  it('do not trust a principal header the client wrote, with or without a session', async () => {
    // Without a session the platform removes the forged headers and refuses the request.
    const alone = await askUpload(annForged());
    expect(alone.status).toBe(401);
    expect(await alone.text()).not.toContain('uploadUrl');
    // With Eve's session they are replaced by hers: Eve, not Ann, asks, and Eve is not a member.
    const asEve = await askUpload({ ...annForged(), cookie: eve.cookie });
    expect([asEve.status, ((await asEve.json()) as { code: string }).code]).toEqual([403, 'not-a-member']);
    const own = await askUpload({ cookie: ann.cookie });
    const { blob } = (await own.json()) as { blob: string };
    const read = await readRedirect({ ...annForged(), cookie: eve.cookie }, blob);
    expect([read.status, read.headers.get('location')]).toEqual([403, null]);
  });
});

describe('attachments and moderation', () => {
  /** Sends `command` and waits for its answer of type `type` (or the error that answers it). */
  async function ask(client: ChatClient, command: string, payload: unknown, type: string) {
    const from = client.events.length;
    await client.send(command, payload);
    const answer = await client.waitFor(
      (e) => e.type === type || (e.type === 'error' && e.payload.command === command),
      from,
    );
    expect(answer.type, JSON.stringify(answer.payload)).toBe(type);
    return answer;
  }

  it('refuse a banned user both routes and a muted user the upload, as negotiate and sendMessage do', async () => {
    const url = chat.stack.functionsUrl;
    const [mod, zed] = await Promise.all([
      signIn(url, 'Mod', 'mod', ['Chat.Moderator']),
      signIn(url, 'Zed', 'zed'),
    ]);
    const room = { conversation: 'room', name: 'note.png', type: 'image/png', size: PNG.length };
    const codeOf = async (res: Response) => [res.status, ((await res.json()) as { code: string }).code];
    const readRoom = (who: SignedIn, blob: string) =>
      readRedirect({ cookie: who.cookie }, blob, { conversation: 'room' });
    // Zed sends a file to the room: it is the room's, readable by everyone there.
    const zedChat = await chat.connect('whoever', 'signalr', { headers: { cookie: zed.cookie } });
    const granted = await askUpload({ cookie: zed.cookie }, room);
    expect(granted.status).toBe(200);
    const grant = (await granted.json()) as {
      blob: string;
      uploadUrl: string;
      headers: Record<string, string>;
    };
    const put = await fetch(grant.uploadUrl, {
      method: 'PUT',
      headers: grant.headers,
      body: new Uint8Array(PNG),
    });
    expect(put.status).toBe(201);
    const attachment = { blob: grant.blob, name: 'note.png', type: 'image/png', size: PNG.length };
    await ask(zedChat, 'sendMessage', { text: '', attachment, clientMessageId: 'zed-file' }, 'message');
    expect((await readRoom(zed, grant.blob)).status).toBe(302);

    const modChat = await chat.connect('whoever', 'signalr', { headers: { cookie: mod.cookie } });
    await ask(modChat, 'muteUser', { user: zed.userId, minutes: 5, reason: 'cool down' }, 'moderation');
    const muted = await askUpload({ cookie: zed.cookie }, room);
    expect(await codeOf(muted.clone())).toEqual([403, 'muted']);
    expect(((await muted.json()) as { message: string }).message).toMatch(/it ends at .*cool down/);
    // A muted user still reads.
    expect((await readRoom(zed, grant.blob)).status).toBe(302);

    await ask(modChat, 'banUser', { user: zed.userId, reason: 'spam' }, 'moderation');
    expect(await codeOf(await askUpload({ cookie: zed.cookie }, room))).toEqual([403, 'banned']);
    const read = await readRoom(zed, grant.blob);
    expect(read.headers.get('location')).toBeNull();
    expect(await codeOf(read)).toEqual([403, 'banned']);
    // Others are not concerned, and a lifted ban gives Zed back both.
    expect((await readRoom(mod, grant.blob)).status).toBe(302);
    await ask(modChat, 'unbanUser', { user: zed.userId }, 'moderation');
    await ask(modChat, 'unmuteUser', { user: zed.userId }, 'moderation');
    expect((await askUpload({ cookie: zed.cookie }, room)).status).toBe(200);
    expect((await readRoom(zed, grant.blob)).status).toBe(302);
  });
});

describe('the attachment routes of the app itself with sign-in', () => {
  const saved = process.env.CHAT_AUTH;
  afterEach(() => {
    if (saved === undefined) delete process.env.CHAT_AUTH;
    else process.env.CHAT_AUTH = saved;
  });
  const ctx = () => new InvocationContext({ functionName: 'test', logHandler: () => undefined });

  it('refuse a request that reaches them with no principal (401 not-signed-in), whatever ?name= says', async () => {
    process.env.CHAT_AUTH = 'entra';
    const upload = await uploads(
      new HttpRequest({
        method: 'POST',
        url: 'http://localhost:7071/api/uploads?name=ann',
        headers: { 'content-type': 'application/json' },
        body: { string: JSON.stringify(FILE) },
      }),
      ctx(),
    );
    const read = await attachments(
      new HttpRequest({
        method: 'GET',
        url: `http://localhost:7071/api/attachments?name=ann&conversation=room&blob=room%2F01ARZ3NDEKTSV4RRFFQ69G5FAV%2Fa.png&type=image%2Fpng`,
      }),
      ctx(),
    );
    for (const res of [upload, read]) {
      expect(res.status).toBe(401);
      expect((res.jsonBody as { code: string }).code).toBe('not-signed-in');
      expect(res.headers).not.toHaveProperty('location');
    }
  });
});
