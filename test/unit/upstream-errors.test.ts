import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UPSTREAM_ERRORS, UpstreamError, type UpstreamErrorCode } from '../../src/lib/upstream/index.js';

const codes = Object.keys(UPSTREAM_ERRORS) as UpstreamErrorCode[];

describe('the upstream error catalogue', () => {
  it('spells every code in lowercase kebab-case and gives it an error status', () => {
    for (const code of codes) {
      expect(code).toMatch(/^[a-z]+(?:-[a-z]+)*$/);
      const { status } = UPSTREAM_ERRORS[code];
      expect(status >= 400 && status <= 599, `${code} status ${status}`).toBe(true);
    }
  });

  it('gives every code its own message that says what to fix, without a trailing period', () => {
    const messages = codes.map((code) => UPSTREAM_ERRORS[code].message);
    expect(new Set(messages).size).toBe(messages.length);
    for (const message of messages) {
      expect(message.length).toBeGreaterThan(20);
      expect(message.endsWith('.')).toBe(false);
    }
  });

  it('builds errors that carry the catalogue entry, with the detail after the message', () => {
    for (const code of codes) {
      const plain = new UpstreamError(code);
      expect(plain).toBeInstanceOf(Error);
      expect(plain.name).toBe('UpstreamError');
      expect(plain.code).toBe(code);
      expect(plain.status).toBe(UPSTREAM_ERRORS[code].status);
      expect(plain.message).toBe(UPSTREAM_ERRORS[code].message);
      expect(new UpstreamError(code, 'found x').message).toBe(`${UPSTREAM_ERRORS[code].message} (found x)`);
    }
  });

  it('has no entry that the upstream code never raises', () => {
    const dir = join(import.meta.dirname, '../../src/lib/upstream');
    const source = readdirSync(dir)
      .filter((file) => file.endsWith('.ts') && file !== 'errors.ts')
      .map((file) => readFileSync(join(dir, file), 'utf8'))
      .join('\n');
    const raised = new Set(
      [...source.matchAll(/new UpstreamError\(\s*'([a-z-]+)'/g)].map((match) => match[1]),
    );
    expect([...raised].sort()).toEqual([...codes].sort());
  });
});
