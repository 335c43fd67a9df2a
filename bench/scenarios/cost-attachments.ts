/**
 * The cost scenario's attachment part (docs/architecture.md, "Attachments"): the Blob transactions of one
 * attachment, step by step, counted by the proxy in front of Azurite (bench/blob-counter.ts) while one SignalR
 * client of the chat sends files to the room: issuing the upload SAS (`POST /api/uploads`), the browser's PUT,
 * the message with its attachment (its HEAD check and the claim's copy and delete beside a plain message's
 * requests) and issuing the read SAS (`GET /api/attachments`, one HEAD) with the read it leads to. A group would
 * add one membership HEAD to the upload and to each read; the room, which everyone may write, has none.
 */
import { HubConnectionBuilder, LogLevel } from '@microsoft/signalr';
import type { BlobCounter } from '../blob-counter.js';
import type { Figure } from '../report.js';

/** Blob transactions per attachment, by step (averages over the attachments measured). */
export interface AttachmentCost {
  attachments: number;
  bytes: number;
  issueUpload: number;
  put: number;
  /** The sendMessage with the attachment, all its requests (the message's own included). */
  sendWithAttachment: number;
  /** A plain sendMessage of the same text, for comparison. */
  sendPlain: number;
  /** HEAD requests during the send with the attachment: the check of the blob. */
  headCheck: number;
  issueRead: number;
  read: number;
}

interface Grant {
  blob: string;
  name: string;
  type: string;
  size: number;
  uploadUrl: string;
  headers: Record<string, string>;
}

/** Measures `count` attachments of `bytes` bytes each (after one unmeasured, which creates the container). */
export async function measureAttachments(
  functionsUrl: string,
  counter: BlobCounter,
  count: number,
  bytes: number,
): Promise<AttachmentCost> {
  const user = 'benchfiles';
  const api = (path: string) =>
    new URL(`/api/${path}${path.includes('?') ? '&' : '?'}name=${user}`, functionsUrl);
  const connection = new HubConnectionBuilder()
    .withUrl(new URL(`/api?name=${user}`, functionsUrl).toString())
    .configureLogging(LogLevel.None)
    .build();
  connection.on('message', () => undefined);
  await connection.start();
  const file = Buffer.alloc(bytes, 7);
  const totals: Omit<AttachmentCost, 'attachments' | 'bytes'> = {
    issueUpload: 0,
    put: 0,
    sendWithAttachment: 0,
    sendPlain: 0,
    headCheck: 0,
    issueRead: 0,
    read: 0,
  };
  try {
    for (let i = -1; i < count; i += 1) {
      const add = (key: keyof typeof totals, n: number) => {
        if (i >= 0) totals[key] += n;
      };
      counter.take();
      const asked = await fetch(api('uploads'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          conversation: 'room',
          name: `file${i}.pdf`,
          type: 'application/pdf',
          size: bytes,
        }),
      });
      if (!asked.ok) throw new Error(`uploads answered ${asked.status}: ${await asked.text()}`);
      const grant = (await asked.json()) as Grant;
      add('issueUpload', counter.take().total);
      const put = await fetch(grant.uploadUrl, { method: 'PUT', headers: grant.headers, body: file });
      if (put.status !== 201) throw new Error(`the PUT answered ${put.status}`);
      add('put', counter.take().total);
      const attachment = { blob: grant.blob, name: grant.name, type: grant.type, size: grant.size };
      await connection.invoke('sendMessage', { text: `file ${i}`, attachment, clientMessageId: `f${i}` });
      const withFile = counter.take();
      add('sendWithAttachment', withFile.total);
      add('headCheck', withFile.byOperation.HEAD ?? 0);
      await connection.invoke('sendMessage', { text: `file ${i}`, clientMessageId: `p${i}` });
      add('sendPlain', counter.take().total);
      const query = new URLSearchParams({ conversation: 'room', blob: grant.blob, type: grant.type });
      const redirect = await fetch(api(`attachments?${query}`), { redirect: 'manual' });
      const location = redirect.headers.get('location');
      if (redirect.status !== 302 || location === null)
        throw new Error(`attachments answered ${redirect.status}`);
      add('issueRead', counter.take().total);
      const read = await fetch(location);
      await read.arrayBuffer();
      if (read.status !== 200) throw new Error(`the read answered ${read.status}`);
      add('read', counter.take().total);
    }
  } finally {
    await connection.stop();
  }
  const n = Math.max(1, count);
  return {
    attachments: count,
    bytes,
    ...(Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, v / n])) as typeof totals),
  };
}

/** The figures of one measurement: Blob transactions per step of an attachment (no baseline: the relay stores nothing). */
export function attachmentFigures(cost: AttachmentCost): Figure[] {
  const figure = (name: string, ours: number, note?: string): Figure => ({
    name: `attachment: ${name}`,
    unit: 'tx',
    ours,
    baseline: null,
    better: 'lower',
    ...(note ? { note } : {}),
  });
  return [
    figure(
      'Blob transactions to issue the upload SAS',
      cost.issueUpload,
      'signed locally; the room needs no membership check',
    ),
    figure('Blob transactions of the browser PUT', cost.put, `${cost.bytes} B, one Put Blob`),
    figure(
      'Blob transactions of the HEAD check',
      cost.headCheck,
      'when the message with the attachment is sent; its claim of the upload adds one copy and one delete',
    ),
    figure(
      'Blob transactions of the message beyond a plain one',
      cost.sendWithAttachment - cost.sendPlain,
      `${cost.sendWithAttachment.toFixed(1)} with the attachment, ${cost.sendPlain.toFixed(1)} without`,
    ),
    figure(
      'Blob transactions to issue the read SAS',
      cost.issueRead,
      'signed locally after the membership check and one HEAD of the blob (its size and type)',
    ),
    figure('Blob transactions of the read', cost.read, 'one Get Blob per view'),
  ];
}
