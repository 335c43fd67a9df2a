import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HttpRequest, InvocationContext } from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import type { RouteDefinition } from '../../src/app/routes.js';
import { signatureHeader } from '../../src/lib/signalr/signature.js';
import { createUpstreamHandler } from '../../src/lib/upstream/index.js';
import { type RunningFunctionsHost, startFunctionsHost } from '../../src/local/functions-host/host.js';
import { compileRouteTemplate } from '../../src/local/functions-host/routing.js';

let host: RunningFunctionsHost | undefined;
const lines: string[] = [];
afterEach(async () => {
  await host?.close();
  host = undefined;
  lines.length = 0;
});

function route(
  name: string,
  path: string,
  handler: (req: HttpRequest, ctx: InvocationContext) => unknown,
  extra: Partial<RouteDefinition> = {},
): RouteDefinition {
  return {
    name,
    methods: ['GET', 'POST'],
    route: path,
    authLevel: 'anonymous',
    handler: handler as RouteDefinition['handler'],
    ...extra,
  };
}

async function start(
  routes: RouteDefinition[],
  options: { functionKeys?: string[]; maxRequestBodyBytes?: number } = {},
) {
  host = await startFunctionsHost({
    port: 0,
    settingsFile: false,
    routes,
    log: (_level, line) => lines.push(line),
    ...options,
  });
  return host;
}

describe('compileRouteTemplate', () => {
  it('matches literals case-insensitively, parameters, optional ones and a catch-all', () => {
    expect(compileRouteTemplate('home')(['HOME'])).toEqual({});
    expect(compileRouteTemplate('home')(['home', 'x'])).toBeUndefined();
    expect(compileRouteTemplate('users/{id:int}')(['users', '42'])).toEqual({ id: '42' });
    expect(compileRouteTemplate('items/{id?}')(['items'])).toEqual({});
    expect(compileRouteTemplate('assets/{*path}')(['assets', 'vendor', 'vue.js'])).toEqual({
      path: 'vendor/vue.js',
    });
    expect(compileRouteTemplate('assets/{*path}')(['assets'])).toEqual({ path: '' });
  });
});

