/**
 * The rules of attachments (src/lib/attachments/): safe file names, blob names no client can steer, the checks of
 * an upload request and of a message's reference, the download disposition, and the user-delegation SAS Azure
 * gets (signed with a delegation key asked for once, not per URL); the CSP's Blob origin for each storage setting.
 */
import { BlobServiceClient, type ServiceGetUserDelegationKeyResponse } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { attachmentsOrigin } from '../../src/app/page-security.js';
import {
  AttachmentStore,
  attachmentStoreFromSettings,
  checkAttachmentRef,
  checkUploadRequest,
  contentDisposition,
  fileNameOfBlob,
  newAttachmentBlobName,
  safeFileName,
} from '../../src/lib/attachments/index.js';
import { foldHistory } from '../../src/lib/history/index.js';

const MAX = 10 * 1024 * 1024;

describe('file and blob names', () => {
  it('keeps the last path part, drops what could hide or mislead, and bounds the length', () => {
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('C:\\Users\\ann\\photo.png')).toBe('photo.png');
    expect(safeFileName('a\u202Egnp.exe')).toBe('agnp.exe');
    expect(safeFileName('"quoted" <x>?.pdf')).toBe('_quoted_ _x__.pdf');
    expect(safeFileName('...hidden')).toBe('hidden');
    expect(safeFileName('  ')).toBe('file');
    const long = safeFileName(`${'a'.repeat(300)}.jpeg`);
    expect([...long].length).toBe(120);
    expect(long.endsWith('.jpeg')).toBe(true);
  });

  it('names blobs <conversation>/<ULID>/<name>, each a segment, and reads back only such names', () => {
    const blob = newAttachmentBlobName('group:a/b', 'x/../y?.png');
    expect(blob).toMatch(/^group%3Aa%2Fb\/[0-9A-HJKMNP-TV-Z]{26}\/y_.png$/);
    expect(fileNameOfBlob('group:a/b', blob)).toBe('y_.png');
    expect(fileNameOfBlob('room', blob)).toBeUndefined();
    const id = blob.split('/')[1];
    for (const bad of [
      'group%3Aa%2Fb/y.png',
      `group%3Aa%2Fb/${id}/a/b.png`,
      `group%3Aa%2Fb/not-a-ulid-at-all-xxxxxxxxxx/y.png`,
      `group%3Aa%2Fb/${id}/%2E%2E`,
      `group%3Aa%2Fb/${id}/a%2Fb.png`,
      `group%3Aa%2Fb/${id}/%E0%A4%A`,
    ]) {
      expect(fileNameOfBlob('group:a/b', bad), bad).toBeUndefined();
    }
  });

  it('gives files an attachment disposition with an ASCII and a UTF-8 name, and images none', () => {
    expect(contentDisposition({ name: 'a.png', type: 'image/png' })).toBeUndefined();
    expect(contentDisposition({ name: 'Résumé (1).pdf', type: 'application/pdf' })).toBe(
      `attachment; filename="R_sum_ (1).pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%281%29.pdf`,
    );
  });
});

describe('upload requests and references', () => {
  const ok = { conversation: 'room', name: 'a.png', type: 'image/png', size: 10 };
  it('refuses a bad conversation, too large a file, and HTML, SVG or script types', () => {
    expect(checkUploadRequest(ok, MAX)).toMatchObject({ ok: true });
    const code = (v: unknown) => {
      const r = checkUploadRequest(v, MAX);
      return r.ok ? 'ok' : r.problem.code;
    };
    expect(code({ ...ok, conversation: 'group:' })).toBe('invalid-attachment');
    expect(code({ ...ok, size: MAX + 1 })).toBe('attachment-too-large');
    expect(code({ ...ok, size: 0 })).toBe('invalid-attachment');
    for (const type of ['text/html', 'image/svg+xml', 'application/javascript', 'text/xml', '']) {
      expect(code({ ...ok, type }), type).toBe('attachment-type-refused');
    }
    expect(code([ok])).toBe('invalid-attachment');
  });

  it('accepts a reference only for its own conversation, with its file name and sane image sizes', () => {
    const blob = newAttachmentBlobName('room', 'a.png');
    const ref = { blob, name: 'a.png', type: 'image/png', size: 10, width: 4, height: 3 };
    expect(checkAttachmentRef(ref, 'room', MAX)).toEqual({ ok: true, attachment: ref });
    const refused = (value: unknown, conversation = 'room') =>
      !checkAttachmentRef(value, conversation, MAX).ok;
    expect(refused(ref, 'dm:ann:bob')).toBe(true);
    expect(refused({ ...ref, name: 'b.png' })).toBe(true);
    expect(refused({ ...ref, width: 4, height: undefined })).toBe(true);
    expect(refused({ ...ref, width: 0 })).toBe(true);
    expect(refused({ ...ref, type: 'application/pdf' })).toBe(true);
    expect(refused({ ...ref, size: MAX + 1 })).toBe(true);
    expect(refused({ ...ref, extra: 1 })).toBe(false);
  });
});

