/**
 * A small evaluator for the Bicep expressions infra/ uses, so a test can ask "with these parameters, which
 * resources are deployed and with which property values?" offline. It covers literals, parameters, variables,
 * member and index access (`.`, `.?`, `[n]`), `!`, `==`, `!=`, `<`, `>`, `&&`, `||`, `??`, `?:` and the functions
 * the templates call. What only Azure knows at deployment time (a module's outputs, a resource's properties,
 * `uniqueString`, `guid`) evaluates to {@link UNKNOWN} (inside a string, as `⟨expression⟩`, naming the caller's
 * expression for a module parameter); a condition that depends on it counts as deployed, so an
 * unknown can only make a test stricter. This is a reader for tests, not a Bicep compiler: `az bicep build` in
 * CI remains the compiler check.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  BicepExpression,
  type BicepFile,
  type BicepModule,
  type BicepResource,
  type BicepValue,
  isObject,
} from './bicep-model.js';

/** A value only Azure knows at deployment time. */
export const UNKNOWN: unique symbol = Symbol('unknown');
export type Evaluated =
  | string
  | number
  | boolean
  | null
  | typeof UNKNOWN
  | Evaluated[]
  | { readonly [key: string]: Evaluated };

/** What `environment()`, `tenant()` and `subscription()` return in the public cloud, with placeholder ids. */
const BUILT_INS: Readonly<Record<string, Evaluated>> = {
  environment: {
    name: 'AzureCloud',
    authentication: { loginEndpoint: 'https://login.microsoftonline.com/' },
    suffixes: { storage: 'core.windows.net' },
  },
  tenant: { tenantId: '00000000-0000-0000-0000-0000000000aa' },
  subscription: { id: '/subscriptions/00000000-0000-0000-0000-0000000000bb' },
};

type Token = { readonly kind: 'op' | 'id' | 'str' | 'num'; readonly text: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const pattern =
    /\s+|\/\/[^\n]*|('(?:[^'\\]|\\.)*')|(\d+)|([A-Za-z_]\w*)|(\.\?|\?\?|==|!=|<=|>=|&&|\|\||::|[()[\]{}.,:?!<>])/gy;
  let match: RegExpExecArray | null;
  pattern.lastIndex = 0;
  while (pattern.lastIndex < source.length) {
    const start = pattern.lastIndex;
    match = pattern.exec(source);
    if (!match || match.index !== start)
      throw new Error(`cannot read \`${source.slice(start, start + 20)}\``);
    if (match[1]) tokens.push({ kind: 'str', text: match[1] });
    else if (match[2]) tokens.push({ kind: 'num', text: match[2] });
    else if (match[3]) tokens.push({ kind: 'id', text: match[3] });
    else if (match[4]) tokens.push({ kind: 'op', text: match[4] });
  }
  return tokens;
}

/** The scope one file is evaluated in: its parameter values and its variables (evaluated on first use). */
export class Scope {
  readonly #cache = new Map<string, Evaluated>();
  constructor(
    readonly file: BicepFile,
    readonly params: Readonly<Record<string, Evaluated>>,
    /** The parsed module files by path, so `module.outputs.x` reads what the module's output evaluates to. */
    readonly modules: ReadonlyMap<string, BicepFile> = new Map(),
    /** For a module's parameters that only Azure knows: the caller's expression, shown as `⟨app.outputs.x⟩`. */
    readonly origins: Readonly<Record<string, string>> = {},
  ) {}

  /** The scope a deployed module of this file runs in, with the parameters this file passes it. */
  moduleScope(module: BicepModule): Scope {
    const file = this.modules.get(module.path);
    if (!file) throw new Error(`${this.file.file}: no parsed file for module ${module.path}`);
    const given = (module.body.params as BicepValue) ?? {};
    const passed = this.value(given) as Record<string, Evaluated>;
    const origins: Record<string, string> = {};
    for (const [name, value] of Object.entries(passed)) {
      const source = isObject(given) ? given[name] : undefined;
      if (value === UNKNOWN && source instanceof BicepExpression) origins[name] = source.source;
    }
    return new Scope(file, passed, new Map(), origins);
  }

