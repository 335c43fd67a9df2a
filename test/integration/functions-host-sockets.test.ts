/**
 * One address must not hold every socket of the built-in Functions host: unfinished requests time out, and the
 * open connections of one address and of all are capped, while an honest client still negotiates, connects and
 * chats. The attacks come from 127.0.0.2..4; the honest client, the service's upstream calls and the host share
 * 127.0.0.1. Every assertion waits for states (sockets closed, answers, messages), never for a time.
 */
import type { HttpRequest } from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import type { RouteDefinition } from '../../src/app/routes.js';
import { startFrontEnd } from '../../src/local/functions-host/front-end.js';
import {
  type FunctionsHostOptions,
  type RunningFunctionsHost,
  startFunctionsHost,
} from '../../src/local/functions-host/host.js';
import { isMessage } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';
import { http } from '../support/local-service.js';
import { SlowSockets } from '../support/slow-sockets.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function attack(port: number, count: number, localAddress: string, head?: string): SlowSockets {
  const sockets = SlowSockets.open(port, count, {
    localAddress,
    head: head ?? 'GET /api/hello HTTP/1.1\r\nHost: localhost\r\n',
    dripMs: 20,
  });
  cleanups.push(() => sockets.destroy());
  return sockets;
}

const ROUTES: RouteDefinition[] = [
  {
    name: 'hello',
    methods: ['GET'],
    route: 'hello',
    authLevel: 'anonymous',
    handler: (() => ({ body: 'hello' })) as RouteDefinition['handler'],
  },
  {
    name: 'upload',
    methods: ['POST'],
    route: 'upload',
    authLevel: 'anonymous',
    handler: (async (req: HttpRequest) => ({
      body: String((await req.text()).length),
    })) as RouteDefinition['handler'],
  },
];

async function host(
  options: Partial<FunctionsHostOptions>,
  lines: string[] = [],
): Promise<RunningFunctionsHost> {
  const running = await startFunctionsHost({
    port: 0,
    settingsFile: false,
    routes: ROUTES,
    log: (_level, line) => lines.push(line),
    ...options,
  });
  cleanups.push(() => running.close());
  return running;
}

describe('sockets of the built-in Functions host', () => {
  it('closes connections that drip headers past headersTimeoutMs, and still answers an honest request', async () => {
    const h = await host({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const dripping = attack(h.port, 20, '127.0.0.2');
    await dripping.until((a) => a.closed === 20);
    // Node answers 408 before it closes one, but a client still writing may be reset before it reads that.
    for (const text of dripping.received) expect(['', 'HTTP/1.1 408']).toContain(text.slice(0, 12));
    expect(await http('GET', `${h.url}/api/hello`)).toMatchObject({ status: 200, text: 'hello' });
  });

  it('closes a connection whose request body is still arriving at requestTimeoutMs', async () => {
    const h = await host({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const head = 'POST /api/upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n';
    const dripping = attack(h.port, 5, '127.0.0.2', head);
    await dripping.until((a) => a.closed === 5);
    expect(await http('POST', `${h.url}/api/upload`, { body: 'abc' })).toMatchObject({
      status: 200,
      text: '3',
    });
  });

  it('closes connections past maxSockets from every address, logging each address once', async () => {
    const lines: string[] = [];
    const h = await host(
      { maxSocketsPerAddress: 4, maxSockets: 10, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 },
      lines,
    );
    const first = attack(h.port, 4, '127.0.0.2');
    await first.until((a) => a.open === 4);
    const second = attack(h.port, 4, '127.0.0.3');
    await second.until((a) => a.open === 4);
    const third = attack(h.port, 6, '127.0.0.4');
    await third.until((a) => a.open === 2 && a.closed === 4);
    expect(lines.filter((line) => line.includes('(maxSockets)'))).toEqual([
      expect.stringMatching(
        /^\[host\] Closed 1 new connection\(s\) from 127\.0\.0\.4 at once: The server already holds 10 /,
      ),
    ]);
  });
});

describe('sockets of the front end of several hosts', () => {
  it('closes connections past maxSocketsPerAddress and ones that drip headers, and still passes an honest request on', async () => {
    const h = await host({});
    const lines: string[] = [];
    const frontEnd = await startFrontEnd({
      port: 0,
      backends: [h.url],
      maxSocketsPerAddress: 5,
      headersTimeoutMs: 300,
      requestTimeoutMs: 600,
      log: (line) => lines.push(line),
    });
    cleanups.push(() => frontEnd.close());
    const attacker = attack(frontEnd.port, 20, '127.0.0.2');
    // Five are let in, the rest closed at once; the five are cut once their headers are late.
    await attacker.until((a) => a.closed === 20);
    expect(lines.filter((line) => line.includes('(maxSocketsPerAddress)'))).toEqual([
      expect.stringMatching(/^\[front-end\] Closed 1 new connection\(s\) from 127\.0\.0\.2 at once/),
    ]);
    expect(await http('GET', `${frontEnd.url}/api/hello`)).toMatchObject({ status: 200, text: 'hello' });
  });
});

describe('the chat through the built-in host under a slowloris attack', () => {
  const chat = useChatStack({
    webPubSub: false,
    // Long timeouts: only the cap may cut the attack.
    functionsSocketLimits: { maxSocketsPerAddress: 20, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 },
  });

  it('closes the connections of one address past maxSocketsPerAddress, and lets an honest client negotiate and chat', async () => {
    const port = Number(new URL(chat.stack.functionsUrl).port);
    const attacker = attack(port, 60, '127.0.0.2');
    await attacker.until((a) => a.closed === 40 && a.open === 20);

    const ann = await chat.connect('ann', 'signalr');
    await ann.send('sendMessage', { text: 'still here', clientMessageId: 'a1' });
    await ann.waitFor(isMessage('still here'));
    // The attack still holds its twenty sockets: the chat went on beside it.
    expect(attacker.open).toBe(20);
    expect(chat.stack.logs.filter((line) => line.includes('(maxSocketsPerAddress)'))).toEqual([
      expect.stringMatching(/^\[host\] Closed 1 new connection\(s\) from 127\.0\.0\.2 at once/),
    ]);
  });
});
