/**
 * Offline reading of Bicep files with the `tree-sitter-bicep` WebAssembly grammar (via `web-tree-sitter`).
 * Nothing here needs the Bicep CLI or a network: syntax problems are reported with file:line, and a file's
 * params, variables, resources, modules and outputs are turned into plain values so tests can assert the
 * shapes the deployment depends on. Expressions are kept as source text (and, for calls, member accesses and
 * interpolated strings, a little structure) rather than evaluated: this is a reader, not a Bicep compiler.
 */
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { Language, type Node, Parser } from 'web-tree-sitter';

const require = createRequire(import.meta.url);

/** Where the grammar's WebAssembly build lives inside the `tree-sitter-bicep` package. */
export const BICEP_WASM_PATH = require.resolve('tree-sitter-bicep/tree-sitter-bicep.wasm');

/** A syntax problem: an ERROR node (text the grammar cannot place) or a MISSING node (an expected token). */
export interface SyntaxProblem {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  readonly message: string;
}

/** Formats a problem as `file:line:column: message`, the form editors and CI logs link to. */
export function formatProblem(problem: SyntaxProblem): string {
  return `${problem.file}:${problem.line}:${problem.column}: ${problem.message}`;
}

/**
 * A top-level `extension` declaration, e.g. `extension microsoftGraphV1` (an alias from bicepconfig.json) or
 * `extension 'br:mcr.microsoft.com/...:1.0.0' as graph`.
 */
export interface BicepExtension {
  /** The alias or the quoted registry reference, as written (without quotes). */
  readonly reference: string;
  readonly alias?: string;
  /** 1-based. */
  readonly line: number;
}

/**
 * The `tree-sitter-bicep` grammar (1.1.0, February 2024, the newest on npm) predates the `extension` keyword
 * (Bicep renamed `provider` to `extension` in mid-2024), so it reports every `extension` line as an ERROR.
 * This reader recognises exactly the two documented one-line forms, records them, and hands the grammar
 * the file with those lines blanked (same length, so every other line and column stays where it was).
 * Anything else that starts with `extension` (a typo, a `with { ... }` configuration) is left in place and
 * still fails as a syntax error.
 */
const EXTENSION_LINE =
  /^extension[ \t]+(?:([A-Za-z_]\w*)|'([^'\n\\]+)')(?:[ \t]+as[ \t]+([A-Za-z_]\w*))?[ \t]*(?:\/\/[^\n]*)?$/;

/** Splits `source` into its `extension` declarations and the text the grammar can parse. */
export function separateExtensions(source: string): { parsable: string; extensions: BicepExtension[] } {
  const extensions: BicepExtension[] = [];
  const lines = source.split('\n');
  const parsable = lines
    .map((line, index) => {
      const match = EXTENSION_LINE.exec(line.replace(/\r$/, ''));
      if (!match) return line;
      extensions.push({
        reference: match[1] ?? match[2] ?? '',
        ...(match[3] ? { alias: match[3] } : {}),
        line: index + 1,
      });
      return ' '.repeat(line.length);
    })
    .join('\n');
  return { parsable, extensions };
}

let parserReady: Promise<Parser> | undefined;

