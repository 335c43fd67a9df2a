import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { optionsFromArgs } from '../../src/local/service/args.js';
import {
  DEFAULTS,
  DEV_ACCESS_KEY,
  DEV_WEBPUBSUB_ACCESS_KEY,
  readSettingsFile,
  resolveOptions,
  ServiceOptionsError,
} from '../../src/local/service/options.js';
import { upstreamHeaders } from '../../src/local/service/upstream/asrs-headers.js';
import { expandUrl, findTemplate, patternMatches } from '../../src/local/service/upstream/templates.js';

describe('local service options', () => {
  it('writes every default next to its name', () => {
    const options = resolveOptions();
    expect(options).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      accessKeys: [DEV_ACCESS_KEY],
      webPubSubAccessKeys: [DEV_WEBPUBSUB_ACCESS_KEY],
      upstream: [],
      upstreamTimeoutMs: 20_000,
      maxMessageBytes: 1_048_576,
      keepAliveIntervalMs: 15_000,
      maxOutboundMessages: 1_000,
      maxOutboundBytes: 16 * 1024 * 1024,
      notificationAttempts: 3,
      maxPendingRetries: 32,
      maxConcurrentUpstreamCalls: 64,
      connectsPerSecondPerAddress: 10,
      connectBurstPerAddress: 200,
      connectsPerSecondPerUser: 2,
      connectBurstPerUser: 20,
    });
    expect(DEFAULTS.maxMessageBytes).toBe(1024 * 1024);
  });

  it('names the option that is wrong and what it expects', () => {
    expect(() => resolveOptions({ port: 70000 })).toThrow(/port must be an integer 0–65535/);
    expect(() => resolveOptions({ maxMessageBytes: 0 })).toThrow(
      /maxMessageBytes must be a positive number \(default 1048576\)/,
    );
    expect(() => resolveOptions({ accessKeys: [] })).toThrow(ServiceOptionsError);
    expect(() => resolveOptions({ webPubSubAccessKeys: [''] })).toThrow(/webPubSubAccessKeys must hold/);
    // The key of a REST call says which service it is for, so the two services never share one.
    expect(() => resolveOptions({ webPubSubAccessKeys: [DEV_ACCESS_KEY] })).toThrow(
      /must not share a key with accessKeys/,
    );
    expect(() => resolveOptions({ upstream: 'not a url' })).toThrow(/urlTemplate is not an absolute URL/);
    expect(() => resolveOptions({ upstream: [{ urlTemplate: '' }] })).toThrow(/needs a urlTemplate/);
  });

  it('joins at most 64 KiB per coalesced message, never more than maxMessageBytes', () => {
    expect(resolveOptions().maxCoalescedBytes).toBe(64 * 1024);
    expect(resolveOptions({ maxMessageBytes: 4096 }).maxCoalescedBytes).toBe(4096);
    expect(resolveOptions({ maxCoalescedBytes: 1024 }).maxCoalescedBytes).toBe(1024);
    expect(() => resolveOptions({ maxMessageBytes: 4096, maxCoalescedBytes: 8192 })).toThrow(
      /maxCoalescedBytes \(8192\) must not exceed maxMessageBytes \(4096\)/,
    );
    expect(() => resolveOptions({ maxCoalescedBytes: 1.5 })).toThrow(
      /maxCoalescedBytes must be a whole number/,
    );
  });

  it('takes the endpoint as an origin only, and names what is wrong with another', () => {
    expect(resolveOptions().endpoint).toBeUndefined(); // http://localhost:<port> once listening
    expect(resolveOptions({ endpoint: 'http://LOCALHOST:8080/' }).endpoint).toBe('http://localhost:8080');
    expect(resolveOptions({ endpoint: 'https://chat.example.com:443' }).endpoint).toBe(
      'https://chat.example.com',
    );
    for (const bad of ['localhost:8080', 'ftp://x', 'http://x/path', 'http://x/?q=1', 'http://u:p@x']) {
      expect(() => resolveOptions({ endpoint: bad }), bad).toThrow(
        /endpoint must be the service's public origin/,
      );
    }
  });

  it('turns a single upstream URL into one template that matches everything', () => {
    const { upstream } = resolveOptions({ upstream: 'http://localhost:7071/api/messages?event={event}' });
    expect(upstream).toEqual([{ urlTemplate: 'http://localhost:7071/api/messages?event={event}' }]);
    expect(findTemplate(upstream, 'any', 'messages', 'whatever')).toBe(upstream[0]);
  });

  it('reads a settings file and refuses unknown keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'service-options-'));
    const file = join(dir, 's.json');
    writeFileSync(
      file,
      '{"upstream":[{"eventPattern":"connect","urlTemplate":"http://x/{event}"}],"maxMessageBytes":10}',
    );
    expect(readSettingsFile(file)).toEqual({
      upstream: [{ eventPattern: 'connect', urlTemplate: 'http://x/{event}' }],
      maxMessageBytes: 10,
    });
    writeFileSync(file, '{"maxMesageBytes":10}');
    expect(() => readSettingsFile(file)).toThrow(/unknown option "maxMesageBytes"/);
    writeFileSync(file, '[');
    expect(() => readSettingsFile(file)).toThrow(/not valid JSON/);
  });
});

