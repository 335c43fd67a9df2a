/**
 * The Web PubSub `filter` parser against the known answers of Learn's "OData filter syntax in Azure Web PubSub
 * service": its operator table, its function examples, its precedence rules and its five examples.
 */
import { describe, expect, it } from 'vitest';
import {
  type FilterSubject,
  MAX_FILTER_DEPTH,
  MAX_FILTER_LENGTH,
  parseFilter,
} from '../../src/local/service/rest/odata-filter.js';

const conn = (connectionId: string, userId: string | undefined, groups: string[] = []): FilterSubject => ({
  connectionId,
  userId,
  groups: new Set(groups),
});

const ann = conn('c1', 'user1', ['group1']);
const bob = conn('c2', 'user2', ['group2', 'group3']);
const abde = conn('123', 'user-ab-de', ['group1', 'group2']);
const anonymous = conn('c4', undefined);
const quoted = conn('c5', "user'1");
const upper = conn('c6', 'USER1');
const spaced = conn('c7', ' user1 ');
const everyone = [ann, bob, abde, anonymous, quoted, upper, spaced];

/** The connection ids a filter selects among everyone. */
const selected = (filter: string) =>
  everyone.filter(parseFilter(filter)).map((c) => c.userId ?? `(${c.connectionId})`);

describe('the Web PubSub filter (Learn known answers)', () => {
  it('evaluates the operator table', () => {
    expect(selected('length(userId) le 10 and length(userId) gt 3')).toEqual([
      'user1',
      'user2',
      'user-ab-de',
      "user'1",
      'USER1',
      ' user1 ',
    ]);
    expect(selected('length(userId) gt 10 or length(userId) le 3')).toEqual([]);
    expect(selected("not endswith(userId, 'milk')")).toEqual(selected('true'));
    expect(selected("userId eq 'user1'")).toEqual(['user1']);
    expect(selected('userId eq null')).toEqual(['(c4)']);
    expect(selected('userId ne null')).not.toContain('(c4)');
    expect(selected("userId ne 'user1'")).not.toContain('user1');
    expect(selected("'group1' in groups")).toEqual(['user1', 'user-ab-de']);
    expect(selected("userId in ('user1','user2')")).toEqual(['user1', 'user2']);
    expect(selected("userId eq 'user1' or (not (startswith(userId,'user2')))")).not.toContain('user2');
  });

  it('evaluates the function examples', () => {
    expect(selected("tolower(userId) eq 'user1'")).toEqual(['user1', 'USER1']);
    expect(selected("toupper(userId) eq 'USER1'")).toEqual(['user1', 'USER1']);
    expect(selected("trim(userId) eq 'user1'")).toEqual(['user1', ' user1 ']);
    expect(selected("substring(userId,5,2) eq 'ab'")).toEqual(['user-ab-de']);
    expect(selected("substring(userId,5) eq 'ab-de'")).toEqual(['user-ab-de']);
    expect(selected("endswith(userId,'de')")).toEqual(['user-ab-de']);
    expect(selected("startswith(userId,'user')")).toEqual(['user1', 'user2', 'user-ab-de', "user'1"]);
    expect(selected("indexof(userId,'-ab-') ge 0")).toEqual(['user-ab-de']);
    expect(selected("indexof(userId,'zz') eq -1")).toHaveLength(6);
    expect(selected('length(groups) gt 1')).toEqual(['user2', 'user-ab-de']);
    expect(selected("contains(concat(userId, 'x'), '1x')")).toEqual(['user1', "user'1", 'USER1']);
  });

  it('binds as the precedence table says', () => {
    const loose =
      'length(userId) gt 0 and length(userId) lt 3 or length(userId) gt 7 and length(userId) lt 10';
    const tight =
      '((length(userId) gt 0) and (length(userId) lt 3)) or ((length(userId) gt 7) and (length(userId) lt 10))';
    expect(selected(loose)).toEqual(selected(tight));
    const wider =
      'length(userId) gt 0 and length(userId) lt 6 or length(userId) gt 7 and length(userId) lt 11';
    expect(selected(wider)).toEqual(['user1', 'user2', 'user-ab-de', 'USER1']);
    // not binds tighter than a comparison, so its operand here is length(userId): refused, as Azure refuses it.
    expect(() => parseFilter('not length(userId) gt 5')).toThrow(/put the operand of not in parentheses/);
    expect(selected('not (length(userId) gt 5)')).toEqual(['user1', 'user2', '(c4)', 'USER1']);
  });

  it('evaluates the examples', () => {
    expect(selected("'group1' in groups or 'group2' in groups or 'group3' in groups")).toEqual([
      'user1',
      'user2',
      'user-ab-de',
    ]);
    expect(selected("userId in ('user1', 'user2', 'user3') and 'group1' in groups")).toEqual(['user1']);
    expect(selected("userId eq 'user-ab-de' and connectionId ne '123'")).toEqual([]);
    expect(selected("userId eq 'user1' and (not ('group1' in groups))")).toEqual([]);
    expect(selected("userId eq 'user''1'")).toEqual(["user'1"]);
  });

  it('reads identifier names case-insensitively', () => {
    expect(selected("UserId eq 'user1' and 'group1' in Groups")).toEqual(['user1']);
  });

  it('refuses what is not a boolean filter, saying where', () => {
    for (const [filter, why] of [
      ['', 'empty'],
      ['userId', 'not a boolean'],
      ["userId eq 'a' and", 'ends too early'],
      ["userId eq 'a", 'no closing quote'],
      ["userId eq 'a' xor true", 'unexpected "xor" at position 15'],
      ['role eq 1', 'unknown name "role"'],
      ['startswith(userId)', 'takes 2 arguments'],
      ["substring(userId, 'a')", 'argument 2 of substring'],
      ['groups eq null', 'not collections'],
      ['userId eq #', 'unexpected character "#"'],
    ] as const) {
      expect(() => parseFilter(filter), filter).toThrow(why);
    }
  });

  it('caps the length and the nesting of a filter', () => {
    const long = `userId eq '${'a'.repeat(MAX_FILTER_LENGTH)}'`;
    expect(() => parseFilter(long)).toThrow(`longer than ${MAX_FILTER_LENGTH}`);
    const deep = `${'('.repeat(MAX_FILTER_DEPTH + 1)}true${')'.repeat(MAX_FILTER_DEPTH + 1)}`;
    expect(() => parseFilter(deep)).toThrow(`deeper than ${MAX_FILTER_DEPTH}`);
    const nots = `${'not '.repeat(MAX_FILTER_DEPTH + 1)}true`;
    expect(() => parseFilter(nots)).toThrow(`deeper than ${MAX_FILTER_DEPTH}`);
    const shallow = `${'('.repeat(MAX_FILTER_DEPTH - 1)}true${')'.repeat(MAX_FILTER_DEPTH - 1)}`;
    expect(selected(shallow)).toHaveLength(everyone.length);
  });
});
