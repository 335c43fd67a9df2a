/**
 * The `filter` of Azure's REST APIs (SignalR's `:execute`, Web PubSub's sends and
 * `:addToGroups`/`:removeFromGroups`): an OData boolean expression over a connection's `userId`, `connectionId`
 * and `groups`, with the grammar of Learn's "OData filter syntax in Azure Web PubSub service"
 * (docs/local-service.md, "The REST API"). One pass of a hand-written scanner and a recursive-descent parser whose
 * depth is capped: parsing costs time linear in the filter's length, and checking a connection costs time linear
 * in the parsed expression.
 */
import { Rejection } from '../errors.js';

/** What a filter reads of a connection. */
export interface FilterSubject {
  readonly connectionId: string;
  readonly userId: string | undefined;
  readonly groups: ReadonlySet<string>;
}

/** A parsed filter: true for the connections it selects. */
export type ConnectionFilter = (subject: FilterSubject) => boolean;

/** The longest filter accepted, in characters. */
export const MAX_FILTER_LENGTH = 4096;
/** The deepest nesting accepted (parentheses, `not`, function arguments): keeps the parser's stack bounded. */
export const MAX_FILTER_DEPTH = 64;

type Value = string | number | boolean | null | ReadonlySet<string> | readonly string[];
type Expr = (subject: FilterSubject) => Value;

type TokenKind = 'string' | 'number' | 'word' | '(' | ')' | ',';
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** 1-based position in the filter, for messages. */
  readonly at: number;
}

function invalid(why: string): Rejection {
  return new Rejection(
    'invalid-request',
    `The filter is not valid OData: ${why}. Write an expression such as userId eq 'ann', 'room' in groups or startswith(connectionId, 'a') (Learn: "OData filter syntax in Azure Web PubSub service")`,
  );
}

const isDigit = (c: string) => c >= '0' && c <= '9';
const isWordStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isWordPart = (c: string) => isWordStart(c) || isDigit(c);

/** Splits a filter into tokens in one pass over its characters. */
function scan(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    const at = i + 1;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, text: c, at });
      i++;
    } else if (c === "'") {
      // A string literal: '' stands for one quote.
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= source.length) throw invalid(`the string at position ${at} has no closing quote`);
        const d = source[j] as string;
        if (d === "'") {
          if (source[j + 1] === "'") {
            text += "'";
            j += 2;
            continue;
          }
          break;
        }
        text += d;
        j++;
      }
      tokens.push({ kind: 'string', text, at });
      i = j + 1;
    } else if (isDigit(c) || ((c === '-' || c === '+') && isDigit(source[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < source.length && isDigit(source[j] as string)) j++;
      tokens.push({ kind: 'number', text: source.slice(i, j), at });
      i = j;
    } else if (isWordStart(c)) {
      let j = i + 1;
      while (j < source.length && isWordPart(source[j] as string)) j++;
      tokens.push({ kind: 'word', text: source.slice(i, j), at });
      i = j;
    } else {
      throw invalid(`unexpected character "${c}" at position ${at}`);
    }
  }
  return tokens;
}

const COMPARE: Readonly<Record<string, (a: Value, b: Value) => boolean>> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  gt: (a, b) => comparable(a, b) && (a as string) > (b as string),
  ge: (a, b) => comparable(a, b) && (a as string) >= (b as string),
  lt: (a, b) => comparable(a, b) && (a as string) < (b as string),
  le: (a, b) => comparable(a, b) && (a as string) <= (b as string),
};

/** Ordering applies to two strings or two numbers; anything else compares false. */
function comparable(a: Value, b: Value): boolean {
  return (typeof a === 'string' && typeof b === 'string') || (typeof a === 'number' && typeof b === 'number');
}

const text = (v: Value | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: Value | undefined): number | undefined => (typeof v === 'number' ? v : undefined);

/** The static type of an expression, checked as the filter is parsed (Azure refuses `not length(userId)`). */
type Type = 'bool' | 'string' | 'int' | 'null' | 'collection';
interface Typed {
  readonly type: Type;
  readonly run: Expr;
}

/** A string function's argument: a string expression, or null. */
const STRINGY: readonly Type[] = ['string', 'null'];

/** The grammar's functions: argument types, result type, and what each computes (null for a null argument). */
const FUNCTIONS: Readonly<
  Record<
    string,
    {
      args: readonly (readonly Type[])[];
      optional?: number;
      type: Type;
      run: (args: readonly Value[]) => Value;
    }
  >
