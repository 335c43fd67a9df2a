/**
 * The file of a deleted message (docs/architecture.md, "Attachments"), through the whole local stack with sign-in
 * and real Azurite: when its author deletes the message, or a moderator removes it, the file is deleted after the
 * record is stored, and a read of it answers 404 `attachment-not-found` to everyone in the conversation; history,
 * folded, shows the message deleted without its attachment. Nobody can send another's file again and delete it with
 * their own message.
 */
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ChatMessage, type FoldedMessage, foldHistory } from '../../src/lib/history/index.js';
import { ask, type ChatClient, type ReceivedEvent } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';
import { type SignedIn, signIn } from '../support/sign-in.js';

const chat = useChatStack({ env: { CHAT_AUTH: 'entra' } });

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8]);

const people: Record<string, SignedIn> = Object.create(null);
const on: Record<string, ChatClient> = Object.create(null);
const cookieOf = (who: string) => (people[who] as SignedIn).cookie;
const client = (who: string) => on[who] as ChatClient;

interface Attachment {
  blob: string;
  name: string;
  type: string;
  size: number;
}

/** Asks for an upload URL of `conversation` as `who` and PUTs a small PNG to it, as the page does. */
async function upload(who: string, conversation: string, file: string): Promise<Attachment> {
  const res = await fetch(`${chat.stack.functionsUrl}/api/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: cookieOf(who) },
    body: JSON.stringify({ conversation, name: file, type: 'image/png', size: PNG.length }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  const answer = (await res.json()) as Attachment & { uploadUrl: string; headers: Record<string, string> };
  const put = await fetch(answer.uploadUrl, {
    method: 'PUT',
    headers: answer.headers,
    body: new Uint8Array(PNG),
  });
  expect(put.status, await put.clone().text()).toBe(201);
  return { blob: answer.blob, name: answer.name, type: answer.type, size: answer.size };
}

/** The read route's answer to `who` (its redirect not followed): status and code. */
async function read(who: string, conversation: string, blob: string): Promise<[number, string | undefined]> {
  const query = new URLSearchParams({ conversation, blob, type: 'image/png' });
  const res = await fetch(`${chat.stack.functionsUrl}/api/attachments?${query}`, {
    headers: { cookie: cookieOf(who) },
    redirect: 'manual',
  });
  const body = res.status === 302 ? undefined : ((await res.json()) as { code: string }).code;
  return [res.status, body];
}

function attachmentsContainer(): ContainerClient {
  const storage = chat.stack.env.CHAT_HISTORY_STORAGE as string;
  return BlobServiceClient.fromConnectionString(storage).getContainerClient('chat-attachments');
}

/** `who` sends `attachment` to the room; the stored message, or the refusal's code. */
async function sendFile(who: string, attachment: Attachment, cid: string): Promise<ChatMessage | string> {
  const answer = await ask(
    client(who),
    'sendMessage',
    { text: '', attachment, clientMessageId: cid },
    (e) => (e.type === 'error' || e.type === 'message') && e.payload.clientMessageId === cid,
  );
  return answer.type === 'error'
    ? (answer.payload.code as string)
    : (answer.payload as unknown as ChatMessage);
}

const answerTo =
  (command: string, ...types: string[]) =>
  (e: ReceivedEvent) =>
    types.includes(e.type) || (e.type === 'error' && e.payload.command === command);

/** The message `id` of the room as a reader of `who`'s history shows it (folded, as the page folds it). */
async function shown(who: string, id: string): Promise<FoldedMessage | undefined> {
  const page = await ask(
    client(who),
    'loadHistory',
    { conversation: 'room' },
    answerTo('loadHistory', 'history'),
  );
  return foldHistory(page.payload.messages as ChatMessage[]).find((m) => m.id === id);
}

beforeAll(async () => {
  const list: [string, string, string[]][] = [
    ['Mona', 'mona', ['Chat.Moderator']],
    ['Ann', 'ann', []],
    ['Bob', 'bob', []],
  ];
  for (const [name, account, roles] of list) {
    people[account] = await signIn(chat.stack.functionsUrl, name, account, roles);
    on[account] = await chat.connect('whoever', account === 'bob' ? 'webpubsub' : 'signalr', {
      headers: { cookie: cookieOf(account) },
    });
  }
});

describe('the file of a deleted message', () => {
  it('is deleted when its author deletes the message: nobody reads it, history shows no attachment', async () => {
    const file = await upload('ann', 'room', 'deleted.png');
    const message = (await sendFile('ann', file, 'ann-file')) as ChatMessage;
    expect(message.attachment).toMatchObject(file);
    expect(await read('bob', 'room', file.blob)).toEqual([302, undefined]);
    const answer = await ask(
      client('ann'),
      'deleteMessage',
      { conversation: 'room', messageId: message.id, clientMessageId: 'ann-delete' },
      answerTo('deleteMessage', 'ack', 'message'),
    );
    expect(answer.type, JSON.stringify(answer.payload)).not.toBe('error');
    await expect.poll(() => attachmentsContainer().getBlobClient(file.blob).exists()).toBe(false);
    for (const who of ['ann', 'bob']) {
      expect(await read(who, 'room', file.blob)).toEqual([404, 'attachment-not-found']);
    }
    const folded = await shown('bob', message.id);
    expect(folded).toMatchObject({ deleted: true, text: '' });
    expect(folded?.attachment).toBeUndefined();
  });

  it('is deleted when a moderator removes the message: nobody reads it, history shows no attachment', async () => {
    const file = await upload('bob', 'room', 'removed.png');
    const message = (await sendFile('bob', file, 'bob-file')) as ChatMessage;
    expect(await read('ann', 'room', file.blob)).toEqual([302, undefined]);
    const answer = await ask(
      client('mona'),
      'removeMessage',
      { conversation: 'room', messageId: message.id, reason: 'abuse' },
      answerTo('removeMessage', 'ack'),
    );
    expect(answer.type, JSON.stringify(answer.payload)).toBe('ack');
    expect(await attachmentsContainer().getBlobClient(file.blob).exists()).toBe(false);
    for (const who of ['ann', 'bob', 'mona']) {
      expect(await read(who, 'room', file.blob)).toEqual([404, 'attachment-not-found']);
    }
    const folded = await shown('ann', message.id);
    expect(folded).toMatchObject({ deleted: true, removed: true, text: '' });
    expect(folded?.attachment).toBeUndefined();
  });

  it("cannot be another's: a file sent again by someone else is refused, so their delete cannot take it", async () => {
    const file = await upload('ann', 'room', 'mine.png');
    await sendFile('ann', file, 'ann-mine');
    expect(await sendFile('bob', file, 'bob-takes')).toBe('attachment-not-stored');
    // Its sender may send it again (a retried send).
    expect(typeof (await sendFile('ann', file, 'ann-mine-again'))).toBe('object');
    expect(await read('bob', 'room', file.blob)).toEqual([302, undefined]);
  });
});