  lookup(name: string): Evaluated {
    if (name in this.params) return this.params[name] as Evaluated;
    const param = this.file.params.get(name);
    if (param) return param.defaultValue === undefined ? UNKNOWN : this.value(param.defaultValue);
    if (this.file.variables.has(name)) {
      if (!this.#cache.has(name)) {
        this.#cache.set(name, UNKNOWN); // a cycle reads as unknown
        this.#cache.set(name, this.value(this.file.variables.get(name) as BicepValue));
      }
      return this.#cache.get(name) as Evaluated;
    }
    // A module that is not deployed reads as null (so `module.?outputs.x ?? ''` gives ''); a deployed module's
    // outputs and a resource's properties are Azure's.
    const module = this.file.modules.find((m) => m.symbol === name);
    if (!module) return UNKNOWN;
    if (this.condition(module.condition) === false) return null;
    if (!this.modules.has(module.path)) return UNKNOWN;
    const key = `module:${name}`;
    if (!this.#cache.has(key)) {
      this.#cache.set(key, UNKNOWN); // a cycle reads as unknown
      const inner = this.moduleScope(module);
      const outputs: Record<string, Evaluated> = {};
      for (const [output, value] of inner.file.outputs) outputs[output] = inner.value(value);
      this.#cache.set(key, { outputs });
    }
    return this.#cache.get(key) as Evaluated;
  }

  /** Evaluates a value read by bicep-model (literals as they are, expressions from their source). */
  value(value: BicepValue): Evaluated {
    if (value instanceof BicepExpression) return this.expression(value.source);
    if (Array.isArray(value)) return value.map((item) => this.value(item));
    if (isObject(value)) {
      const object: Record<string, Evaluated> = {};
      for (const [key, item] of Object.entries(value)) object[key] = this.value(item);
      return object;
    }
    return value;
  }

  expression(source: string): Evaluated {
    const parser = new ExpressionParser(tokenize(source), this);
    const result = parser.ternary();
    parser.end(source);
    return result;
  }

  /** `if (...)` conditions: true, false, or unknown (counted as deployed by {@link deployment}). */
  condition(source: string | undefined): boolean | typeof UNKNOWN {
    if (source === undefined) return true;
    const result = this.expression(source);
    return result === UNKNOWN ? UNKNOWN : result === true;
  }
}