> = {
  startswith: {
    args: [STRINGY, STRINGY],
    type: 'bool',
    run: ([a, b]) => both(a, b, (x, y) => x.startsWith(y)),
  },
  endswith: { args: [STRINGY, STRINGY], type: 'bool', run: ([a, b]) => both(a, b, (x, y) => x.endsWith(y)) },
  contains: { args: [STRINGY, STRINGY], type: 'bool', run: ([a, b]) => both(a, b, (x, y) => x.includes(y)) },
  // OData v2's form, which older callers still send: substringof(needle, haystack).
  substringof: {
    args: [STRINGY, STRINGY],
    type: 'bool',
    run: ([a, b]) => both(a, b, (needle, haystack) => haystack.includes(needle)),
  },
  indexof: { args: [STRINGY, STRINGY], type: 'int', run: ([a, b]) => both(a, b, (x, y) => x.indexOf(y)) },
  concat: { args: [STRINGY, STRINGY], type: 'string', run: ([a, b]) => both(a, b, (x, y) => x + y) },
  length: {
    args: [['string', 'null', 'collection']],
    type: 'int',
    run: ([a]) => (a instanceof Set ? a.size : (text(a)?.length ?? null)),
  },
  tolower: { args: [STRINGY], type: 'string', run: ([a]) => text(a)?.toLowerCase() ?? null },
  toupper: { args: [STRINGY], type: 'string', run: ([a]) => text(a)?.toUpperCase() ?? null },
  trim: { args: [STRINGY], type: 'string', run: ([a]) => text(a)?.trim() ?? null },
  substring: {
    args: [STRINGY, ['int'], ['int']],
    optional: 1,
    type: 'string',
    run: ([a, from, length]) => {
      const s = text(a);
      const start = int(from);
      if (s === undefined || start === undefined || start < 0) return null;
      const count = int(length);
      if (count !== undefined && count < 0) return null;
      return count === undefined ? s.slice(start) : s.slice(start, start + count);
    },
  },
};

function both<T extends Value>(
  a: Value | undefined,
  b: Value | undefined,
  f: (x: string, y: string) => T,
): Value {
  const x = text(a);
  const y = text(b);
  return x === undefined || y === undefined ? null : f(x, y);
}

/** The identifiers of the grammar; their names are case-insensitive, as Learn's table says. */
const IDENTIFIERS: Readonly<Record<string, Typed>> = {
  userid: { type: 'string', run: (s) => s.userId ?? null },
  connectionid: { type: 'string', run: (s) => s.connectionId },
  groups: { type: 'collection', run: (s) => s.groups },
};

