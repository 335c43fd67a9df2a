import { describe, expect, it } from 'vitest';
import { tokenUserId } from '../../src/local/service/auth/tokens.js';

const NAME_IDENTIFIER = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier';

describe('the user id of a client token, read as Azure SignalR reads it', () => {
  it('takes asrs.s.uid first, as Microsoft SDKs mint it', () => {
    expect(tokenUserId({ 'asrs.s.uid': 'uma', nameid: 'ann', sub: 'sam' })).toBe('uma');
    expect(tokenUserId({ sub: 'sam', 'asrs.s.uid': 'uma' })).toBe('uma');
  });

  it('then the name identifier: nameid (short or URI form) or sub, whichever comes first in the payload', () => {
    expect(tokenUserId({ nameid: 'ann' })).toBe('ann');
    expect(tokenUserId({ [NAME_IDENTIFIER]: 'ann' })).toBe('ann');
    expect(tokenUserId({ sub: 'sam' })).toBe('sam');
    expect(tokenUserId({ nameid: 'ann', sub: 'sam' })).toBe('ann');
    expect(tokenUserId({ sub: 'sam', nameid: 'ann' })).toBe('sam');
    expect(tokenUserId({ nameid: ['ann', 'other'] })).toBe('ann');
  });

  it('has none when no claim names a user (empty and non-string values do not count)', () => {
    expect(tokenUserId(undefined)).toBeUndefined();
    expect(tokenUserId({ aud: 'x', role: 'admin' })).toBeUndefined();
    expect(tokenUserId({ 'asrs.s.uid': '', nameid: 'ann' })).toBe('ann');
    expect(tokenUserId({ sub: 42 as unknown as string })).toBeUndefined();
  });
});
