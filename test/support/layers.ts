/**
 * The import rules of `src/` (docs/architecture.md, "Layers"), as a checker the tests run.
 *
 * Between the layers:
 * - `src/functions/` imports only `src/app/` (and packages): each file is one registration;
 * - `src/app/` (the Functions layer) never imports `src/local/` or `src/functions/`;
 * - `src/lib/` (domain and protocol) never imports `src/app/`, `src/local/` or `src/functions/`;
 * - `src/local/` (development only) may import `src/lib/` and `src/app/`, but not `src/functions/`.
 *
 * Inside `src/lib/`, whose folders are its packages (`signalr/`, `upstream/`, `chat/`, `history/`,
 * `conversations/`) and whose
 * files directly in `src/lib/` are its leaves (`bounded-map.ts`, `conversation.ts`, `settings.ts`, …):
 * - a leaf imports nothing of the project but another leaf (`rate-limit.ts` keeps its keys with
 *   `bounded-map.ts`);
 * - `src/lib/signalr/` (the wire formats and the upstream contract) imports no other package, only leaves;
 * - `src/lib/history/`, `src/lib/upstream/` and `src/lib/conversations/` never import `src/lib/chat/`, and
 *   `src/lib/history/` never imports `src/lib/conversations/` (the chat builds on both);
 * - a package's `index.ts` (its face) only re-exports (`export … from`);
 * - a package is imported from other packages and from `src/app/` only through its face; files of one package
 *   import each other directly. `src/local/` may reach inside: a face loads its whole package, and the local
 *   service, which stands in for Azure, takes the wire formats of `signalr/` without its Azure clients
 *   (`@azure/identity` and the REST client, about 19 MB of resident memory). Tests may reach inside too.
 *
 * Inside the local service, the shared folders (`transports/`, `upstream/`, `rest/`) import no protocol wing
 * (`signalr/`, `websocket/`, `webpubsub/`): a wing builds on them, never the other way.
 *
 * Imports are read with the TypeScript compiler's own pre-processor (`ts.preProcessFile`), which finds every
 * module specifier of a file: `import`, `import type`, `export … from`, `import()`, `require()` and
 * `import x = require()`. Comments and strings that only look like imports are not counted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

export type Layer = 'functions' | 'app' | 'lib' | 'local';

/** One import that breaks the rule. */
export interface LayerViolation {
  /** The importing file, relative to the repository root with `/` separators, e.g. `src/lib/chat/fanout.ts`. */
  readonly file: string;
  /** The module specifier as written; empty for a statement of a package's face that is not a re-export. */
  readonly specifier: string;
  /**
   * What the specifier resolves to: a layer of `src/` (for a rule between layers), the resolved path (for a rule
   * inside a layer, or outside the layers), or `package`.
   */
  readonly target: Layer | 'package' | string;
  /** The rule that was broken, in words. */
  readonly rule: string;
}

const LAYERS: readonly Layer[] = ['functions', 'app', 'lib', 'local'];

/** What each layer may not import (packages are always allowed; `functions` is handled apart). */
const FORBIDDEN: Readonly<Record<Exclude<Layer, 'functions'>, readonly Layer[]>> = {
  lib: ['app', 'local', 'functions'],
  app: ['local', 'functions'],
  local: ['functions'],
};

/** The layer of a path relative to the root (`src/app/x.ts` → `app`), or undefined outside the four. */
export function layerOf(path: string): Layer | undefined {
  const [top, layer] = path.split('/');
  if (top !== 'src' || layer === undefined) return undefined;
  return (LAYERS as readonly string[]).includes(layer) ? (layer as Layer) : undefined;
}

/** Every module specifier of a TypeScript source, in order of appearance. */
export function importsOf(source: string): string[] {
  const info = ts.preProcessFile(source, true, true);
  return info.importedFiles.map((f) => f.fileName);
}

/** Where the packages (its folders) and the leaves (its files) of `src/lib/` are. */
const LIB = 'src/lib/';

/** The packages of `src/lib/` the chat builds on, which never import it. */
const CHAT_FREE_PACKAGES = ['history', 'upstream', 'conversations'] as const;

/** The shared folders of the local service, and its protocol wings (one folder per service protocol). */
const SERVICE = 'src/local/service/';
const SHARED_SERVICE_FOLDERS: readonly string[] = ['transports', 'upstream', 'rest'];
const PROTOCOL_WINGS: readonly string[] = ['signalr', 'webpubsub'];

/** The package of `src/lib/` a path belongs to (`src/lib/chat/fanout.ts` → `chat`), or undefined. */
export function libPackageOf(path: string): string | undefined {
  if (!path.startsWith(LIB)) return undefined;
  const rest = path.slice(LIB.length).split('/');
  return rest.length > 1 ? rest[0] : undefined;
}

/** Whether `path` is a leaf of `src/lib/`: a module directly in it, not in one of its packages. */
export function isLibLeaf(path: string): boolean {
  return path.startsWith(LIB) && !path.slice(LIB.length).includes('/');
}