class Parser {
  #i = 0;
  #depth = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  get done(): boolean {
    return this.#i >= this.tokens.length;
  }
  peek(): Token | undefined {
    return this.tokens[this.#i];
  }
  take(): Token {
    const token = this.tokens[this.#i++];
    if (!token) throw invalid('the expression ends too early');
    return token;
  }
  expect(kind: TokenKind): void {
    const token = this.take();
    if (token.kind !== kind)
      throw invalid(`expected "${kind}" at position ${token.at}, found "${token.text}"`);
  }
  isWord(word: string): boolean {
    const token = this.peek();
    return token?.kind === 'word' && token.text === word;
  }
  nested<T>(parse: () => T): T {
    if (++this.#depth > MAX_FILTER_DEPTH) throw invalid(`it nests deeper than ${MAX_FILTER_DEPTH} levels`);
    try {
      return parse();
    } finally {
      this.#depth--;
    }
  }
  /** An operand of and/or/not, or the whole filter: it must be a boolean. */
  boolean(expr: Typed, at: number, what: string): Expr {
    if (expr.type !== 'bool') {
      throw invalid(
        `${what} at position ${at} is a ${expr.type}, not a boolean${what.startsWith('the operand of not') ? ': put the operand of not in parentheses, e.g. not (length(userId) gt 5)' : ''}`,
      );
    }
    return expr.run;
  }

  /** or: the loosest operator; then and; then the comparisons; not binds tightest (Learn's precedence table). */
  or(): Typed {
    const at = this.peek()?.at ?? 0;
    let left = this.and();
    while (this.isWord('or')) {
      const op = this.take();
      const a = this.boolean(left, at, 'the left side of or');
      const b = this.boolean(this.and(), op.at, 'the right side of or');
      left = { type: 'bool', run: (s) => a(s) === true || b(s) === true };
    }
    return left;
  }
  and(): Typed {
    const at = this.peek()?.at ?? 0;
    let left = this.comparison();
    while (this.isWord('and')) {
      const op = this.take();
      const a = this.boolean(left, at, 'the left side of and');
      const b = this.boolean(this.comparison(), op.at, 'the right side of and');
      left = { type: 'bool', run: (s) => a(s) === true && b(s) === true };
    }
    return left;
  }
  comparison(): Typed {
    const left = this.unary();
    const op = this.peek();
    if (op?.kind === 'word' && Object.hasOwn(COMPARE, op.text)) {
      this.take();
      const compare = COMPARE[op.text] as (a: Value, b: Value) => boolean;
      const right = this.unary();
      if (left.type === 'collection' || right.type === 'collection') {
        throw invalid(`${op.text} at position ${op.at} compares values, not collections: use in groups`);
      }
      return { type: 'bool', run: (s) => compare(left.run(s), right.run(s)) };
    }
    if (this.isWord('in')) {
      const inToken = this.take();
      if (left.type !== 'string' && left.type !== 'null') {
        throw invalid(`the left side of in at position ${inToken.at} must be a string`);
      }
      const collection = this.collection();
      return {
        type: 'bool',
        run: (s) => {
          const value = left.run(s);
          if (typeof value !== 'string') return false;
          const items = collection(s);
          return items instanceof Set ? items.has(value) : (items as readonly string[]).includes(value);
        },
      };
    }
    return left;
  }
  unary(): Typed {
    if (!this.isWord('not')) return this.primary();
    const op = this.take();
    const inner = this.nested(() => this.unary());
    const run = this.boolean(inner, op.at, 'the operand of not');
    return { type: 'bool', run: (s) => run(s) !== true };
  }
  /** After `in`: `groups`, `(groups)` or a parenthesised list of string literals. */
  collection(): (s: FilterSubject) => ReadonlySet<string> | readonly string[] {
    const token = this.take();
    if (token.kind === 'word' && token.text.toLowerCase() === 'groups') return (s) => s.groups;
    if (token.kind !== '(') throw invalid(`expected a list or groups after "in" at position ${token.at}`);
    const next = this.peek();
    if (next?.kind === 'word' && next.text.toLowerCase() === 'groups') {
      this.take();
      this.expect(')');
      return (s) => s.groups;
    }
    const items = new Set<string>();
    for (;;) {
      const item = this.take();
      if (item.kind !== 'string')
        throw invalid(`the list after "in" holds string literals (position ${item.at})`);
      items.add(item.text);
      if (this.peek()?.kind !== ',') break;
      this.take();
    }
    this.expect(')');
    return () => items;
  }
  primary(): Typed {
    const token = this.take();
    switch (token.kind) {
      case 'string':
        return { type: 'string', run: () => token.text };
      case 'number': {
        const value = Number(token.text);
        if (!Number.isSafeInteger(value)) throw invalid(`the number at position ${token.at} is too large`);
        return { type: 'int', run: () => value };
      }
      case '(': {
        const inner = this.nested(() => this.or());
        this.expect(')');
        return inner;
      }
      case 'word':
        return this.word(token);
      default:
        throw invalid(`unexpected "${token.text}" at position ${token.at}`);
    }
  }
  word(token: Token): Typed {
    if (token.text === 'true') return { type: 'bool', run: () => true };
    if (token.text === 'false') return { type: 'bool', run: () => false };
    if (token.text === 'null') return { type: 'null', run: () => null };
    const identifier = IDENTIFIERS[token.text.toLowerCase()];
    if (identifier) return identifier;
    const fn = Object.hasOwn(FUNCTIONS, token.text) ? FUNCTIONS[token.text] : undefined;
    if (!fn) {
      throw invalid(
        `unknown name "${token.text}" at position ${token.at} (identifiers: userId, connectionId, groups; functions: ${Object.keys(FUNCTIONS).join(', ')})`,
      );
    }
    this.expect('(');
    const args = this.nested(() => {
      const list: Typed[] = [this.or()];
      while (this.peek()?.kind === ',') {
        this.take();
        list.push(this.or());
      }
      return list;
    });
    this.expect(')');
    const min = fn.args.length - (fn.optional ?? 0);
    if (args.length < min || args.length > fn.args.length) {
      const arity = min === fn.args.length ? `${min}` : `${min} or ${fn.args.length}`;
      throw invalid(`${token.text} at position ${token.at} takes ${arity} arguments, not ${args.length}`);
    }
    args.forEach((arg, i) => {
      const allowed = fn.args[i] as readonly Type[];
      if (!allowed.includes(arg.type)) {
        throw invalid(
          `argument ${i + 1} of ${token.text} at position ${token.at} is a ${arg.type}, not a ${allowed.join(' or ')}`,
        );
      }
    });
    const runs = args.map((arg) => arg.run);
    return { type: fn.type, run: (s) => fn.run(runs.map((run) => run(s))) };
  }
}

/** Parses a filter; a 400 {@link Rejection} that says what is wrong and where when it is not valid. */
export function parseFilter(source: string): ConnectionFilter {
  if (source.length > MAX_FILTER_LENGTH) throw invalid(`it is longer than ${MAX_FILTER_LENGTH} characters`);
  const parser = new Parser(scan(source));
  if (parser.done) throw invalid('it is empty');
  const expr = parser.or();
  const rest = parser.peek();
  if (rest) throw invalid(`unexpected "${rest.text}" at position ${rest.at}`);
  const run = parser.boolean(expr, 1, 'the filter');
  return (subject) => run(subject) === true;
}
