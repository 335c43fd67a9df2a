/**
 * The `filter` of Azure's REST APIs (SignalR's `:execute`, Web PubSub's sends): an OData boolean expression
 * over a connection's `userId`, `connectionId` and `groups`, as Learn's "OData filter syntax in Azure Web PubSub
 * service" gives its grammar (docs/local-service.md, "The REST API").
 */
import { Rejection } from '../errors.js';

/** What a filter reads of a connection. */
export interface FilterSubject {
  readonly connectionId: string;
  readonly userId: string | undefined;
  readonly groups: readonly string[];
}

/** A parsed filter: true for the connections it selects. */
export type ConnectionFilter = (subject: FilterSubject) => boolean;

/** The longest filter accepted (a bound of this parser, not a documented limit of Azure). */
export const MAX_FILTER_LENGTH = 4096;
/** How deep parentheses, `not` and function calls may nest (so a hostile filter cannot exhaust the stack). */
export const MAX_FILTER_DEPTH = 32;

type Value = string | number | boolean | null | readonly string[];
type Expr = (subject: FilterSubject) => Value;

const TOKEN = /\s*(?:('(?:[^']|'')*')|(-?\d+)|([A-Za-z_][A-Za-z0-9_]*)|(\(|\)|,))/y;

interface Token {
  readonly kind: 'string' | 'number' | 'word' | 'punct';
  readonly text: string;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length) {
    if (/^\s*$/.test(source.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(source);
    if (!match) throw invalid(`unexpected character at position ${at + 1}`);
    if (match[1] !== undefined)
      tokens.push({ kind: 'string', text: match[1].slice(1, -1).replaceAll("''", "'") });
    else if (match[2] !== undefined) tokens.push({ kind: 'number', text: match[2] });
    else if (match[3] !== undefined) tokens.push({ kind: 'word', text: match[3] });
    else tokens.push({ kind: 'punct', text: match[4] as string });
  }
  return tokens;
}

function invalid(why: string): Rejection {
  return new Rejection(
    'invalid-request',
    `The filter is not valid OData: ${why}. Use e.g. userId eq 'ann', 'room' in groups, startswith(connectionId, 'a')`,
  );
}

const COMPARE: Readonly<Record<string, (a: Value, b: Value) => boolean>> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  gt: (a, b) => a !== null && b !== null && a > b,
  ge: (a, b) => a !== null && b !== null && a >= b,
  lt: (a, b) => a !== null && b !== null && a < b,
  le: (a, b) => a !== null && b !== null && a <= b,
};

const str = (v: Value): string => (typeof v === 'string' ? v : '');

/** Functions of the grammar: name → arity range and implementation. */
const FUNCTIONS: Readonly<Record<string, { min: number; max: number; run: (args: Value[]) => Value }>> = {
  startswith: { min: 2, max: 2, run: ([a, b]) => str(a as Value).startsWith(str(b as Value)) },
  endswith: { min: 2, max: 2, run: ([a, b]) => str(a as Value).endsWith(str(b as Value)) },
  contains: { min: 2, max: 2, run: ([a, b]) => str(a as Value).includes(str(b as Value)) },
  substringof: { min: 2, max: 2, run: ([a, b]) => str(b as Value).includes(str(a as Value)) },
  length: { min: 1, max: 1, run: ([a]) => str(a as Value).length },
  indexof: { min: 2, max: 2, run: ([a, b]) => str(a as Value).indexOf(str(b as Value)) },
  tolower: { min: 1, max: 1, run: ([a]) => str(a as Value).toLowerCase() },
  toupper: { min: 1, max: 1, run: ([a]) => str(a as Value).toUpperCase() },
  trim: { min: 1, max: 1, run: ([a]) => str(a as Value).trim() },
  concat: { min: 2, max: 2, run: ([a, b]) => str(a as Value) + str(b as Value) },
  substring: {
    min: 2,
    max: 3,
    run: ([a, from, length]) =>
      str(a as Value).substr(Number(from), length === undefined ? undefined : Number(length)),
  },
};

class Parser {
  #i = 0;
  #depth = 0;
  constructor(readonly tokens: readonly Token[]) {}

