import { describe, expect, it } from 'vitest';
import { computeSignature, signatureHeader, verifySignature } from '../../src/lib/signalr/index.js';

// Known answers from issue 2, computed independently with Python's hmac.
const PRIMARY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH';
const SECONDARY = 'ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvuts';
const VECTORS = [
  {
    connectionId: 'a1b2c3',
    primary: '6cbae2c31f2e44f07a406ecefeb344276609293c3085a3cfc1eccafa331ae992',
    secondary: '9bda1d80ff0eb6e1d87e4845973a1bc07b31d7c84e7d12eb0d2c47eb08c6ccea',
  },
  {
    connectionId: 'conn-01HZX5',
    primary: 'b57a6180ae9ef3efae224a60729ee6b00791f36f36997dd2ec42e93caa52b508',
    secondary: '545441a717929d634ee8bbf6768dbd0708f04176379b6c9007348a6c739b8948',
  },
] as const;

describe('upstream signature (X-ASRS-Signature)', () => {
  for (const v of VECTORS) {
    it(`matches the known answers for connection id ${v.connectionId}`, () => {
      expect(computeSignature(PRIMARY, v.connectionId)).toBe(v.primary);
      expect(computeSignature(SECONDARY, v.connectionId)).toBe(v.secondary);
      expect(signatureHeader([PRIMARY, SECONDARY], v.connectionId)).toBe(
        `sha256=${v.primary},sha256=${v.secondary}`,
      );
    });

    it(`verifies a header with both entries using either key alone (${v.connectionId})`, () => {
      const header = `sha256=${v.primary},sha256=${v.secondary}`;
      expect(verifySignature(header, v.connectionId, [PRIMARY])).toBe(true);
      expect(verifySignature(header, v.connectionId, [SECONDARY])).toBe(true);
    });

    it(`accepts uppercase hex (${v.connectionId})`, () => {
      expect(verifySignature(`sha256=${v.primary.toUpperCase()}`, v.connectionId, [PRIMARY])).toBe(true);
    });
  }

  it('rejects a header signed for another connection id', () => {
    expect(verifySignature(`sha256=${VECTORS[0].primary}`, VECTORS[1].connectionId, [PRIMARY])).toBe(false);
  });

  it('checks every call of a connection against the keys configured now (a removed key stops counting)', () => {
    const header = `sha256=${VECTORS[0].secondary}`;
    const { connectionId } = VECTORS[0];
    expect(verifySignature(header, connectionId, [PRIMARY, SECONDARY])).toBe(true);
    expect(verifySignature(header, connectionId, [PRIMARY, SECONDARY])).toBe(true);
    expect(verifySignature(header, connectionId, [PRIMARY])).toBe(false);
    expect(verifySignature(header, connectionId, [SECONDARY])).toBe(true);
    expect(verifySignature(`sha256=${VECTORS[0].primary}`, connectionId, [SECONDARY])).toBe(false);
  });

  it('rejects a header whose entries match neither configured key', () => {
    expect(verifySignature(`sha256=${VECTORS[0].secondary}`, VECTORS[0].connectionId, [PRIMARY])).toBe(false);
  });

  it('rejects a missing header, an empty key list and malformed entries', () => {
    expect(verifySignature(undefined, 'a1b2c3', [PRIMARY])).toBe(false);
    expect(verifySignature(`sha256=${VECTORS[0].primary}`, 'a1b2c3', [])).toBe(false);
    expect(verifySignature(`md5=${VECTORS[0].primary}`, 'a1b2c3', [PRIMARY])).toBe(false);
    expect(verifySignature('sha256=zz', 'a1b2c3', [PRIMARY])).toBe(false);
  });
});