/** The folder of the local service a path is in (`src/local/service/transports/x.ts` → `transports`). */
function serviceFolderOf(path: string): string | undefined {
  if (!path.startsWith(SERVICE)) return undefined;
  const rest = path.slice(SERVICE.length).split('/');
  return rest.length > 1 ? rest[0] : undefined;
}

/** Whether `path` is a package's face (`src/lib/<package>/index.ts`, imported as `index.js`). */
function isFace(path: string): boolean {
  return /^src\/lib\/[^/]+\/index\.[jt]s$/.test(path);
}

/** The rules inside the layers that `resolved` breaks when `file` imports it (see the header). */
function innerRules(file: string, resolved: string): string[] {
  const rules: string[] = [];
  const fromPackage = libPackageOf(file);
  const toPackage = libPackageOf(resolved);
  if (isLibLeaf(file) && !isLibLeaf(resolved) && layerOf(resolved) === 'lib') {
    rules.push('a leaf of src/lib/ imports nothing of the project but other leaves');
  }
  if (fromPackage === 'signalr' && toPackage !== undefined && toPackage !== 'signalr') {
    rules.push('src/lib/signalr/ imports no other src/lib/ package, only leaves');
  }
  if ((CHAT_FREE_PACKAGES as readonly (string | undefined)[]).includes(fromPackage) && toPackage === 'chat') {
    rules.push(`src/lib/${fromPackage}/ must not import src/lib/chat/`);
  }
  if (fromPackage === 'history' && toPackage === 'conversations') {
    rules.push('src/lib/history/ must not import src/lib/conversations/');
  }
  if (
    toPackage !== undefined &&
    toPackage !== fromPackage &&
    !isFace(resolved) &&
    layerOf(file) !== 'local'
  ) {
    rules.push(`src/lib/${toPackage}/ is imported from outside it only through its index.ts`);
  }
  const fromFolder = serviceFolderOf(file);
  const toFolder = serviceFolderOf(resolved);
  if (
    fromFolder !== undefined &&
    SHARED_SERVICE_FOLDERS.includes(fromFolder) &&
    toFolder !== undefined &&
    PROTOCOL_WINGS.includes(toFolder)
  ) {
    rules.push(`src/local/service/${fromFolder}/ imports no protocol wing (src/local/service/${toFolder}/)`);
  }
  return rules;
}

/**
 * The statements of a package's face that are not re-exports (`export … from`), each as its first line: a face
 * holds no code of its own, so reading it tells what the package offers and nothing else.
 */
function ownCodeOf(file: string, source: string): string[] {
  const tree = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  return tree.statements
    .filter((statement) => !(ts.isExportDeclaration(statement) && statement.moduleSpecifier !== undefined))
    .map((statement) => statement.getText(tree).split('\n')[0] ?? '');
}

/**
 * Checks a set of sources: `files` maps paths relative to the root (`src/…/x.ts`, `/` separators) to their text.
 * Returns every import that breaks a rule, once per rule it breaks (empty when the tree keeps them all).
 */
export function checkLayers(files: ReadonlyMap<string, string>): LayerViolation[] {
  const violations: LayerViolation[] = [];
  for (const [file, source] of files) {
    const from = layerOf(file);
    if (from === undefined) continue;
    if (isFace(file)) {
      for (const statement of ownCodeOf(file, source)) {
        violations.push({
          file,
          specifier: '',
          target: statement,
          rule: "a package's index.ts only re-exports",
        });
      }
    }
    for (const specifier of importsOf(source)) {
      const relativeImport = specifier.startsWith('./') || specifier.startsWith('../');
      const resolved = relativeImport
        ? posix.normalize(posix.join(posix.dirname(file), specifier))
        : undefined;
      const to = resolved === undefined ? 'package' : (layerOf(resolved) ?? resolved);
      let rule: string | undefined;
      if (from === 'functions') {
        if (to !== 'package' && to !== 'app') rule = 'src/functions/ imports only src/app/ and packages';
      } else if ((FORBIDDEN[from] as readonly string[]).includes(to)) {
        rule = `src/${from}/ must not import src/${to}/`;
      }
      if (rule !== undefined) violations.push({ file, specifier, target: to, rule });
      if (resolved === undefined) continue;
      for (const inner of innerRules(file, resolved)) {
        violations.push({ file, specifier, target: resolved, rule: inner });
      }
    }
  }
  return violations;
}

/** Reads every `.ts` file under `<root>/src` into the map {@link checkLayers} takes. */
export function readSources(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    // Sorted, so the files (and the violations) come in the same order on every file system.
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        files.set(relative(root, path).split(sep).join('/'), readFileSync(path, 'utf8'));
      }
    }
  };
  walk(join(root, 'src'));
  return files;
}

/** One line per violation, for a failure message that says what to move. */
export function formatViolations(violations: readonly LayerViolation[]): string {
  return violations
    .map((v) =>
      v.specifier === ''
        ? `${v.file}: \`${v.target}\`: ${v.rule}`
        : `${v.file}: imports '${v.specifier}' (${v.target}): ${v.rule}`,
    )
    .join('\n');
}