  /** Parses one nested part, counting the nesting. */
  nested<T>(parse: () => T): T {
    if (++this.#depth > MAX_FILTER_DEPTH) throw invalid(`it nests deeper than ${MAX_FILTER_DEPTH} levels`);
    try {
      return parse();
    } finally {
      this.#depth--;
    }
  }

  peek(): Token | undefined {
    return this.tokens[this.#i];
  }
  take(): Token {
    const token = this.tokens[this.#i++];
    if (!token) throw invalid('the expression ends too early');
    return token;
  }
  expect(text: string): void {
    const token = this.take();
    if (token.text !== text || token.kind === 'string')
      throw invalid(`expected "${text}", found "${token.text}"`);
  }
  /** Whether the next token is the word `text`; identifiers (`groups`) compare case-insensitively, as Learn says. */
  isWord(text: string): boolean {
    const token = this.peek();
    return (
      token?.kind === 'word' &&
      (token.text === text || (text === 'groups' && token.text.toLowerCase() === text))
    );
  }
  get done(): boolean {
    return this.#i >= this.tokens.length;
  }

  or(): Expr {
    let left = this.and();
    while (this.isWord('or')) {
      this.take();
      const a = left;
      const b = this.and();
      left = (s) => a(s) === true || b(s) === true;
    }
    return left;
  }
  and(): Expr {
    let left = this.unary();
    while (this.isWord('and')) {
      this.take();
      const a = left;
      const b = this.unary();
      left = (s) => a(s) === true && b(s) === true;
    }
    return left;
  }
  unary(): Expr {
    if (this.isWord('not')) {
      this.take();
      const inner = this.nested(() => this.unary());
      return (s) => inner(s) !== true;
    }
    return this.comparison();
  }
  comparison(): Expr {
    const left = this.operand();
    const op = this.peek();
    if (op?.kind === 'word' && COMPARE[op.text]) {
      this.take();
      const compare = COMPARE[op.text] as (a: Value, b: Value) => boolean;
      const right = this.operand();
      return (s) => compare(left(s), right(s));
    }
    if (this.isWord('in')) {
      this.take();
      const collection = this.collection();
      return (s) => {
        const value = left(s);
        return typeof value === 'string' && collection(s).includes(value);
      };
    }
    return left;
  }
  collection(): (s: FilterSubject) => readonly string[] {
    if (this.isWord('groups')) {
      this.take();
      return (s) => s.groups;
    }
    this.expect('(');
    const items: string[] = [];
    for (;;) {
      const token = this.take();
      if (token.kind !== 'string') throw invalid('a list after "in" holds string literals');
      items.push(token.text);
      if (this.peek()?.text !== ',') break;
      this.take();
    }
    this.expect(')');
    return () => items;
  }
  operand(): Expr {
    const token = this.take();
    if (token.kind === 'string') return () => token.text;
    if (token.kind === 'number') return () => Number(token.text);
    if (token.kind === 'punct') {
      if (token.text !== '(') throw invalid(`unexpected "${token.text}"`);
      const inner = this.nested(() => this.or());
      this.expect(')');
      return inner;
    }
    // The identifiers are case-insensitive (Learn's identifier table); keywords and functions are not.
    switch (token.text.toLowerCase()) {
      case 'userid':
        return (s) => s.userId ?? null;
      case 'connectionid':
        return (s) => s.connectionId;
      case 'groups':
        return (s) => s.groups;
    }
    switch (token.text) {
      case 'null':
        return () => null;
      case 'true':
        return () => true;
      case 'false':
        return () => false;
    }
    const fn = FUNCTIONS[token.text];
    if (!fn) throw invalid(`unknown name "${token.text}" (identifiers are userId, connectionId and groups)`);
    this.expect('(');
    const args: Expr[] = this.nested(() => {
      const list = [this.or()];
      while (this.peek()?.text === ',') {
        this.take();
        list.push(this.or());
      }
      return list;
    });
    this.expect(')');
    if (args.length < fn.min || args.length > fn.max)
      throw invalid(`${token.text} takes ${fn.min} arguments`);
    return (s) => fn.run(args.map((arg) => arg(s)));
  }
}

/** Parses a filter; a 400 {@link Rejection} saying what is wrong when it is not valid. */
export function parseFilter(source: string): ConnectionFilter {
  if (source.length > MAX_FILTER_LENGTH) throw invalid(`it is longer than ${MAX_FILTER_LENGTH} characters`);
  const parser = new Parser(tokenize(source));
  if (parser.done) throw invalid('it is empty');
  const expr = parser.or();
  if (!parser.done) throw invalid(`unexpected "${parser.peek()?.text}"`);
  return (subject) => expr(subject) === true;
}
