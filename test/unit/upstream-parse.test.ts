import { describe, expect, it } from 'vitest';
import { parseClaims } from '../../src/lib/upstream/index.js';

describe('parseClaims (X-ASRS-User-Claims)', () => {
  it('reads "type: value" pairs and collects a repeated type into an array in order', () => {
    expect({ ...parseClaims('nameid: ann, role: a, role: b, role: c') }).toEqual({
      nameid: 'ann',
      role: ['a', 'b', 'c'],
    });
  });

  it('keeps claim types that are URIs whole (they contain ":" but not ": ")', () => {
    expect({
      ...parseClaims(
        'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier: ann, aud: http://x/y',
      ),
    }).toEqual({
      'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier': 'ann',
      aud: 'http://x/y',
    });
  });

  it('accepts "type:value" without the space and skips entries without a type', () => {
    expect({ ...parseClaims('a:1,  , novalue, : orphan,b:  2 ') }).toEqual({ a: '1', b: '2' });
  });

  it('returns an empty claim set for a missing header', () => {
    expect({ ...parseClaims(null) }).toEqual({});
    expect({ ...parseClaims('') }).toEqual({});
  });

  it('treats __proto__ and constructor as ordinary claim types', () => {
    const claims = parseClaims('__proto__: x, constructor: y');
    expect(Object.getPrototypeOf(claims)).toBeNull();
    expect(Object.getOwnPropertyDescriptor(claims, '__proto__')?.value).toBe('x');
    expect(Object.getOwnPropertyDescriptor(claims, 'constructor')?.value).toBe('y');
  });
});