describe('the built-in Functions host', () => {
  it('passes a real HttpRequest (method, query, headers, params, body) and InvocationContext', async () => {
    let seen: Record<string, unknown> = {};
    const h = await start([
      route('echo', 'echo/{*rest}', async (req, ctx) => {
        seen = {
          method: req.method,
          q: req.query.get('q'),
          header: req.headers.get('x-thing'),
          rest: req.params.rest,
          body: await req.text(),
          functionName: ctx.functionName,
        };
        ctx.log('handled');
        return { status: 201, body: 'ok' };
      }),
    ]);
    const res = await fetch(`${h.url}/api/echo/a/b?q=1`, {
      method: 'POST',
      headers: { 'x-thing': 'yes' },
      body: 'hello',
    });
    expect(res.status).toBe(201);
    expect(await res.text()).toBe('ok');
    expect(seen).toEqual({
      method: 'POST',
      q: '1',
      header: 'yes',
      rest: 'a/b',
      body: 'hello',
      functionName: 'echo',
    });
    expect(lines).toContain('[echo] handled');
  });

  it('answers 404 for unknown routes, 405 for a wrong method, 500 without details when a handler throws', async () => {
    const h = await start([
      route('only-get', 'g', () => ({ body: 'x' }), { methods: ['GET'] }),
      route('boom', 'boom', () => {
        throw new Error('secret detail');
      }),
    ]);
    expect((await fetch(`${h.url}/api/nope`)).status).toBe(404);
    expect((await fetch(`${h.url}/other/g`)).status).toBe(404);
    const wrong = await fetch(`${h.url}/api/g`, { method: 'POST' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
    const boom = await fetch(`${h.url}/api/boom`);
    expect(boom.status).toBe(500);
    expect(await boom.text()).not.toContain('secret detail');
    expect(lines.some((l) => l.startsWith('[boom]') && l.includes('secret detail'))).toBe(true);
  });

  it('sends the site root to the chat page, and answers HEAD /api/home with its headers and no body', async () => {
    const h = await startFunctionsHost({
      port: 0,
      settingsFile: false,
      log: (_level, line) => lines.push(line),
    });
    host = h;
    const root = await fetch(`${h.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/api/home');
    const head = await fetch(`${h.url}/api/home`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await head.text()).toBe('');
    expect((await fetch(`${h.url}/`, { method: 'POST' })).status).toBe(404);
  });

  it('refuses a body over maxRequestBodyBytes with 413 before the handler runs', async () => {
    let called = false;
    const h = await start(
      [
        route('echo', 'echo', async (req) => {
          called = true;
          return { body: await req.text() };
        }),
      ],
      { maxRequestBodyBytes: 10 },
    );
    const ok = await fetch(`${h.url}/api/echo`, { method: 'POST', body: '0123456789' });
    expect(await ok.text()).toBe('0123456789');
    called = false;
    const big = await fetch(`${h.url}/api/echo`, { method: 'POST', body: '0123456789x' });
    expect(big.status).toBe(413);
    expect(await big.text()).toBe('The request body is larger than 10 bytes');
    expect(called).toBe(false);
  });

  it('refuses a body streamed past maxRequestBodyBytes without a Content-Length with 413', async () => {
    const h = await start([route('echo', 'echo', async (req) => ({ body: await req.text() }))], {
      maxRequestBodyBytes: 10,
    });
    const chunked = new ReadableStream({
      start(controller) {
        for (const part of ['01234', '56789', 'x']) controller.enqueue(new TextEncoder().encode(part));
        controller.close();
      },
    });
    const big = await fetch(`${h.url}/api/echo`, {
      method: 'POST',
      body: chunked,
      duplex: 'half',
    } as RequestInit);
    expect(big.status).toBe(413);
    expect(await big.text()).toBe('The request body is larger than 10 bytes');
  });

  it('lets the upstream endpoint refuse an unsigned or oversized call before its body is read', async () => {
    const key = 'a-test-access-key-of-the-service-0123456789';
    const messages = createUpstreamHandler({ onConnected: async () => {} }, { accessKeys: [key] });
    const h = await start([route('messages', 'messages', messages, { methods: ['POST'] })]);
    // Headers that promise 50 MiB, then 16 bytes of it: an answer arrives without the rest ever being sent.
    const answerBeforeBody = async (headers: Record<string, string>) => {
      const req = request(`${h.url}/api/messages`, {
        method: 'POST',
        headers: { 'Content-Length': String(50 * 1024 * 1024), ...headers },
      });
      req.on('error', () => {});
      req.write('0123456789abcdef');
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      req.destroy();
      return { status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') };
    };
    const call = { 'X-ASRS-Connection-Id': 'c1', 'X-ASRS-Hub': 'chat', 'X-ASRS-Event': 'connected' };
    const unsigned = await answerBeforeBody(call);
    expect(unsigned.status).toBe(401);
    expect(unsigned.text).toContain('X-ASRS-Signature header is missing');
    const forged = await answerBeforeBody({
      ...call,
      'X-ASRS-Signature': signatureHeader(['another-key'], 'c1'),
    });
    expect(forged.status).toBe(401);
    // A signed call still cannot send more than the endpoint's own maxBodyBytes (1 MiB by default).
    const signed = await answerBeforeBody({ ...call, 'X-ASRS-Signature': signatureHeader([key], 'c1') });
    expect(signed.status).toBe(413);
  });

  it('logs one line per invocation with method, path, status and time, never the query string', async () => {
    const h = await start([route('t', 't', () => ({ body: 'x' }))]);
    await (await fetch(`${h.url}/api/t?access_token=SECRET`)).text();
    const hostLines = lines.filter((l) => l.startsWith('[host]'));
    expect(hostLines).toHaveLength(1);
    expect(hostLines[0]).toMatch(/^\[host\] GET \/api\/t 200 \d+ms$/);
    expect(lines.join('\n')).not.toContain('SECRET');
  });

  it('requires a key on authLevel function routes when keys are configured (header or ?code=)', async () => {
    const h = await start(
      [
        route('open', 'open', () => ({ body: 'open' })),
        route('locked', 'locked', () => ({ body: 'in' }), { authLevel: 'function' }),
      ],
      { functionKeys: ['k3y'] },
    );
    expect((await fetch(`${h.url}/api/open`)).status).toBe(200);
    const refused = await fetch(`${h.url}/api/locked`);
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain('x-functions-key');
    expect((await fetch(`${h.url}/api/locked`, { headers: { 'x-functions-key': 'wrong' } })).status).toBe(
      401,
    );
    expect((await fetch(`${h.url}/api/locked`, { headers: { 'x-functions-key': 'k3y' } })).status).toBe(200);
    expect((await fetch(`${h.url}/api/locked?code=k3y`)).status).toBe(200);
  });

  it('leaves authLevel function routes open when no key is configured, as func start does', async () => {
    const h = await start([route('locked', 'locked', () => ({ body: 'in' }), { authLevel: 'function' })]);
    expect((await fetch(`${h.url}/api/locked`)).status).toBe(200);
  });

  it('reads local.settings.json Values without overriding variables already set, and restores them on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'host-settings-'));
    const file = join(dir, 'local.settings.json');
    writeFileSync(file, JSON.stringify({ Values: { HOST_TEST_A: 'from-file', HOST_TEST_B: 'from-file' } }));
    process.env.HOST_TEST_B = 'already-set';
    let seen: unknown;
    host = await startFunctionsHost({
      port: 0,
      settingsFile: file,
      env: { HOST_TEST_C: 'from-env' },
      routes: [
        route('env', 'env', () => {
          seen = [process.env.HOST_TEST_A, process.env.HOST_TEST_B, process.env.HOST_TEST_C];
          return { body: '' };
        }),
      ],
      log: () => undefined,
    });
    await (await fetch(`${host.url}/api/env`)).text();
    expect(seen).toEqual(['from-file', 'already-set', 'from-env']);
    await host.close();
    host = undefined;
    expect(process.env.HOST_TEST_A).toBeUndefined();
    expect(process.env.HOST_TEST_B).toBe('already-set');
    expect(process.env.HOST_TEST_C).toBeUndefined();
    delete process.env.HOST_TEST_B;
  });

  it('rejects a busy port with an error that names it', async () => {
    const h = await start([]);
    await expect(
      startFunctionsHost({ port: h.port, settingsFile: false, routes: [], log: () => undefined }),
    ).rejects.toThrow(`Port ${h.port} is already in use`);
  });
});

/** The raw header lines of a GET (fetch folds repeated headers, so read the wire). */