describe('command-line flags (npm run service -- …)', () => {
  it('maps every documented flag to its option, --access-key repeatable', () => {
    expect(
      optionsFromArgs([
        ...['--port', '0', '--host', '0.0.0.0', '--endpoint', 'https://chat.example.com'],
        ...['--access-key', 'primary', '--access-key', 'secondary'],
        ...['--upstream', 'http://localhost:7071/api/messages?event={event}'],
        ...['--upstream-timeout', '5000', '--max-message-bytes', '65536', '--keepalive', '1000'],
      ]),
    ).toEqual({
      port: 0,
      host: '0.0.0.0',
      endpoint: 'https://chat.example.com',
      accessKeys: ['primary', 'secondary'],
      upstream: 'http://localhost:7071/api/messages?event={event}',
      upstreamTimeoutMs: 5000,
      maxMessageBytes: 65536,
      keepAliveIntervalMs: 1000,
    });
    expect(optionsFromArgs([])).toEqual({});
  });

  it('reads a settings file and lets flags override it', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'service-args-')), 's.json');
    writeFileSync(file, '{"port":9000,"maxMessageBytes":10,"upstream":[{"urlTemplate":"http://x/{event}"}]}');
    expect(optionsFromArgs(['--settings', file, '--port', '0'])).toEqual({
      port: 0,
      maxMessageBytes: 10,
      upstream: [{ urlTemplate: 'http://x/{event}' }],
    });
  });

  it('names a flag whose value is not a number, and refuses unknown flags', () => {
    expect(() => optionsFromArgs(['--keepalive', 'soon'])).toThrow(
      "--keepalive must be a number, not 'soon'",
    );
    expect(() => optionsFromArgs(['--colour', 'red'])).toThrow(/Unknown option '--colour'/);
  });
});

describe('upstream templates', () => {
  it('matches *, comma lists and single names case-insensitively; unset matches all', () => {
    expect(patternMatches(undefined, 'x')).toBe(true);
    expect(patternMatches('*', 'x')).toBe(true);
    expect(patternMatches('connect, Disconnect', 'DISCONNECT')).toBe(true);
    expect(patternMatches('connect,disconnect', 'connected')).toBe(false);
    expect(patternMatches('Chat', 'chat')).toBe(true);
  });

  it('takes the first matching template', () => {
    const templates = [
      { hubPattern: 'a', urlTemplate: 'http://x/1' },
      { categoryPattern: 'messages', urlTemplate: 'http://x/2' },
      { urlTemplate: 'http://x/3' },
    ];
    expect(findTemplate(templates, 'A', 'messages', 'm')?.urlTemplate).toBe('http://x/1');
    expect(findTemplate(templates, 'b', 'messages', 'm')?.urlTemplate).toBe('http://x/2');
    expect(findTemplate(templates, 'b', 'connections', 'connect')?.urlTemplate).toBe('http://x/3');
    expect(findTemplate(templates.slice(0, 2), 'b', 'connections', 'connect')).toBeUndefined();
  });

  it('URL-encodes the parameters it substitutes', () => {
    expect(expandUrl('http://h/{hub}/{category}/{event}?e={EVENT}', 'c h', 'messages', 'a/b&c')).toBe(
      'http://h/c%20h/messages/a%2Fb%26c?e=a%2Fb%26c',
    );
  });

  it('signs with one entry per key (issue 2 known answer) and formats claims and the query', () => {
    const headers = upstreamHeaders(
      {
        hub: 'chat',
        category: 'connections',
        event: 'connect',
        connectionId: 'a1b2c3',
        userId: 'ann',
        claims: [
          ['role', 'admin'],
          ['role', 'dev'],
        ],
        clientQuery: '?a=1&b=2',
        subprotocols: ['p1', 'p2'],
      },
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH', 'ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvuts'],
    );
    expect(headers).toEqual({
      'X-ASRS-Hub': 'chat',
      'X-ASRS-Category': 'connections',
      'X-ASRS-Event': 'connect',
      'X-ASRS-Connection-Id': 'a1b2c3',
      'X-ASRS-Signature':
        'sha256=6cbae2c31f2e44f07a406ecefeb344276609293c3085a3cfc1eccafa331ae992,sha256=9bda1d80ff0eb6e1d87e4845973a1bc07b31d7c84e7d12eb0d2c47eb08c6ccea',
      'X-ASRS-User-Id': 'ann',
      'X-ASRS-User-Claims': 'role: admin, role: dev',
      'X-ASRS-Client-Query': '?a=1&b=2',
      'Sec-WebSocket-Protocol': 'p1, p2',
    });
  });
});
