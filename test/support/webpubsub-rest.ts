/**
 * A loopback stand-in for Azure Web PubSub's REST API (mocking Azure itself): it accepts only the operations of the
 * 2024-12-01 spec (test/fixtures/specs/webpubsub-2024-12-01.operations.json) with that api-version and a token
 * signed with the access key (HS256, audience = the request URL), records each call, and answers each
 * operation's status as Azure answers it (the fixture's `clientStatuses`: the spec file's 204s fail in
 * Microsoft's client). A user is present when the test says so.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { jwtVerify } from 'jose';

interface SpecOperation {
  operationId: string;
  method: string;
  path: string;
  clientStatuses: string[];
}

const SPEC = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/specs/webpubsub-2024-12-01.operations.json'), 'utf8'),
) as { info: { version: string }; operations: SpecOperation[] };

/** One call the stand-in received, matched to its spec operation. */
export interface ReceivedCall {
  readonly operationId: string;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly contentType: string | undefined;
  readonly body: string;
}

export interface WebPubSubRestStandIn {
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  readonly key: string;
  /** Calls that matched an operation and were authorised. */
  readonly received: ReceivedCall[];
  /** Why calls were refused (no such operation, wrong api-version, bad token). */
  readonly refused: string[];
  /** Users `UserExists` finds. */
  readonly connectedUsers: Set<string>;
  /** `Endpoint=http://127.0.0.1;Port=…;AccessKey=…;Version=1.0;` */
  connectionString(): string;
  stop(): Promise<void>;
}

function match(
  method: string,
  pathname: string,
): { op: SpecOperation; params: Record<string, string> } | undefined {
  for (const op of SPEC.operations) {
    if (op.method !== method) continue;
    const names: string[] = [];
    const pattern = op.path
      .split(/(\{\w+\})/)
      .map((part) => {
        const name = /^\{(\w+)\}$/.exec(part)?.[1];
        if (!name) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(name);
        return '([^/]+)';
      })
      .join('');
    const found = new RegExp(`^${pattern}$`).exec(pathname);
    if (found) {
      const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(found[i + 1] as string)]));
      return { op, params };
    }
  }
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the stand-in on a loopback port chosen by the OS. */
export async function startWebPubSubRest(key: string): Promise<WebPubSubRestStandIn> {
  const received: ReceivedCall[] = [];
  const refused: string[] = [];
  const connectedUsers = new Set<string>();
  let base = '';
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    const body = await readBody(req);
    const found = match(req.method ?? '', url.pathname);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    try {
      if (!found) throw new Error(`no spec operation is ${req.method} ${url.pathname}`);
      if (url.searchParams.get('api-version') !== SPEC.info.version) throw new Error('wrong api-version');
      await jwtVerify(token, new TextEncoder().encode(key), {
        audience: url.toString(),
        algorithms: ['HS256'],
      });
    } catch (error) {
      refused.push((error as Error).message);
      res.writeHead(400, { 'content-type': 'application/json', 'x-ms-error-code': 'BadRequest' });
      res.end(JSON.stringify({ error: { code: 'BadRequest', message: (error as Error).message } }));
      return;
    }
    const { op, params } = found;
    received.push({
      operationId: op.operationId,
      params,
      query: url.searchParams,
      contentType: req.headers['content-type'],
      body,
    });
    if (op.operationId === 'WebPubSub_UserExists' && !connectedUsers.has(params.userId as string)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(Number(op.clientStatuses.find((status) => /^2\d\d$/.test(status))));
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    key,
    received,
    refused,
    connectedUsers,
    connectionString: () =>
      `Endpoint=http://127.0.0.1;Port=${new URL(base).port};AccessKey=${key};Version=1.0;`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
