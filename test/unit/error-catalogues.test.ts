import { STATUS_CODES } from 'node:http';
import { describe, expect, it } from 'vitest';
import { APP_ERRORS } from '../../src/app/errors.js';
import { CHAT_ERRORS } from '../../src/lib/chat/errors.js';
import { CONVERSATION_ERRORS } from '../../src/lib/conversations/index.js';
import { UPSTREAM_ERRORS } from '../../src/lib/upstream/errors.js';
import { WEBPUBSUB_ERRORS } from '../../src/lib/webpubsub/index.js';
import { Rejection, SERVICE_ERRORS } from '../../src/local/service/errors.js';
import { ServiceOptionsError } from '../../src/local/service/options.js';

/** The project's one spelling of an error code. */
const KEBAB = /^[a-z]+(?:-[a-z]+)*$/;

type Catalogue = Readonly<Record<string, string | { readonly status?: number; readonly message: string }>>;

/** The checks every catalogue passes: kebab-case codes, each once, a message each, valid error statuses. */
function checkCatalogue(name: string, catalogue: Catalogue): void {
  describe(`the ${name} catalogue`, () => {
    const entries = Object.entries(catalogue).map(([code, entry]) => ({
      code,
      ...(typeof entry === 'string' ? { message: entry } : entry),
    }));

    it('spells every code in lowercase kebab-case', () => {
      expect(entries.length).toBeGreaterThan(0);
      for (const { code } of entries) expect(code).toMatch(KEBAB);
    });

    it('lists each code once, even ignoring case', () => {
      const codes = entries.map(({ code }) => code.toLowerCase());
      expect(new Set(codes).size).toBe(codes.length);
    });

    it('gives every code a message that says what to fix, without a trailing period', () => {
      for (const { code, message } of entries) {
        expect(message.trim().length, code).toBeGreaterThan(15);
        expect(message.endsWith('.'), code).toBe(false);
      }
    });

    it('gives a status only where it is an HTTP error status', () => {
      for (const { code, status } of entries as { code: string; status?: number }[]) {
        if (status === undefined) continue;
        expect(Number.isInteger(status) && status >= 400 && status <= 599, `${code} ${status}`).toBe(true);
        expect(STATUS_CODES[status], `${code} ${status}`).toBeDefined();
      }
    });
  });
}

checkCatalogue('upstream', UPSTREAM_ERRORS);
checkCatalogue('Web PubSub upstream', WEBPUBSUB_ERRORS);
checkCatalogue('chat', CHAT_ERRORS);
checkCatalogue('conversations', CONVERSATION_ERRORS);
checkCatalogue('app', APP_ERRORS);
checkCatalogue('local service', SERVICE_ERRORS);

describe('local service errors', () => {
  it('give every rejection its catalogued status and the {code, message} body', () => {
    for (const code of Object.keys(SERVICE_ERRORS) as (keyof typeof SERVICE_ERRORS)[]) {
      const rejection = new Rejection(code);
      expect(rejection.status).toBe(SERVICE_ERRORS[code].status);
      expect(rejection.toJSON()).toEqual({ code, message: SERVICE_ERRORS[code].message });
      expect(new Rejection(code, 'exactly this').toJSON()).toEqual({ code, message: 'exactly this' });
    }
  });

  it('code an unusable option as a catalogued code', () => {
    const error = new ServiceOptionsError('port must be an integer');
    expect(error.code).toBe('invalid-option');
    expect(SERVICE_ERRORS[error.code].status).toBe(400);
  });
});
