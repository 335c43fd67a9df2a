import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/compiled.js';
import {
  danglingLinks,
  danglingPaths,
  danglingPointers,
  formatProblems,
  headingsOf,
  POINTER_ROOTS,
  pointersIn,
  textFiles,
} from '../support/doc-pointers.js';

// Written apart so that this file carries no pointer of its own.
const ARCH = 'docs/architecture.md';

describe('pointers into docs/ and links between documents', () => {
  it('every pointer in the repository names a heading its document has', () => {
    const files = textFiles(ROOT, POINTER_ROOTS);
    // The walk found the tree (an empty list would make this test pass for nothing).
    for (const f of ['README.md', 'docs/architecture.md', 'src/app/routes.ts', 'static/index.html']) {
      expect(files).toContain(f);
    }
    const problems = danglingPointers(ROOT);
    expect(problems, formatProblems(problems)).toEqual([]);
  });

  it('every relative link in README.md, CONTRIBUTING.md and docs/ leads to a file that exists', () => {
    const problems = danglingLinks(ROOT);
    expect(problems, formatProblems(problems)).toEqual([]);
  });

  it('every repository path in backticks in README.md, CONTRIBUTING.md and docs/ names a file or folder', () => {
    const problems = danglingPaths(ROOT);
    expect(problems, formatProblems(problems)).toEqual([]);
  });

  it('reads headings of any level, outside code fences', () => {
    const headings = headingsOf(
      '# Top\n\n### Deep one ###\n```sh\n# a shell comment\n```\n#### `code`: words\n',
    );
    expect([...headings]).toEqual(['Top', 'Deep one', '`code`: words']);
  });

  it('finds a pointer in a comment, in a Markdown link, and one that breaks over two lines', () => {
    const text = [
      `/** The layers (${ARCH}, "Layers"). */`,
      `See [${ARCH}](${ARCH}), "Two services".`,
      ` * the page's rules (${ARCH},`,
      ` * "The page") and more`,
      `// ${ARCH}, "Errors"`,
    ].join('\n');
    expect(pointersIn(text)).toEqual([
      { line: 1, document: 'architecture.md', heading: 'Layers' },
      { line: 2, document: 'architecture.md', heading: 'Two services' },
      { line: 3, document: 'architecture.md', heading: 'The page' },
      { line: 5, document: 'architecture.md', heading: 'Errors' },
    ]);
  });

  describe('a small repository with deliberate mistakes', () => {
    let root: string;
    const write = async (path: string, text: string) => {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    };

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'doc-pointers-'));
      await write('docs/architecture.md', '# Architecture\n\n## Layers\n\n### Deep\n');
      await write('docs/images/page.png', 'not really a picture');
      await write(
        'src/app/a.ts',
        `/**\n * Fine (${ARCH}, "Layers"), deep (${ARCH},\n * "Deep").\n * Gone (${ARCH}, "Removed section").\n */\n`,
      );
      await write('static/b.js', `// ${'docs/missing.md'}, "Anything"\n`);
      await write(
        'README.md',
        [
          '![The page](docs/images/page.png)',
          '[design](docs/architecture.md#layers) and [site](https://example.com/x.md)',
          '[old](docs/old.md) <img src="docs/images/gone.png" alt="">',
          '```md',
          '[inside a fence](nowhere.md)',
          '```',
          `[${ARCH}](${ARCH}), "Layers"`,
        ].join('\n'),
      );
      await write('docs/sub/note.md', '[up](../architecture.md) [wrong](architecture.md)\n');
      await write(
        'docs/paths.md',
        [
          'Here: `src/app/a.ts`, `static/b.js:1`, `src/app/`, `docs/images/page.png`.',
          'Moved: `src/app/gone.ts` and `src/app/old/`; `docs/none.md` too.',
          'Elsewhere: dotnet/aspnetcore `src/SignalR/x.ts`; generated `bench/results/cost.json`; `src/*.ts`.',
          '```sh',
          'cat `src/app/fenced.ts`',
          '```',
        ].join('\n'),
      );
    });
    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('reports each dangling pointer with its file and line', () => {
      expect(danglingPointers(root)).toEqual([
        { where: 'src/app/a.ts:4', what: 'docs/architecture.md has no heading "Removed section"' },
        { where: 'static/b.js:1', what: 'docs/missing.md does not exist' },
      ]);
    });

    it('reports each relative link to a missing file, resolved from the linking document', () => {
      expect(danglingLinks(root)).toEqual([
        { where: 'README.md:3', what: 'links to docs/old.md, which does not exist' },
        { where: 'README.md:3', what: 'links to docs/images/gone.png, which does not exist' },
        { where: 'docs/sub/note.md:1', what: 'links to architecture.md, which does not exist' },
      ]);
    });

    it("reports each backticked path of this repository that is gone, not other repositories' paths", () => {
      expect(danglingPaths(root)).toEqual([
        { where: 'docs/paths.md:2', what: 'names src/app/gone.ts, which does not exist' },
        { where: 'docs/paths.md:2', what: 'names src/app/old/, which does not exist' },
        { where: 'docs/paths.md:2', what: 'names docs/none.md, which does not exist' },
      ]);
    });
  });
});
