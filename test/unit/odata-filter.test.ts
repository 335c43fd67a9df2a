/**
 * The `filter` of the REST API (`:execute`) against the examples of Learn's "OData filter syntax in Azure Web
 * PubSub service" and of Azure/azure-signalr `docs/swagger/examples/HubProxyV20230701_Execute.json`.
 */
import { describe, expect, it } from 'vitest';
import { Rejection } from '../../src/local/service/errors.js';
import {
  type FilterSubject,
  MAX_FILTER_DEPTH,
  parseFilter,
} from '../../src/local/service/rest/odata-filter.js';

const ann: FilterSubject = { connectionId: 'c-123', userId: 'user1', groups: new Set(['group1', 'admins']) };
const bo: FilterSubject = { connectionId: '123', userId: 'listener-bo', groups: new Set<string>() };
const anonymous: FilterSubject = { connectionId: 'c-9', userId: undefined, groups: new Set(['group1']) };

function selected(filter: string): string[] {
  const matches = parseFilter(filter);
  return [ann, bo, anonymous].filter((s) => matches(s)).map((s) => s.connectionId);
}

describe('the OData filter', () => {
  it.each([
    ["userId eq 'user1'", ['c-123']],
    ["connectionId ne '123'", ['c-123', 'c-9']],
    ["'group1' in groups", ['c-123', 'c-9']],
    ["not ('group1' in groups)", ['123']],
    ["userId in ('user1', 'listener-bo')", ['c-123', '123']],
    ["startswith(userId, 'listener-')", ['123']],
    ["endswith(connectionId, '23') and 'admins' in groups", ['c-123']],
    ['userId eq null', ['c-9']],
    ["length(userId) gt 5 or connectionId eq 'c-9'", ['123', 'c-9']],
    ["tolower(toupper(userId)) eq 'user1'", ['c-123']],
    ["contains(userId, 'bo') or substringof('ser', userId)", ['c-123', '123']],
    ["userId eq 'o''brien'", []],
    ['true', ['c-123', '123', 'c-9']],
    ["UserId eq 'user1' and 'admins' in Groups", ['c-123']],
    ["UserId eq 'user1' and 'admins' in Groups", ['c-123']],
  ])('%s selects %j', (filter, ids) => {
    expect(selected(filter)).toEqual(ids);
  });

  it.each([
    ['', 'it is empty'],
    ['userId eq', 'ends too early'],
    ["name eq 'x'", 'unknown name "name"'],
    ["userId eq 'x' and", 'ends too early'],
    ["userId eq 'x')", 'unexpected ")"'],
    ["userId = 'x'", 'unexpected character'],
    ["'a' in ('b', userId)", 'string literals'],
    ['startswith(userId)', 'takes 2 arguments, not 1'],
    [
      `${'('.repeat(MAX_FILTER_DEPTH + 8)}true${')'.repeat(MAX_FILTER_DEPTH + 8)}`,
      `nests deeper than ${MAX_FILTER_DEPTH} levels`,
    ],
    [`${'not '.repeat(MAX_FILTER_DEPTH + 8)}true`, `nests deeper than ${MAX_FILTER_DEPTH} levels`],
    ["userId EQ 'x'", 'unexpected "EQ"'],
  ])('refuses %j with a 400 that says why (%s)', (filter, why) => {
    let error: unknown;
    try {
      parseFilter(filter);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Rejection);
    expect((error as Rejection).status).toBe(400);
    expect((error as Rejection).message).toContain(why);
  });
});
