import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConnectionStringError,
  HubClient,
  HubProtocolError,
  parseConnectionString,
  parseHubMessages,
  SIGNALR_ERRORS,
  SignalRRestError,
  signalRConfigFromSettings,
  TokenError,
  verifyToken,
} from '../../src/lib/signalr/index.js';

const KEBAB_CASE = /^[a-z]+(-[a-z]+)*$/;
const sourceDir = resolve(import.meta.dirname, '../../src/lib/signalr');

async function thrown(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('SignalR error catalogue', () => {
  const entries = Object.entries(SIGNALR_ERRORS);

  it('lists each code once, in kebab-case, with its own message and, where given, an error status', () => {
    expect(entries.length).toBeGreaterThan(0);
    for (const [code, entry] of entries) {
      expect(code).toMatch(KEBAB_CASE);
      expect(entry.message.trim().length).toBeGreaterThan(10);
      if ('status' in entry) {
        expect(Number.isInteger(entry.status) && entry.status >= 400 && entry.status <= 599, code).toBe(true);
      }
    }
    const messages = entries.map(([, entry]) => entry.message);
    expect(new Set(messages).size).toBe(messages.length);
  });

  it('has no entry that no module of the library raises', () => {
    const sources = readdirSync(sourceDir, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && file !== 'errors.ts')
      .map((file) => readFileSync(join(sourceDir, file), 'utf8'))
      .join('\n');
    for (const [code] of entries) expect(sources, code).toContain(`'${code}'`);
  });

  it('is where the code of every error class comes from', async () => {
    const errors = [
      await thrown(() => verifyToken(undefined, ['key'], { audiences: ['http://localhost/'] })),
      await thrown(() => parseConnectionString('Endpoint=http://localhost;Version=2.0;AccessKey=k;')),
      await thrown(() => signalRConfigFromSettings({})),
      await thrown(() => parseHubMessages('{"type":1}')),
      await thrown(() =>
        new HubClient({
          connection: parseConnectionString('Endpoint=http://127.0.0.1:1;AccessKey=k;Version=1.0;'),
          hub: 'chat',
          maxAttempts: 1,
        }).userExists('ann'),
      ),
    ];
    const classes = [
      TokenError,
      ConnectionStringError,
      ConnectionStringError,
      HubProtocolError,
      SignalRRestError,
    ];
    for (const [index, error] of errors.entries()) {
      expect(error).toBeInstanceOf(classes[index]);
      const code = (error as { code: string }).code;
      expect(Object.keys(SIGNALR_ERRORS)).toContain(code);
    }
  });
});
