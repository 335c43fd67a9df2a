/**
 * What `azd deploy` uploads: the `.funcignore` exclusions and the imports of the code that runs in Azure.
 * The package is built remotely (azure.yaml `remoteBuild: true`), so it must carry what `npm install` and
 * `npm run build` need, and the deployed code must not import anything the package leaves out.
 */
import { readdir, readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

/** The non-comment, non-blank patterns of an ignore file (gitignore syntax). */
export function ignorePatterns(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${escaped}$`);
}

/**
 * Whether `path` (relative, `/`-separated) is excluded by `patterns`, for the subset of gitignore used
 * here: `name` or `*`-globs without a slash match any path segment; patterns with a slash match from the
 * root; a trailing `/` is ignored; a match on a directory excludes everything below it. Negations (`!`)
 * are reported as unsupported rather than guessed at.
 */
export function isIgnored(path: string, patterns: readonly string[]): boolean {
  const segments = path.split('/');
  for (const raw of patterns) {
    if (raw.startsWith('!')) throw new Error(`negated pattern ${raw} is not supported by this check`);
    const pattern = raw.replace(/\/+$/, '').replace(/^\//, '');
    const anchored = raw.replace(/\/+$/, '').includes('/');
    if (anchored) {
      const parts = pattern.split('/');
      if (
        parts.length <= segments.length &&
        parts.every((part, i) => globToRegExp(part).test(segments[i] ?? ''))
      ) {
        return true;
      }
    } else if (segments.some((segment) => globToRegExp(pattern).test(segment))) {
      return true;
    }
  }
  return false;
}

async function listSourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** One import of a deployed source file that the deployed package cannot satisfy. */
export interface ImportProblem {
  readonly file: string;
  readonly specifier: string;
  readonly reason: string;
}

/**
 * Checks the imports of every `.ts` file under `dirs` (read with TypeScript's own pre-processor): relative
 * imports must stay out of paths `.funcignore` excludes, bare imports must be Node built-ins or
 * `dependencies` of package.json (devDependencies are a development convenience, not a runtime promise).
 */
export async function checkDeployedImports(
  dirs: readonly string[],
  patterns: readonly string[],
  dependencies: readonly string[],
): Promise<ImportProblem[]> {
  const problems: ImportProblem[] = [];
  const builtins = new Set(builtinModules);
  for (const dir of dirs) {
    for (const file of await listSourceFiles(dir)) {
      const { importedFiles } = ts.preProcessFile(await readFile(file, 'utf8'), true, true);
      for (const { fileName: specifier } of importedFiles) {
        if (specifier.startsWith('.')) {
          const target = relative(process.cwd(), normalize(join(dirname(file), specifier)))
            .split('\\')
            .join('/');
          if (isIgnored(target, patterns)) {
            problems.push({
              file,
              specifier,
              reason: `${target} is excluded from the deployment package by .funcignore`,
            });
          }
          continue;
        }
        if (specifier.startsWith('node:') || builtins.has(specifier)) continue;
        const name = specifier.startsWith('@')
          ? specifier.split('/').slice(0, 2).join('/')
          : specifier.split('/')[0];
        if (!name || !dependencies.includes(name)) {
          problems.push({ file, specifier, reason: `${name} is not in package.json dependencies` });
        }
      }
    }
  }
  return problems;
}

/**
 * Files the deployed code reads from `node_modules/<package>/...` at runtime (the page's vendored browser
 * builds) must come from `dependencies`: the remote build installs them, and nothing else promises them.
 */
export async function checkVendoredPaths(
  dirs: readonly string[],
  dependencies: readonly string[],
): Promise<ImportProblem[]> {
  const problems: ImportProblem[] = [];
  for (const dir of dirs) {
    for (const file of await listSourceFiles(dir)) {
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/['"`]node_modules\/((?:@[\w.-]+\/)?[\w.-]+)\/[^'"`]*['"`]/g)) {
        const name = match[1] ?? '';
        if (!dependencies.includes(name)) {
          problems.push({
            file,
            specifier: match[0],
            reason: `${name} is read at runtime but is not in package.json dependencies`,
          });
        }
      }
    }
  }
  return problems;
}

/**
 * The Flex Consumption remote build (Oryx) runs `npm install` (devDependencies included: tsc is one),
 * `npm run build`, then `npm run build:azure` when package.json has it, and ships the result. Pruning
 * devDependencies there, and only there, keeps the test tools out of what Azure runs while `npm run build`
 * stays the same locally. Optional dependencies go too: the only one is Azure Functions Core Tools, a local
 * development binary. The package's `.npmrc` (azure.yaml's package hooks) already keeps the remote `npm install` from
 * downloading it; the prune is the second guard, so it is never shipped either way.
 */
export function checkRemoteBuildPrunes(scripts: Readonly<Record<string, string>>): string[] {
  const script = scripts['build:azure'];
  if (script === undefined) {
    return [
      'package.json: add "build:azure": "npm prune --omit=dev --omit=optional" (the remote build runs it after `npm run build`; without it every devDependency and Core Tools are deployed).',
    ];
  }
  if (!/\bnpm prune\b/.test(script) || !/--omit=dev\b/.test(script) || !/--omit=optional\b/.test(script)) {
    return [
      `package.json: "build:azure" must run \`npm prune --omit=dev --omit=optional\` (found ${JSON.stringify(script)}).`,
    ];
  }
  return [];
}