/** One parser per process: initialising the runtime and loading the grammar is the slow part. */
export function bicepParser(): Promise<Parser> {
  parserReady ??= (async () => {
    await Parser.init();
    const language = await Language.load(BICEP_WASM_PATH);
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return parserReady;
}

async function parseTree(source: string, file: string) {
  const tree = (await bicepParser()).parse(separateExtensions(source).parsable);
  if (!tree) throw new Error(`${file}: tree-sitter returned no tree`);
  return tree;
}

/** Every ERROR and MISSING node of `source`, in document order (empty when the file parses cleanly). */
export async function findSyntaxProblems(source: string, file: string): Promise<SyntaxProblem[]> {
  const tree = await parseTree(source, file);
  const problems: SyntaxProblem[] = [];
  const visit = (node: Node) => {
    if (node.isMissing || node.isError) {
      const { row, column } = node.startPosition;
      const endRow = node.endPosition.row;
      const snippet = node.text.split('\n')[0]?.slice(0, 40) ?? '';
      // Tree-sitter's error recovery may wrap a whole declaration in one ERROR node: say where it ends too.
      const span =
        endRow > row ? ` (the unparsable text runs to line ${endRow + 1}: an unclosed bracket?)` : '';
      problems.push({
        file,
        line: row + 1,
        column: column + 1,
        message: node.isMissing
          ? `missing \`${node.type}\` (an unclosed bracket or an unfinished declaration?)`
          : `syntax error at \`${snippet}\`${span}`,
      });
      if (node.isError) return; // what sits inside an ERROR node is the same error
    }
    for (const child of node.children) visit(child);
  };
  visit(tree.rootNode);
  tree.delete();
  return problems;
}

/** Every `.bicep` file under `dir` (recursively), sorted, as paths relative to `root`. */
export async function listBicepFiles(dir: string, root: string = process.cwd()): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.bicep'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

/** Parses each file and returns every syntax problem, with the file's path as given. */
export async function checkBicepFiles(files: readonly string[]): Promise<SyntaxProblem[]> {
  const problems: SyntaxProblem[] = [];
  for (const file of files) problems.push(...(await findSyntaxProblems(await readFile(file, 'utf8'), file)));
  return problems;
}

/** A Bicep expression that is not a literal, kept as its source text plus the structure tests look at. */
export class BicepExpression {
  constructor(
    /** The expression as written. */
    readonly source: string,
    /** The grammar's node type, e.g. `identifier`, `call_expression`, `member_expression`, `string`. */
    readonly kind: string,
    /** For calls: the function name. */
    readonly callee?: string,
    /** For calls: the arguments. */
    readonly args?: readonly BicepValue[],
    /** For interpolated strings: literal text and `${…}` sources, in order. */
    readonly parts?: readonly (string | { readonly expr: string })[],
  ) {}
}

/** A Bicep value as the reader sees it: JSON-like literals, with expressions left as {@link BicepExpression}. */
export type BicepValue = string | number | boolean | null | BicepValue[] | BicepObject | BicepExpression;

/** An object literal. */
export interface BicepObject {
  readonly [key: string]: BicepValue;
}

export interface BicepParam {
  readonly name: string;
  readonly type: string;
  readonly defaultValue?: BicepValue;
  /** The `@allowed([...])` list, when there is one. */
  readonly allowed?: readonly BicepValue[];
  /** `@minValue(n)` / `@maxValue(n)`, when present. */
  readonly minValue?: number;
  readonly maxValue?: number;
  readonly line: number;
}

export interface BicepResource {
  /** The symbolic name; nested resources are addressed as `parent::child`. */
  readonly symbol: string;
  /** The full resource type, e.g. `Microsoft.Web/sites/config` for a nested `'config'`. */
  readonly type: string;
  readonly apiVersion: string;
  readonly existing: boolean;
  /** The source of the `if (...)` condition, when the resource is conditional. */
  readonly condition?: string;
  readonly body: BicepObject;
  readonly line: number;
}

export interface BicepModule {
  readonly symbol: string;
  readonly path: string;
  /** The source of the `if (...)` condition, when the module is conditional. */
  readonly condition?: string;
  readonly body: BicepObject;
  readonly line: number;
}

/** What one `.bicep` file declares. */
export interface BicepFile {
  readonly file: string;
  readonly targetScope?: string;
  readonly extensions: readonly BicepExtension[];
  readonly params: ReadonlyMap<string, BicepParam>;
  readonly variables: ReadonlyMap<string, BicepValue>;
  readonly resources: readonly BicepResource[];
  readonly modules: readonly BicepModule[];
  readonly outputs: ReadonlyMap<string, BicepValue>;
}

/** Parses `source` and reads its declarations; throws with file:line when it does not parse. */
export async function readBicep(source: string, file: string): Promise<BicepFile> {
  const problems = await findSyntaxProblems(source, file);
  if (problems.length > 0) throw new Error(`Bicep syntax error: ${problems.map(formatProblem).join('; ')}`);
  const tree = await parseTree(source, file);
  try {
    return { ...readDeclarations(tree.rootNode, file), extensions: separateExtensions(source).extensions };
  } finally {
    tree.delete();
  }
}

function readDeclarations(root: Node, file: string): Omit<BicepFile, 'extensions'> {
  const params = new Map<string, BicepParam>();
  const variables = new Map<string, BicepValue>();
  const outputs = new Map<string, BicepValue>();
  const resources: BicepResource[] = [];
  const modules: BicepModule[] = [];
  let targetScope: string | undefined;

  for (const node of root.namedChildren) {
    switch (node.type) {
      case 'target_scope_assignment': {
        const value = node.namedChildren.find((child) => child.type === 'string');
        if (value) targetScope = String(toValue(value));
        break;
      }
      case 'parameter_declaration': {
        const name = childOfType(node, 'identifier').text;
        const type = node.namedChildren.find((child) => child.type === 'type')?.text ?? '';
        const valueNode = valueAfterEquals(node);
        const allowed = decoratorArgument(node, 'allowed');
        const minValue = decoratorArgument(node, 'minValue');
        const maxValue = decoratorArgument(node, 'maxValue');
        params.set(name, {
          name,
          type,
          ...(valueNode ? { defaultValue: toValue(valueNode) } : {}),
          ...(Array.isArray(allowed) ? { allowed } : {}),
          ...(typeof minValue === 'number' ? { minValue } : {}),
          ...(typeof maxValue === 'number' ? { maxValue } : {}),
          line: node.startPosition.row + 1,
        });
        break;
      }
      case 'variable_declaration': {
        const valueNode = valueAfterEquals(node);
        if (valueNode) variables.set(childOfType(node, 'identifier').text, toValue(valueNode));
        break;
      }
      case 'output_declaration': {
        const valueNode = valueAfterEquals(node);
        if (valueNode) outputs.set(childOfType(node, 'identifier').text, toValue(valueNode));
        break;
      }
      case 'resource_declaration':
        collectResources(node, undefined, resources);
        break;
      case 'module_declaration': {
        const { body, condition } = declarationBody(node);
        modules.push({
          symbol: childOfType(node, 'identifier').text,
          path: String(toValue(childOfType(node, 'string'))),
          ...(condition ? { condition } : {}),
          body: body ? (toValue(body) as BicepObject) : {},
          line: node.startPosition.row + 1,
        });
        break;
      }
    }
  }
  return { file, ...(targetScope ? { targetScope } : {}), params, variables, resources, modules, outputs };
}

function collectResources(node: Node, parent: BicepResource | undefined, into: BicepResource[]): void {
  const symbol = childOfType(node, 'identifier').text;
  const declaredType = String(toValue(childOfType(node, 'string')));
  const [typeName = '', version] = declaredType.split('@');
  // A nested resource may name only its child segment ('config') and inherit the parent's API version.
  const nestedShortForm = parent !== undefined && !typeName.includes('/');
  const type = nestedShortForm ? `${parent.type}/${typeName}` : typeName;
  const apiVersion = version ?? parent?.apiVersion ?? '';
  const existing = node.children.some((child) => !child.isNamed && child.type === 'existing');
  const { body, condition } = declarationBody(node);
  const resource: BicepResource = {
    symbol: parent ? `${parent.symbol}::${symbol}` : symbol,
    type,
    apiVersion,
    existing,
    ...(condition ? { condition } : {}),
    body: body ? (toValue(body) as BicepObject) : {},
    line: node.startPosition.row + 1,
  };
  into.push(resource);
  for (const property of body?.namedChildren ?? []) {
    const nested = property.type === 'object_property' ? property.namedChildren[0] : undefined;
    if (nested?.type === 'resource_declaration') collectResources(nested, resource, into);
  }
}

/** The object body of a resource/module, looking through `if (...)` and `[for ...]`. */
function declarationBody(node: Node): { body?: Node; condition?: string } {
  for (const child of node.namedChildren) {
    if (child.type === 'object') return { body: child };
    if (child.type === 'if_statement') {
      const condition = child.namedChildren.find((c) => c.type === 'parenthesized_expression')?.text;
      const body = child.namedChildren.find((c) => c.type === 'object');
      return { ...(body ? { body } : {}), ...(condition ? { condition } : {}) };
    }
    if (child.type === 'for_statement') {
      const body = child.namedChildren.findLast((c) => c.type === 'object');
      return body ? { body } : {};
    }
  }
  return {};
}

function childOfType(node: Node, type: string): Node {
  const child = node.namedChildren.find((c) => c.type === type);
  if (!child) throw new Error(`line ${node.startPosition.row + 1}: expected a ${type} in ${node.type}`);
  return child;
}

function valueAfterEquals(node: Node): Node | undefined {
  const children = node.children;
  const equals = children.findIndex((child) => !child.isNamed && child.type === '=');
  if (equals < 0) return undefined;
  return children.slice(equals + 1).find((child) => child.isNamed && child.type !== 'comment');
}

/** The first argument of a decorator such as `@allowed([...])` placed before a declaration. */
function decoratorArgument(node: Node, name: string): BicepValue | undefined {
  const decorators = node.previousNamedSibling?.type === 'decorators' ? node.previousNamedSibling : undefined;
  for (const decorator of decorators?.namedChildren ?? []) {
    const call = decorator.namedChildren[0];
    if (call?.type !== 'call_expression' || call.namedChildren[0]?.text !== name) continue;
    const argument = call.namedChildren.find((c) => c.type === 'arguments')?.namedChildren[0];
    return argument ? toValue(argument) : undefined;
  }
  return undefined;
}

const ESCAPES: Readonly<Record<string, string>> = {
  "\\'": "'",
  '\\\\': '\\',
  '\\n': '\n',
  '\\r': '\r',
  '\\t': '\t',
  '\\$': '$',
};

function decodeEscape(sequence: string): string {
  const unicode = /^\\u\{([0-9a-fA-F]+)\}$/.exec(sequence);
  if (unicode?.[1]) return String.fromCodePoint(Number.parseInt(unicode[1], 16));
  return ESCAPES[sequence] ?? sequence;
}

/** Converts a syntax node to a {@link BicepValue}. */
export function toValue(node: Node): BicepValue {
  switch (node.type) {
    case 'string': {
      const parts: (string | { expr: string })[] = [];
      for (const child of node.namedChildren) {
        if (child.type === 'string_content') parts.push(child.text);
        else if (child.type === 'escape_sequence') parts.push(decodeEscape(child.text));
        else if (child.type === 'interpolation') {
          const inner = child.namedChildren[0];
          parts.push({ expr: inner ? inner.text : '' });
        }
      }
      if (parts.every((part) => typeof part === 'string')) return parts.join('');
      return new BicepExpression(node.text, 'string', undefined, undefined, joinLiterals(parts));
    }
    case 'number':
      return Number(node.text);
    case 'boolean':
      return node.text === 'true';
    case 'null':
      return null;
    case 'array':
      return node.namedChildren.filter(isValueNode).map(toValue);
    case 'object': {
      const object: Record<string, BicepValue> = {};
      for (const property of node.namedChildren) {
        if (property.type !== 'object_property') continue;
        const [key, value] = property.namedChildren.filter(isValueNode);
        if (!key || key.type === 'resource_declaration' || !value) continue;
        object[key.type === 'string' ? String(toValue(key)) : key.text] = toValue(value);
      }
      return object;
    }
    case 'parenthesized_expression': {
      const inner = node.namedChildren[0];
      return inner ? toValue(inner) : null;
    }
    case 'call_expression': {
      const callee = node.namedChildren[0]?.text ?? '';
      const args =
        node.namedChildren.find((c) => c.type === 'arguments')?.namedChildren.filter(isValueNode) ?? [];
      return new BicepExpression(node.text, node.type, callee, args.map(toValue));
    }
    default:
      return new BicepExpression(node.text, node.type);
  }
}

function isValueNode(node: Node): boolean {
  return node.type !== 'comment' && node.type !== 'diagnostic_comment' && node.type !== 'decorators';
}

function joinLiterals(parts: (string | { expr: string })[]): (string | { expr: string })[] {
  const joined: (string | { expr: string })[] = [];
  for (const part of parts) {
    const last = joined.at(-1);
    if (typeof part === 'string' && typeof last === 'string') joined[joined.length - 1] = last + part;
    else joined.push(part);
  }
  return joined;
}

/**
 * Follows variable references (`name`, `name.property`) to literal values, and fills interpolated strings
 * with the variables they name. References to params, resources and modules stay as they are, so an
 * interpolated string comes back as a template such as `https://${functionAppName}.azurewebsites.net`.
 */
export function resolve(file: BicepFile, value: BicepValue, depth = 0): BicepValue {
  if (!(value instanceof BicepExpression) || depth > 20) return value;
  if (value.kind === 'identifier') {
    const variable = file.variables.get(value.source);
    return variable === undefined ? value : resolve(file, variable, depth + 1);
  }
  if (value.kind === 'member_expression') {
    const [head, ...rest] = value.source.split('.');
    let current: BicepValue | undefined = head ? file.variables.get(head) : undefined;
    for (const key of rest) {
      current = current === undefined ? undefined : resolve(file, current, depth + 1);
      current = isObject(current) ? current[key] : undefined;
    }
    return current === undefined ? value : resolve(file, current, depth + 1);
  }
  if (value.kind === 'string' && value.parts) {
    return value.parts
      .map((part) => {
        if (typeof part === 'string') return part;
        const inner = resolve(file, new BicepExpression(part.expr, referenceKind(part.expr)), depth + 1);
        if (typeof inner === 'string') return inner;
        return `\${${part.expr}}`;
      })
      .join('');
  }
  return value;
}

function referenceKind(source: string): string {
  if (/^[A-Za-z_]\w*$/.test(source)) return 'identifier';
  if (/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$/.test(source)) return 'member_expression';
  return 'expression';
}

/** True for an object literal (not an array, not an expression). */
export function isObject(value: BicepValue | undefined): value is BicepObject {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof BicepExpression)
  );
}

/** The source text of a value: literals as JSON, expressions as written. */
export function sourceOf(value: BicepValue | undefined): string {
  if (value instanceof BicepExpression) return value.source;
  return JSON.stringify(value);
}
