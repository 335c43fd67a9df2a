// azd prepackage / postpackage hook of the `api` service: the remote build's `npm install` must leave out the optional
// Azure Functions Core Tools (a local development binary, downloaded by its install script), while a local
// `npm install` keeps it optional as before. So an `omit=optional` block is added to the project's .npmrc only while
// azd packages the service (the package then carries it), and removed right after (docs/deploy.md, "The package
// Azure runs"). Usage: node infra/hooks/package-npmrc.mjs add|remove
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const BEGIN =
  '# >>> deploy package only (infra/hooks/package-npmrc.mjs): the remote build skips optional deps';
export const END = '# <<< deploy package only';
const BLOCK = `${BEGIN}\nomit=optional\n${END}\n`;

/** The .npmrc text with the block added (once), keeping whatever the project's own .npmrc says. */
export function withOmitOptional(text) {
  const own = withoutOmitOptional(text) ?? '';
  return own === '' ? BLOCK : `${own.endsWith('\n') ? own : `${own}\n`}${BLOCK}`;
}

/** The .npmrc text without the block; undefined when nothing else is left (the file is removed). */
export function withoutOmitOptional(text) {
  if (text === undefined) return undefined;
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END, start);
  const own =
    start < 0 || end < 0 ? text : text.slice(0, start) + text.slice(end + END.length).replace(/^\n/, '');
  return own.trim() === '' ? undefined : own;
}

/** Applies `add` or `remove` to the .npmrc at `file`. */
export function apply(command, file = '.npmrc') {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (command === 'add') {
    writeFileSync(file, withOmitOptional(text));
    return;
  }
  if (command !== 'remove') throw new Error(`usage: package-npmrc.mjs add|remove (got ${command})`);
  const rest = withoutOmitOptional(text);
  if (rest === undefined) rmSync(file, { force: true });
  else if (rest !== text) writeFileSync(file, rest);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) apply(process.argv[2]);
