/**
 * The import rule between the layers of `src/` (docs/architecture.md, "Layers"), as a checker the tests run:
 *
 * - `src/functions/` imports only `src/app/` (and packages): each file is one registration;
 * - `src/app/` (the Functions layer) never imports `src/local/` or `src/functions/`;
 * - `src/lib/` (domain and protocol) never imports `src/app/`, `src/local/` or `src/functions/`;
 * - `src/local/` (development only) may import `src/lib/` and `src/app/`, but not `src/functions/`.
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
  /** The module specifier as written. */
  readonly specifier: string;
  /** What the specifier resolves to: a layer of `src/`, another path, or `package`. */
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

/**
 * Checks a set of sources: `files` maps paths relative to the root (`src/…/x.ts`, `/` separators) to their text.
 * Returns every import that breaks the rule (empty when the tree keeps it).
 */
export function checkLayers(files: ReadonlyMap<string, string>): LayerViolation[] {
  const violations: LayerViolation[] = [];
  for (const [file, source] of files) {
    const from = layerOf(file);
    if (from === undefined) continue;
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
  return violations.map((v) => `${v.file}: imports '${v.specifier}' (${v.target}): ${v.rule}`).join('\n');
}