describe('signing', () => {
  it('signs user-delegation SAS URLs (create only to upload, read with headers to read) with one key', async () => {
    const service = new BlobServiceClient('https://acct.blob.core.windows.net', {
      getToken: async () => ({ token: 'unused', expiresOnTimestamp: Date.now() + 3_600_000 }),
    });
    let keys = 0;
    service.getUserDelegationKey = (async (startsOn: Date, expiresOn: Date) => {
      keys += 1;
      return {
        signedObjectId: '00000000-0000-0000-0000-0000000000aa',
        signedTenantId: '00000000-0000-0000-0000-0000000000bb',
        signedStartsOn: startsOn,
        signedExpiresOn: expiresOn,
        signedService: 'b',
        signedVersion: '2025-01-05',
        value: Buffer.alloc(32, 1).toString('base64'),
      } as unknown as ServiceGetUserDelegationKeyResponse;
    }) as typeof service.getUserDelegationKey;
    const store = new AttachmentStore({ service, container: 'chat-attachments', signing: 'user-delegation' });
    const blob = newAttachmentBlobName('room', 'notes.pdf');
    // The container exists in Azure (Bicep creates it): nothing to create here.
    store.ensureContainer = async () => undefined;
    const upload = new URL((await store.uploadUrl(blob)).url);
    expect(upload.searchParams.get('sp')).toBe('c');
    expect(upload.searchParams.get('sr')).toBe('b');
    // The upload lands under `_pending/` until a message claims it; reads go to the file's own name.
    expect(upload.pathname).toBe(
      `/chat-attachments/_pending/${blob.split('/').map(encodeURIComponent).join('/')}`,
    );
    expect(upload.searchParams.get('skoid')).toBe('00000000-0000-0000-0000-0000000000aa');
    const read = new URL((await store.readUrl({ blob, name: 'notes.pdf', type: 'application/pdf' })).url);
    const again = new URL((await store.readUrl({ blob, name: 'notes.pdf', type: 'application/pdf' })).url);
    expect(keys).toBe(1);
    expect(read.pathname).toBe(`/chat-attachments/${blob.split('/').map(encodeURIComponent).join('/')}`);
    expect(read.searchParams.get('sp')).toBe('r');
    expect(read.searchParams.get('sr')).toBe('b');
    expect(read.searchParams.get('skoid')).toBe('00000000-0000-0000-0000-0000000000aa');
    expect(read.searchParams.get('rsct')).toBe('application/pdf');
    expect(read.searchParams.get('rscd')).toMatch(/^attachment; filename="notes.pdf"/);
    expect(read.searchParams.get('sig')).toBeTruthy();
    expect(again.searchParams.get('skoid')).toBe(read.searchParams.get('skoid'));
  });

  it('builds the store and the CSP origin from the settings; off is off', () => {
    const env = { CHAT_HISTORY_STORAGE: 'UseDevelopmentStorage=true' };
    expect(attachmentStoreFromSettings(env)?.signing).toBe('account-key');
    expect(attachmentStoreFromSettings({ ...env, CHAT_ATTACHMENTS_STORAGE: 'off' })).toBeUndefined();
    const azure = { ...env, CHAT_ATTACHMENTS_STORAGE: 'https://acct.blob.core.windows.net' };
    expect(attachmentStoreFromSettings(azure)?.signing).toBe('user-delegation');
    expect(() => attachmentStoreFromSettings({ ...env, CHAT_ATTACHMENT_MAX_BYTES: '10MB' })).toThrow(
      /CHAT_ATTACHMENT_MAX_BYTES/,
    );
    expect(attachmentsOrigin(env)).toBe('http://127.0.0.1:10000');
    expect(attachmentsOrigin(azure)).toBe('https://acct.blob.core.windows.net');
    expect(
      attachmentsOrigin({
        CHAT_HISTORY_STORAGE:
          'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=x;EndpointSuffix=core.windows.net',
      }),
    ).toBe('https://acct.blob.core.windows.net');
    expect(attachmentsOrigin({ ...env, CHAT_ATTACHMENTS_STORAGE: 'off' })).toBeUndefined();
  });
});

describe('a deleted message', () => {
  it('shows nothing of its attachment; an edited one keeps it', () => {
    const attachment = {
      blob: 'room/01ARZ3NDEKTSV4RRFFQ69G5FAV/a.png',
      name: 'a.png',
      type: 'image/png',
      size: 3,
    };
    const base = { conversation: 'room', from: 'ann', sentAt: '2026-01-01T00:00:00.000Z' };
    const message = { ...base, id: '01ARZ3NDEKTSV4RRFFQ69G5FAA', text: '', attachment };
    const edit = {
      ...base,
      id: '01ARZ3NDEKTSV4RRFFQ69G5FAB',
      text: 'caption',
      kind: 'edit' as const,
      target: message.id,
    };
    const remove = {
      ...base,
      id: '01ARZ3NDEKTSV4RRFFQ69G5FAC',
      text: '',
      kind: 'delete' as const,
      target: message.id,
    };
    expect(foldHistory([message, edit])).toEqual([expect.objectContaining({ text: 'caption', attachment })]);
    const [deleted] = foldHistory([message, edit, remove]);
    expect(deleted).toMatchObject({ deleted: true, text: '' });
    expect(deleted).not.toHaveProperty('attachment');
  });
});
