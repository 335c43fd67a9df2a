/**
 * Finds the pointers into `docs/` that code and documents carry (a document, a comma and a heading in quotes, as
 * in `docs/architecture.md, "Layers"`, also when the line breaks inside it, in a comment or in Markdown) and the
 * relative Markdown links of the documents, and reports each one that leads nowhere with its file and line.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** Where pointers may be written: every text file of these, relative to the repository root. */
export const POINTER_ROOTS = [
  'src',
  'static',
  'test',
  'bench',
  'infra',
  'docs',
  '.github',
  '.ci',
  'README.md',
  'CONTRIBUTING.md',
];
/** The Markdown documents whose relative links must lead to files that exist. */
export const LINK_ROOTS = ['README.md', 'CONTRIBUTING.md', 'docs'];

/** Generated or installed folders that are not the project's text. */
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.local-data', 'test-results', 'results', '.git']);
/** Larger files are data, not prose. */
const MAX_TEXT_BYTES = 2_000_000;

export interface Problem {
  /** `path:line`, the path relative to the repository root. */
  where: string;
  what: string;
}

/** The text files under the given roots, as paths relative to `root`. */
export function textFiles(root: string, roots: readonly string[]): string[] {
  const out: string[] = [];
  const visit = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) if (!SKIPPED_DIRS.has(entry)) visit(join(path, entry));
    } else if (stat.isFile() && stat.size <= MAX_TEXT_BYTES) {
      const bytes = readFileSync(path);
      if (!bytes.includes(0)) out.push(relative(root, path));
    }
  };
  for (const r of roots) if (existsSync(join(root, r))) visit(join(root, r));
  return out.sort();
}

/** The headings of a Markdown document, any level, as written after the `#`s. */
export function headingsOf(markdown: string): Set<string> {
  const headings = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (m?.[1]) headings.add(m[1]);
  }
  return headings;
}

/** A pointer: the document, an optional Markdown link around its name, a comma, the heading in quotes. */
const POINTER = /docs\/([\w.-]+\.md)(?:\]\([^)\s]*\))?,\s+"([^"]+)"/g;
/** What continues a line in a comment or a list: leading space, `*`, `//`, `#`, `>`. */
const CONTINUATION = /^\s*(?:\*(?!\/)|\/\/|#(?!#)|>)?\s*/;

export interface Pointer {
  line: number;
  document: string;
  heading: string;
}

/** The pointers in a file's text, each with the line it starts on (a pointer may run onto the next line). */
export function pointersIn(text: string): Pointer[] {
  const lines = text.split('\n');
  const found: Pointer[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const next = (lines[i + 1] ?? '').replace(CONTINUATION, '');
    const joined = `${line} ${next}`;
    for (const m of joined.matchAll(POINTER)) {
      // Only those that start on this line; the next line's own are found when it is this line.
      if (m.index < line.length) found.push({ line: i + 1, document: m[1] ?? '', heading: m[2] ?? '' });
    }
  }
  return found;
}

/** Every pointer under `roots` whose document or heading does not exist. */
export function danglingPointers(root: string, roots: readonly string[] = POINTER_ROOTS): Problem[] {
  const headings = new Map<string, Set<string> | null>();
  const headingsIn = (document: string) => {
    if (!headings.has(document)) {
      const path = join(root, 'docs', document);
      headings.set(document, existsSync(path) ? headingsOf(readFileSync(path, 'utf8')) : null);
    }
    return headings.get(document) ?? null;
  };
  const problems: Problem[] = [];
  for (const file of textFiles(root, roots)) {
    for (const p of pointersIn(readFileSync(join(root, file), 'utf8'))) {
      const known = headingsIn(p.document);
      if (known === null) {
        problems.push({ where: `${file}:${p.line}`, what: `docs/${p.document} does not exist` });
      } else if (!known.has(p.heading)) {
        problems.push({
          where: `${file}:${p.line}`,
          what: `docs/${p.document} has no heading "${p.heading}"`,
        });
      }
    }
  }
  return problems;
}

/** Inline Markdown links and images (`[text](target)`, `![alt](target "title")`) and HTML images. */
const LINK = /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)|<img\b[^>]*?\ssrc="([^"]+)"/g;

/** Every relative link in the Markdown under `roots` whose file does not exist (anchors are not checked). */
export function danglingLinks(root: string, roots: readonly string[] = LINK_ROOTS): Problem[] {
  const problems: Problem[] = [];
  for (const file of textFiles(root, roots).filter((f) => f.endsWith('.md'))) {
    const lines = readFileSync(join(root, file), 'utf8').split('\n');
    let fenced = false;
    lines.forEach((line, i) => {
      if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
      if (fenced) return;
      for (const m of line.matchAll(LINK)) {
        const target = m[1] ?? m[2] ?? '';
        if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
        const path = decodeURI(target.split('#')[0] ?? '');
        if (!existsSync(resolve(dirname(join(root, file)), path))) {
          problems.push({ where: `${file}:${i + 1}`, what: `links to ${target}, which does not exist` });
        }
      }
    });
  }
  return problems;
}

/** The top-level folders whose files a document may name by path. */
export const PATH_ROOTS = ['src', 'static', 'test', 'bench', 'infra', 'docs', '.github', '.ci'];

/**
 * A repository path in backticks: a top-level folder, then folders and a file or a folder (`/` at its end), with
 * an optional `:line`. Globs, placeholders and elisions (`*`, `<name>`, `…`) are not paths and do not match.
 */
const BACKTICKED_PATH = new RegExp(
  `\`((?:${PATH_ROOTS.map((r) => r.replace('.', '\\.')).join('|')})/[\\w./@+-]*?)(?::\\d+(?:-\\d+)?)?\``,
  'g',
);

/** Folders that runs write and git ignores: present or not, a checkout does not hold them. */
const GENERATED = ['bench/results/'];

/**
 * Whether a path is this repository's: directly in a top-level folder (`docs/deploy.md`), or below a folder that
 * the top-level one has here (`src/local/…`). Paths of other repositories that documents cite (dotnet/aspnetcore's
 * `src/SignalR/…`) and generated folders that a fresh checkout lacks (`bench/results/`) are below folders this
 * tree does not have.
 */
function isOwnPath(root: string, path: string): boolean {
  if (GENERATED.some((folder) => path.startsWith(folder))) return false;
  const segments = path.split('/').filter((s) => s !== '');
  return segments.length <= 2 || existsSync(join(root, segments[0] ?? '', segments[1] ?? ''));
}

/** Every backticked path of this repository in the Markdown under `roots` that names no file or folder of it. */
export function danglingPaths(root: string, roots: readonly string[] = LINK_ROOTS): Problem[] {
  const problems: Problem[] = [];
  for (const file of textFiles(root, roots).filter((f) => f.endsWith('.md'))) {
    const lines = readFileSync(join(root, file), 'utf8').split('\n');
    let fenced = false;
    lines.forEach((line, i) => {
      if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
      if (fenced) return;
      for (const m of line.matchAll(BACKTICKED_PATH)) {
        const path = m[1] ?? '';
        if (isOwnPath(root, path) && !existsSync(join(root, path))) {
          problems.push({ where: `${file}:${i + 1}`, what: `names ${path}, which does not exist` });
        }
      }
    });
  }
  return problems;
}

/** One line per problem, for a test's failure message. */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.where}: ${p.what}`).join('\n');
}
