/**
 * One address must not hold every socket of the local service: unfinished requests time out, and the open
 * connections of one address and of all are capped, while an honest client from another address still
 * negotiates and connects. The attacks come from 127.0.0.2..4, the honest client from 127.0.0.1. Every
 * assertion waits for states (sockets closed, clients connected), never for a time.
 */
import { describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/local/service/index.js';
import { recordingLog, useServiceTest } from '../support/local-service.js';
import { SignalRRawClient } from '../support/signalr-raw-client.js';
import { SlowSockets } from '../support/slow-sockets.js';

const { service, defer } = useServiceTest();

function attack(svc: RunningService, count: number, localAddress: string, dripMs?: number): SlowSockets {
  const sockets = SlowSockets.open(svc.port, count, {
    localAddress,
    ...(dripMs === undefined ? {} : { dripMs }),
  });
  defer(() => sockets.destroy());
  return sockets;
}

async function honestClient(svc: RunningService, user: string): Promise<SignalRRawClient> {
  const client = await SignalRRawClient.open(svc.url, 'chat', user);
  defer(() => client.close());
  return client;
}

describe('sockets of the local service under a slowloris attack', () => {
  it('closes the connections of one address past maxSocketsPerAddress at once, logs that once, and still lets an honest client in', async () => {
    const log = recordingLog();
    // Long timeouts: here only the cap may cut the attack.
    const svc = await service({
      maxSocketsPerAddress: 10,
      headersTimeoutMs: 60_000,
      requestTimeoutMs: 60_000,
      log: log.log,
    });
    const attacker = attack(svc, 40, '127.0.0.2', 20);
    await attacker.until((a) => a.closed === 30 && a.open === 10);

    const honest = await honestClient(svc, 'ann');
    expect(honest.connectionId).toMatch(/\S/);
    // The attack still holds its ten sockets: the honest client got in beside it, not after it.
    expect(attacker.open).toBe(10);

    const refusals = log.entries.filter((e) => e.fields?.limit === 'maxSocketsPerAddress');
    expect(refusals).toEqual([
      {
        level: 'warn',
        message: expect.stringContaining('(maxSocketsPerAddress)'),
        fields: { address: '127.0.0.2', limit: 'maxSocketsPerAddress', max: 10, refused: 1 },
      },
    ]);
  });

  it('closes connections that drip headers past headersTimeoutMs, or send nothing', async () => {
    const svc = await service({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const dripping = attack(svc, 20, '127.0.0.2', 20);
    const silent = SlowSockets.open(svc.port, 5, { localAddress: '127.0.0.3', head: '' });
    defer(() => silent.destroy());

    await dripping.until((a) => a.closed === 20);
    await silent.until((a) => a.closed === 5);
    // Node answers 408 before it closes one, but a client still writing may be reset before it reads that.
    for (const text of dripping.received) expect(['', 'HTTP/1.1 408']).toContain(text.slice(0, 12));
    // A connection that never sent a byte is closed without an answer.
    expect(silent.received).toEqual(['', '', '', '', '']);
    expect((await honestClient(svc, 'ann')).connectionId).toMatch(/\S/);
  });

  it('closes a connection whose request body is still arriving at requestTimeoutMs', async () => {
    const svc = await service({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const head =
      'POST /client/negotiate?hub=chat&negotiateVersion=1 HTTP/1.1\r\nHost: localhost\r\n' +
      'Content-Type: text/plain\r\nContent-Length: 100000\r\n\r\n';
    const dripping = SlowSockets.open(svc.port, 5, { localAddress: '127.0.0.2', head, dripMs: 20 });
    defer(() => dripping.destroy());

    // Answered before its body was read (401: no token), each request still holds its connection until it ends.
    await dripping.until((a) => a.closed === 5);
    for (const text of dripping.received) expect(['', 'HTTP/1.1 401']).toContain(text.slice(0, 12));
  });

  it('closes connections past maxSockets from every address, and lets clients in again once they leave', async () => {
    const log = recordingLog();
    const svc = await service({
      maxSocketsPerAddress: 4,
      maxSockets: 10,
      headersTimeoutMs: 60_000,
      requestTimeoutMs: 60_000,
      log: log.log,
    });
    const first = attack(svc, 4, '127.0.0.2');
    await first.until((a) => a.open === 4);
    const second = attack(svc, 4, '127.0.0.3');
    await second.until((a) => a.open === 4);
    // Two more fit in all; the other four are closed, though their address holds none yet.
    const third = attack(svc, 6, '127.0.0.4');
    await third.until((a) => a.open === 2 && a.closed === 4);
    expect(log.entries.filter((e) => e.fields?.limit === 'maxSockets')).toEqual([
      {
        level: 'warn',
        message: expect.stringContaining('(maxSockets)'),
        fields: { address: '127.0.0.4', limit: 'maxSockets', max: 10, refused: 1 },
      },
    ]);

    first.destroy();
    // The service hears of the four closes a moment later: until then a new connection may still be refused.
    let honest: SignalRRawClient | undefined;
    while (honest === undefined) honest = await honestClient(svc, 'ann').catch(() => undefined);
    expect(honest.connectionId).toMatch(/\S/);
  });
});
