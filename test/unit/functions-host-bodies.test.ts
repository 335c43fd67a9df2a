import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import azureFunctions from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import type { RouteDefinition } from '../../src/app/routes.js';
import { type RunningFunctionsHost, startFunctionsHost } from '../../src/local/functions-host/host.js';

const { HttpResponse } = azureFunctions;

let host: RunningFunctionsHost | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

function route(
  name: string,
  path: string,
  handler: (req: HttpRequest, ctx: InvocationContext) => unknown,
): RouteDefinition {
  return {
    name,
    methods: ['GET', 'POST'],
    route: path,
    authLevel: 'anonymous',
    handler: handler as RouteDefinition['handler'],
  };
}

async function start(routes: RouteDefinition[]) {
  host = await startFunctionsHost({ port: 0, settingsFile: false, routes, log: () => undefined });
  return host;
}

describe("the built-in Functions host's request and answer bodies", () => {
  it('gives the body as a Request does: a byte stream or a whole read, once, and none for GET', async () => {
    const seen: Record<string, unknown> = {};
    const refusal = async (read: () => Promise<unknown>) =>
      read().then(
        () => 'read again',
        (error: unknown) => (error instanceof TypeError ? 'TypeError' : String(error)),
      );
    const h = await start([
      route('stream', 'stream', async (req) => {
        const reader = (req.body as ReadableStream<Uint8Array>).getReader({ mode: 'byob' });
        const bytes: number[] = [];
        for (
          let r = await reader.read(new Uint8Array(64));
          !r.done;
          r = await reader.read(new Uint8Array(64))
        )
          bytes.push(...r.value);
        seen.stream = {
          text: Buffer.from(bytes).toString(),
          used: req.bodyUsed,
          again: await refusal(() => req.text()),
        };
        return { status: 204 };
      }),
      route('json', 'json', async (req) => {
        const before = req.bodyUsed;
        seen.json = {
          before,
          value: await req.json(),
          used: req.bodyUsed,
          again: await refusal(() => req.arrayBuffer()),
        };
        return { status: 204 };
      }),
      route('clone', 'clone', async (req) => {
        const copy = req.clone();
        seen.clone = [await copy.text(), await req.text()];
        return { status: 204 };
      }),
      route('get', 'get', async (req) => {
        seen.get = { body: req.body, used: req.bodyUsed, text: await req.text() };
        return { status: 204 };
      }),
    ]);
    const post = (path: string, body: string) =>
      fetch(`${h.url}/api/${path}`, { method: 'POST', body }).then((res) => res.status);
    expect(await post('stream', 'héllo')).toBe(204);
    expect(await post('json', '{"a":[1]}')).toBe(204);
    expect(await post('clone', 'twice')).toBe(204);
    expect((await fetch(`${h.url}/api/get`)).status).toBe(204);
    expect(seen).toEqual({
      stream: { text: 'héllo', used: true, again: 'TypeError' },
      json: { before: false, value: { a: [1] }, used: true, again: 'TypeError' },
      clone: ['twice', 'twice'],
      get: { body: null, used: false, text: '' },
    });
  });

  it('writes string, Buffer, Uint8Array, jsonBody and HttpResponse bodies with their content types', async () => {
    const h = await start([
      route('s', 's', () => ({ body: 'text' })),
      route('b', 'b', () => ({
        body: Buffer.from([1, 2, 3]),
        headers: { 'content-type': 'application/octet-stream' },
      })),
      route('u', 'u', () => ({ body: new Uint8Array([4, 5]) })),
      route('j', 'j', () => ({ jsonBody: { a: '<b>' } })),
      route('r', 'r', () => new HttpResponse({ status: 202, body: 'resp' })),
      route('none', 'none', () => undefined),
    ]);
    const s = await fetch(`${h.url}/api/s`);
    expect(s.status).toBe(200);
    expect(s.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await s.text()).toBe('text');
    expect([...new Uint8Array(await (await fetch(`${h.url}/api/b`)).arrayBuffer())]).toEqual([1, 2, 3]);
    expect([...new Uint8Array(await (await fetch(`${h.url}/api/u`)).arrayBuffer())]).toEqual([4, 5]);
    const j = await fetch(`${h.url}/api/j`);
    expect(j.headers.get('content-type')).toBe('application/json');
    expect(await j.json()).toEqual({ a: '<b>' });
    const r = await fetch(`${h.url}/api/r`);
    expect(r.status).toBe(202);
    expect(await r.text()).toBe('resp');
    expect((await fetch(`${h.url}/api/none`)).status).toBe(204);
  });

  it('writes a plain answer (status, headers, typed body) exactly as the same answer as an HttpResponse', async () => {
    const answers: HttpResponseInit[] = [
      { status: 200 },
      { status: 204 },
      { status: 401, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'no valid user: é' },
      {
        status: 200,
        headers: { 'Content-Type': 'application/json', 'X-Extra': ' padded ' },
        body: '{"a":1}',
      },
      { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array([7, 8]) },
      // Written in the order `Headers` keeps them (by name), whatever the order given.
      { status: 200, headers: { 'X-B': '1', 'Content-Type': 'text/plain', 'A-First': '2' }, body: 'sorted' },
      // negotiate's answer: a jsonBody typed by the host, with headers around the type it adds.
      {
        status: 200,
        headers: { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
        jsonBody: { url: 'http://localhost:8080/client/?hub=chat', accessToken: 'a.b.c', name: 'é' },
      },
      { status: 429, headers: { 'Content-Type': 'application/problem+json' }, jsonBody: { code: 'x' } },
      { status: 201, jsonBody: 'just a string' },
      { status: 200, jsonBody: () => 'nothing JSON can say' },
    ];
    const h = await start(
      answers.flatMap((answer, i) => [
        route(`plain${i}`, `plain${i}`, () => answer),
        route(`full${i}`, `full${i}`, () => new HttpResponse(answer)),
      ]),
    );
    const read = async (path: string) => {
      const { request } = await import('node:http');
      return new Promise<{ status: number; headers: string[]; body: string }>((resolve, reject) => {
        request(`${h.url}/api/${path}`, (res) => {
          const headers: string[] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            const name = res.rawHeaders[i]!.toLowerCase();
            if (name !== 'date') headers.push(`${name}: ${res.rawHeaders[i + 1]}`);
          }
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('hex') }),
          );
        })
          .on('error', reject)
          .end();
      });
    };
    for (let i = 0; i < answers.length; i += 1) {
      expect(await read(`plain${i}`)).toEqual(await read(`full${i}`));
    }
  });

  it('keeps repeated headers as separate lines and writes cookies', async () => {
    const h = await start([
      route(
        'h',
        'h',
        (): HttpResponseInit => ({
          headers: [
            ['x-multi', 'one'],
            ['x-multi', 'two'],
            ['set-cookie', 'a=1'],
            ['set-cookie', 'b=2'],
          ],
          cookies: [{ name: 'c', value: '3', httpOnly: true, path: '/' }],
          body: '',
        }),
      ),
    ]);
    const raw = await rawGet(`${h.url}/api/h`);
    expect(raw.filter((l) => l.toLowerCase().startsWith('x-multi:'))).toEqual([
      'x-multi: one',
      'x-multi: two',
    ]);
    expect(raw.filter((l) => l.toLowerCase().startsWith('set-cookie:'))).toEqual([
      'set-cookie: a=1',
      'set-cookie: b=2',
      'set-cookie: c=3; Path=/; HttpOnly',
    ]);
  });
});

async function rawGet(url: string): Promise<string[]> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      const lines: string[] = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) {
        lines.push(`${res.rawHeaders[i]!.toLowerCase()}: ${res.rawHeaders[i + 1]}`);
      }
      res.resume();
      res.on('end', () => resolve(lines));
    });
    req.on('error', reject);
    req.end();
  });
}
