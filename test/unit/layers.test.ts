import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/compiled.js';
import { checkLayers, formatViolations, importsOf, readSources } from '../support/layers.js';

describe('the layers of src/ (docs/architecture.md, "Layers")', () => {
  it('keep the import rule in the repository as it is', () => {
    const files = readSources(ROOT);
    // The walk found the tree (an empty map would make this test pass for nothing).
    for (const layer of ['functions', 'app', 'lib', 'local']) {
      expect([...files.keys()].some((f) => f.startsWith(`src/${layer}/`))).toBe(true);
    }
    const violations = checkLayers(files);
    expect(violations, formatViolations(violations)).toEqual([]);
  });

  describe('a deliberately broken copy of src/ on disk', () => {
    let copy: string;

    beforeAll(async () => {
      copy = await mkdtemp(join(tmpdir(), 'layers-'));
      await cp(join(ROOT, 'src'), join(copy, 'src'), { recursive: true });
      // src/lib reaches up into the Functions layer and into development tooling.
      const fanout = join(copy, 'src/lib/chat/fanout.ts');
      await writeFile(
        fanout,
        `import { ROUTES } from '../../app/routes.js';\n` +
          `export type Local = typeof import('../../local/start.js');\n` +
          (await readFile(fanout, 'utf8')),
      );
      // src/app starts the local stack.
      const services = join(copy, 'src/app/services.ts');
      await writeFile(
        services,
        `${await readFile(services, 'utf8')}\nexport { startService } from '../local/service/index.js';\n`,
      );
      // A function file reaches past src/app into the domain.
      const home = join(copy, 'src/functions/home.ts');
      await writeFile(home, `import '../lib/conversation.js';\n${await readFile(home, 'utf8')}`);

      // Inside src/lib: one wrong import per inner rule, each through a face so it breaks that rule alone.
      // The wire formats reach up into history.
      const tokens = join(copy, 'src/lib/signalr/tokens.ts');
      await writeFile(tokens, `import '../history/index.js';\n${await readFile(tokens, 'utf8')}`);
      // History reaches up into the chat.
      const store = join(copy, 'src/lib/history/store.ts');
      await writeFile(
        store,
        `import type { ChatReply } from '../chat/index.js';\n${await readFile(store, 'utf8')}`,
      );
      // Upstream reaches up into the chat.
      const dispatcher = join(copy, 'src/lib/upstream/dispatcher.ts');
      await writeFile(dispatcher, `import '../chat/index.js';\n${await readFile(dispatcher, 'utf8')}`);
      // A leaf imports a package.
      const conversation = join(copy, 'src/lib/conversation.ts');
      await writeFile(
        conversation,
        `import { isDialect } from './signalr/index.js';\n${await readFile(conversation, 'utf8')}`,
      );
      // A face grows code of its own.
      const face = join(copy, 'src/lib/history/index.ts');
      await writeFile(face, `${await readFile(face, 'utf8')}\nexport const PAGE = 50;\n`);
      // The Functions layer reaches past the chat's face into one of its files.
      const negotiate = join(copy, 'src/app/negotiate.ts');
      await writeFile(
        negotiate,
        `import '../lib/chat/people/user-id.js';\n${await readFile(negotiate, 'utf8')}`,
      );
      // A shared folder of the local service reaches into a protocol wing (the folders need not exist yet).
      await mkdir(join(copy, 'src/local/service/transports'), { recursive: true });
      await writeFile(
        join(copy, 'src/local/service/transports/frames.ts'),
        `import type { Session } from '../signalr/session.js';\nimport '../webpubsub/endpoint.js';\nimport '../transport.js';\n`,
      );
    });

    afterAll(async () => {
      await rm(copy, { recursive: true, force: true });
    });

    it('is reported, one line per bad import, and nothing else', () => {
      const violations = checkLayers(readSources(copy));
      expect(violations.map(({ file, specifier, rule }) => ({ file, specifier, rule }))).toEqual([
        {
          file: 'src/app/negotiate.ts',
          specifier: '../lib/chat/people/user-id.js',
          rule: 'src/lib/chat/ is imported from outside it only through its index.ts',
        },
        {
          file: 'src/app/services.ts',
          specifier: '../local/service/index.js',
          rule: 'src/app/ must not import src/local/',
        },
        {
          file: 'src/functions/home.ts',
          specifier: '../lib/conversation.js',
          rule: 'src/functions/ imports only src/app/ and packages',
        },
        {
          file: 'src/lib/chat/fanout.ts',
          specifier: '../../app/routes.js',
          rule: 'src/lib/ must not import src/app/',
        },
        {
          file: 'src/lib/chat/fanout.ts',
          specifier: '../../local/start.js',
          rule: 'src/lib/ must not import src/local/',
        },
        {
          file: 'src/lib/conversation.ts',
          specifier: './signalr/index.js',
          rule: 'a leaf of src/lib/ imports nothing of the project but other leaves',
        },
        {
          file: 'src/lib/history/index.ts',
          specifier: '',
          rule: "a package's index.ts only re-exports",
        },
        {
          file: 'src/lib/history/store.ts',
          specifier: '../chat/index.js',
          rule: 'src/lib/history/ must not import src/lib/chat/',
        },
        {
          file: 'src/lib/signalr/tokens.ts',
          specifier: '../history/index.js',
          rule: 'src/lib/signalr/ imports no other src/lib/ package, only leaves',
        },
        {
          file: 'src/lib/upstream/dispatcher.ts',
          specifier: '../chat/index.js',
          rule: 'src/lib/upstream/ must not import src/lib/chat/',
        },
        {
          file: 'src/local/service/transports/frames.ts',
          specifier: '../signalr/session.js',
          rule: 'src/local/service/transports/ imports no protocol wing (src/local/service/signalr/)',
        },
        {
          file: 'src/local/service/transports/frames.ts',
          specifier: '../webpubsub/endpoint.js',
          rule: 'src/local/service/transports/ imports no protocol wing (src/local/service/webpubsub/)',
        },
      ]);
    });
  });

  describe('the checker', () => {
    it('reads every form of import, and no import-like text in comments or strings', () => {
      const source = [
        `import a from './a.js';`,
        `import type { B } from './b.js';`,
        `import './c.js';`,
        `export * from './d.js';`,
        `export { e } from './e.js';`,
        `const f = await import('./f.js');`,
        `const g = require('./g.js');`,
        `import h = require('./h.js');`,
        `// import x from './comment.js';`,
        `const text = "import y from './string.js'";`,
      ].join('\n');
      expect(importsOf(source)).toEqual([
        './a.js',
        './b.js',
        './c.js',
        './d.js',
        './e.js',
        './f.js',
        './g.js',
        './h.js',
      ]);
    });

    it('allows the arrows the layers may have', () => {
      const files = new Map([
        [
          'src/functions/home.ts',
          `import { app } from '@azure/functions';\nimport { ROUTES } from '../app/routes.js';`,
        ],
        ['src/app/routes.ts', `import { x } from '../lib/conversation.js';\nimport 'node:fs';`],
        [
          'src/lib/chat/fanout.ts',
          `import { y } from '../signalr/index.js';\nimport { z } from '../conversation.js';`,
        ],
        ['src/local/service/auth.ts', `import { verifyToken } from '../../lib/signalr/tokens.js';`],
        ['src/lib/rate-limit.ts', `import { setBounded } from './bounded-map.js';`],
        [
          'src/lib/signalr/tokens.ts',
          `import { setBounded } from '../bounded-map.js';\nimport './signature.js';`,
        ],
        ['src/lib/upstream/verify.ts', `import { verifySignature } from '../signalr/index.js';`],
        [
          'src/local/service/signalr/session.ts',
          `import '../transports/websocket.js';\nimport '../upstream/caller.js';`,
        ],
        [
          'src/local/service/rest/router.ts',
          `import '../upstream/caller.js';\nimport '../../../lib/signalr/index.js';`,
        ],
        [
          'src/local/start.ts',
          `import { appRoot } from '../app/static-files.js';\nimport '../lib/settings.js';`,
        ],
      ]);
      expect(checkLayers(files)).toEqual([]);
    });

    it('catches a type-only import and a dynamic import as surely as a plain one', () => {
      const files = new Map([
        ['src/lib/history/store.ts', `import type { ChatServices } from '../../app/services.js';`],
        ['src/app/home.ts', `const start = () => import('../local/start.js');`],
      ]);
      expect(checkLayers(files).map((v) => v.target)).toEqual(['app', 'local']);
    });

    it('keeps the conversations package below the chat and above the history', () => {
      const files = new Map([
        ['src/lib/conversations/list-store.ts', `import '../chat/index.js';\nimport '../history/index.js';`],
        ['src/lib/history/store.ts', `import '../conversations/index.js';`],
      ]);
      expect(checkLayers(files).map((v) => v.rule)).toEqual([
        'src/lib/conversations/ must not import src/lib/chat/',
        'src/lib/history/ must not import src/lib/conversations/',
      ]);
    });

    it('does not let src/functions import anything outside src/app, even outside the layers', () => {
      const files = new Map([['src/functions/assets.ts', `import '../../static/config.js';`]]);
      expect(checkLayers(files)).toEqual([
        {
          file: 'src/functions/assets.ts',
          specifier: '../../static/config.js',
          target: 'static/config.js',
          rule: 'src/functions/ imports only src/app/ and packages',
        },
      ]);
    });
  });
});