class ExpressionParser {
  #at = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly scope: Scope,
  ) {}

  end(source: string): void {
    if (this.#at < this.tokens.length)
      throw new Error(`unexpected \`${this.tokens[this.#at]?.text}\` in ${source}`);
  }

  #peek(text?: string): boolean {
    const token = this.tokens[this.#at];
    return token !== undefined && (text === undefined || (token.kind === 'op' && token.text === text));
  }

  #take(text?: string): Token {
    const token = this.tokens[this.#at];
    if (!token || (text !== undefined && token.text !== text)) {
      throw new Error(`expected ${text ?? 'a token'}, found ${token?.text ?? 'the end'}`);
    }
    this.#at++;
    return token;
  }

  ternary(): Evaluated {
    const test = this.#binary(0);
    if (!this.#peek('?')) return test;
    this.#take('?');
    const yes = this.ternary();
    this.#take(':');
    const no = this.ternary();
    if (test === UNKNOWN) return UNKNOWN;
    return test === true ? yes : no;
  }

  static readonly #LEVELS: readonly (readonly string[])[] = [
    ['??'],
    ['||'],
    ['&&'],
    ['==', '!='],
    ['<', '>', '<=', '>='],
  ];

  #binary(level: number): Evaluated {
    const ops = ExpressionParser.#LEVELS[level];
    if (!ops) return this.#unary();
    let left = this.#binary(level + 1);
    while (ops.some((op) => this.#peek(op))) {
      const op = this.#take().text;
      const right = this.#binary(level + 1);
      left = combine(op, left, right);
    }
    return left;
  }

  #unary(): Evaluated {
    if (this.#peek('!')) {
      this.#take('!');
      const operand = this.#unary();
      return operand === UNKNOWN ? UNKNOWN : !operand;
    }
    return this.#postfix(this.#primary());
  }

  #primary(): Evaluated {
    const token = this.#take();
    if (token.kind === 'str') return this.#string(token.text.slice(1, -1));
    if (token.kind === 'num') return Number(token.text);
    if (token.kind === 'op' && token.text === '(') {
      const inner = this.ternary();
      this.#take(')');
      return inner;
    }
    if (token.kind === 'op' && token.text === '{') {
      const object: Record<string, Evaluated> = {};
      while (!this.#peek('}')) {
        const key = this.#take();
        this.#take(':');
        object[key.kind === 'str' ? String(this.#string(key.text.slice(1, -1))) : key.text] = this.ternary();
        if (this.#peek(',')) this.#take(',');
      }
      this.#take('}');
      return object;
    }
    if (token.kind === 'op' && token.text === '[' && this.tokens[this.#at]?.text === 'for') {
      // A `[for ...]` loop expression: skipped, its items are Azure's.
      for (let depth = 1; depth > 0; ) {
        const next = this.#take().text;
        if (next === '[') depth++;
        if (next === ']') depth--;
      }
      return UNKNOWN;
    }
    if (token.kind === 'op' && token.text === '[') {
      const items: Evaluated[] = [];
      while (!this.#peek(']')) {
        items.push(this.ternary());
        if (this.#peek(',')) this.#take(',');
      }
      this.#take(']');
      return items;
    }
    if (token.kind === 'id') {
      if (token.text === 'true' || token.text === 'false') return token.text === 'true';
      if (token.text === 'null') return null;
      if (this.#peek('(')) {
        this.#take('(');
        const args: Evaluated[] = [];
        while (!this.#peek(')')) {
          args.push(this.ternary());
          if (this.#peek(',')) this.#take(',');
        }
        this.#take(')');
        return call(token.text, args, this.scope);
      }
      return this.scope.lookup(token.text);
    }
    throw new Error(`unexpected \`${token.text}\``);
  }

  #postfix(value: Evaluated): Evaluated {
    let current = value;
    // As in Bicep (and TypeScript), a `.?` that meets null ends the whole access chain with null.
    let shortCircuited = false;
    for (;;) {
      if (this.#peek('.') || this.#peek('.?') || this.#peek('::')) {
        const safe = this.#take().text === '.?' || shortCircuited;
        if (safe && current === null) shortCircuited = true;
        const key = this.#take().text;
        if (this.#peek('(')) {
          // A resource function (`signalR.listKeys()`): what it returns is Azure's.
          this.#take('(');
          while (!this.#peek(')')) {
            this.ternary();
            if (this.#peek(',')) this.#take(',');
          }
          this.#take(')');
          current = UNKNOWN;
        } else {
          current = member(current, key, safe);
        }
      } else if (this.#peek('[')) {
        this.#take('[');
        const index = this.ternary();
        this.#take(']');
        current = member(current, index, shortCircuited);
      } else {
        return current;
      }
    }
  }

  /** A string literal's text with `${...}` parts evaluated; an unknown part stays as `⟨expr⟩`. */
  #string(raw: string): Evaluated {
    let out = '';
    let index = 0;
    while (index < raw.length) {
      if (raw.startsWith('${', index)) {
        let depth = 1;
        let end = index + 2;
        while (end < raw.length && depth > 0) {
          if (raw[end] === '{') depth++;
          if (raw[end] === '}') depth--;
          end++;
        }
        const inner = raw.slice(index + 2, end - 1);
        const part = this.scope.expression(inner);
        out +=
          typeof part === 'string' || typeof part === 'number' || typeof part === 'boolean'
            ? String(part)
            : `⟨${this.scope.origins[inner.trim()] ?? inner}⟩`;
        index = end;
      } else if (raw[index] === '\\') {
        out += raw[index + 1] ?? '';
        index += 2;
      } else {
        out += raw[index];
        index++;
      }
    }
    return out;
  }
}

function combine(op: string, left: Evaluated, right: Evaluated): Evaluated {
  if (op === '??') return left === null ? right : left;
  if (op === '&&') {
    if (left === false || right === false) return false;
    return left === UNKNOWN || right === UNKNOWN ? UNKNOWN : left === true && right === true;
  }
  if (op === '||') {
    if (left === true || right === true) return true;
    return left === UNKNOWN || right === UNKNOWN ? UNKNOWN : false;
  }
  if (left === UNKNOWN || right === UNKNOWN) return UNKNOWN;
  switch (op) {
    case '==':
      return JSON.stringify(left) === JSON.stringify(right);
    case '!=':
      return JSON.stringify(left) !== JSON.stringify(right);
    case '<':
      return (left as number) < (right as number);
    case '>':
      return (left as number) > (right as number);
    case '<=':
      return (left as number) <= (right as number);
    default:
      return (left as number) >= (right as number);
  }
}

function member(value: Evaluated, key: Evaluated, safe: boolean): Evaluated {
  if (value === UNKNOWN || key === UNKNOWN) return UNKNOWN;
  if (value === null) return safe ? null : UNKNOWN;
  if (Array.isArray(value) && typeof key === 'number') return value[key] ?? (safe ? null : UNKNOWN);
  if (typeof value === 'object' && !Array.isArray(value) && typeof key === 'string') {
    return key in value ? (value[key] as Evaluated) : safe ? null : UNKNOWN;
  }
  return UNKNOWN;
}

function call(name: string, args: Evaluated[], scope: Scope): Evaluated {
  const [first, second] = args;
  if (name in BUILT_INS) return BUILT_INS[name] as Evaluated;
  if (name === 'loadJsonContent' || name === 'loadTextContent') {
    const text = readFileSync(join(dirname(scope.file.file), String(first)), 'utf8');
    return name === 'loadJsonContent' ? (JSON.parse(text) as Evaluated) : text;
  }
  if (args.some((arg) => arg === UNKNOWN)) {
    if (name === 'union' || name === 'concat') return UNKNOWN;
    return UNKNOWN;
  }
  switch (name) {
    case 'empty':
      return (
        first === null ||
        first === '' ||
        (Array.isArray(first) && first.length === 0) ||
        (typeof first === 'object' &&
          first !== null &&
          !Array.isArray(first) &&
          Object.keys(first).length === 0)
      );
    case 'union':
      return Object.assign({}, ...(args as object[])) as Evaluated;
    case 'concat':
      return args.every(Array.isArray) ? (args as Evaluated[][]).flat() : args.map(String).join('');
    case 'contains':
      return Array.isArray(first) ? first.includes(second as never) : String(first).includes(String(second));
    case 'toLower':
      return String(first).toLowerCase();
    case 'split':
      return String(first).split(String(second));
    case 'take':
      return typeof first === 'string'
        ? first.slice(0, Number(second))
        : (first as Evaluated[]).slice(0, Number(second));
    case 'json':
      return JSON.parse(String(first)) as Evaluated;
    case 'subscriptionResourceId':
      // The id Azure forms; the subscription is the placeholder of `subscription()`.
      return `${(BUILT_INS.subscription as { id: string }).id}/providers/${args.map(String).join('/')}`;
    default:
      return UNKNOWN; // uniqueString, guid, resourceId, listKeys, ...: Azure's
  }
}

/** One resource a deployment would create, with its evaluated body. */
export interface DeployedResource {
  /** The module file (or main.bicep) that declares it. */
  readonly file: string;
  /** The module symbol in main.bicep, `main` for main.bicep's own resources. */
  readonly module: string;
  readonly resource: BicepResource;
  /** true when a condition could not be decided offline (the resource counts as deployed). */
  readonly conditionUnknown: boolean;
  readonly body: { readonly [key: string]: Evaluated };
}

/** What main.bicep deploys with `params` (names of main.bicep's parameters), module by module. */
export function deployment(
  main: BicepFile,
  modules: ReadonlyMap<string, BicepFile>,
  params: Readonly<Record<string, Evaluated>>,
): { readonly resources: DeployedResource[]; readonly modules: BicepModule[]; readonly scope: Scope } {
  const scope = new Scope(main, params, modules);
  const resources: DeployedResource[] = [];
  const deployedModules: BicepModule[] = [];
  const collect = (file: BicepFile, fileScope: Scope, module: string) => {
    for (const resource of file.resources) {
      if (resource.existing) continue;
      const included = fileScope.condition(resource.condition);
      if (included === false) continue;
      resources.push({
        file: file.file,
        module,
        resource,
        conditionUnknown: included === UNKNOWN,
        body: fileScope.value(resource.body) as { [key: string]: Evaluated },
      });
    }
  };
  collect(main, scope, 'main');
  for (const module of main.modules) {
    if (scope.condition(module.condition) === false) continue;
    deployedModules.push(module);
    const inner = scope.moduleScope(module);
    collect(inner.file, inner, module.symbol);
  }
  return { resources, modules: deployedModules, scope };
}

/** The value at `keys` under `value`, or undefined. */
export function at(value: Evaluated | undefined, ...keys: (string | number)[]): Evaluated | undefined {
  let current: Evaluated | undefined = value;
  for (const key of keys) {
    if (current === undefined || current === null || current === UNKNOWN || typeof current !== 'object') {
      return undefined;
    }
    current = (current as Record<string | number, Evaluated>)[key];
  }
  return current;
}
