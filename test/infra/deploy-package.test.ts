import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkDeployedImports,
  checkRemoteBuildPrunes,
  checkVendoredPaths,
  ignorePatterns,
  isIgnored,
} from './deploy-package.js';

/** What the Functions package must contain for the remote build and at runtime. */
const SHIPPED = [
  'host.json',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'src/functions/home.ts',
  'src/app/routes.ts',
  'src/lib/settings.ts',
  'static/index.html',
];

/** What must stay out: development-only code, secrets, tests, and the local node_modules. */
const LEFT_OUT = [
  'node_modules/vue/package.json',
  // The local build output: the remote build compiles dist/ afresh from src/ (no stale functions).
  'dist/src/functions/home.js',
  'dist/src/functions/removed-last-week.js',
  'local.settings.json',
  'src/local/start.ts',
  'dist/src/local/start.js',
  'test/infra/contract.test.ts',
  'infra/main.bicep',
  '.github/workflows/ci.yml',
  '.azure/dev/.env',
  'bench/run.ts',
  'vitest.config.ts',
  // The page's type check: its settings and the type re-export for the served Vue build.
  'tsconfig.static.json',
  'types/page/vendor/vue.d.ts',
];

describe('deployment package (.funcignore + azure.yaml)', () => {
  it('keeps what the remote build and the running app need and leaves out the rest', async () => {
    const patterns = ignorePatterns(await readFile('.funcignore', 'utf8'));
    expect(SHIPPED.filter((path) => isIgnored(path, patterns))).toEqual([]);
    expect(LEFT_OUT.filter((path) => !isIgnored(path, patterns))).toEqual([]);
  });

  it('leaves out everything .gitignore keeps out of the repository (azd zips the directory, not git)', async () => {
    const patterns = ignorePatterns(await readFile('.funcignore', 'utf8'));
    const samples = ignorePatterns(await readFile('.gitignore', 'utf8')).map((pattern) =>
      pattern.replace(/\/$/, '').replaceAll('*', 'sample'),
    );
    expect(samples).toEqual(expect.arrayContaining(['.env', 'local.settings.user.json', 'sample.log']));
    expect(samples.filter((path) => !isIgnored(path, patterns))).toEqual([]);
    expect(isIgnored('.env', ignorePatterns('node_modules\n'))).toBe(false);
  });

  it('catches an exclusion that would drop the app code or the page', () => {
    // gitignore semantics: a bare `src` matches a segment at any depth, so it drops dist/src (the compiled app) too.
    const patterns = ignorePatterns('# comment\nnode_modules\nsrc\n');
    expect(SHIPPED.filter((path) => isIgnored(path, patterns))).toEqual([
      'src/functions/home.ts',
      'src/app/routes.ts',
      'src/lib/settings.ts',
    ]);
    // Anchored: `/dist` drops the local build output only, not a dist/ folder inside a shipped package.
    expect(isIgnored('dist/src/functions/home.js', ['/dist'])).toBe(true);
    expect(isIgnored('static/vendor/dist/app.js', ['/dist'])).toBe(false);
    expect(isIgnored('static/index.html', ['static/'])).toBe(true);
    expect(isIgnored('vitest.config.ts', ['*.config.ts'])).toBe(true);
    expect(isIgnored('src/lib/x.ts', ['dist/src'])).toBe(false);
  });

  it('declares the api service as a TypeScript Function App with a remote build, matching .funcignore', async () => {
    const yaml = await readFile('azure.yaml', 'utf8');
    expect(yaml).toMatch(/^services:\n {2}api:\n {4}project: \.\n {4}language: ts\n {4}host: function\n/m);
    // azd requires the two to agree: remoteBuild: true needs node_modules excluded (and local build needs it kept).
    expect(yaml).toMatch(/^ {4}remoteBuild: true$/m);
    expect(ignorePatterns(await readFile('.funcignore', 'utf8'))).toContain('node_modules');
  });

  it('prunes devDependencies after the remote build, with a script only the Azure build runs', async () => {
    const scripts = (
      JSON.parse(await readFile('package.json', 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    expect(
      checkRemoteBuildPrunes({
        build: 'tsc -p tsconfig.json',
        'build:azure': 'npm prune --omit=dev --omit=optional',
      }),
    ).toEqual([]);
    expect(checkRemoteBuildPrunes({ build: 'tsc -p tsconfig.json' })).toEqual([
      expect.stringMatching(/build:azure/),
    ]);
    expect(checkRemoteBuildPrunes({ build: 'tsc', 'build:azure': 'echo' })).toEqual([
      expect.stringMatching(/npm prune --omit=dev --omit=optional/),
    ]);
    expect(checkRemoteBuildPrunes({ build: 'tsc', 'build:azure': 'npm prune --omit=dev' })).toEqual([
      expect.stringMatching(/--omit=optional/),
    ]);
    expect(checkRemoteBuildPrunes(scripts)).toEqual([]);
  });

  it('deploys code that imports only shipped files and runtime dependencies', async () => {
    const patterns = ignorePatterns(await readFile('.funcignore', 'utf8'));
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const problems = await checkDeployedImports(
      ['src/functions', 'src/app', 'src/lib'],
      patterns,
      Object.keys(pkg.dependencies),
    );
    expect(problems).toEqual([]);
  });

  it('serves vendored browser builds only from runtime dependencies (installed by the remote build)', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const dependencies = Object.keys(pkg.dependencies);
    expect(await checkVendoredPaths(['src/functions', 'src/app', 'src/lib'], dependencies)).toEqual([]);
    const withoutVue = dependencies.filter((name) => name !== 'vue');
    expect(await checkVendoredPaths(['src/app'], withoutVue)).toEqual([
      expect.objectContaining({ reason: 'vue is read at runtime but is not in package.json dependencies' }),
    ]);
  });

  it('reports deployed code that imports development-only code or a devDependency', async () => {
    const patterns = ignorePatterns(await readFile('.funcignore', 'utf8'));
    // src/local imports the local service and Azurite: checked as if it were deployed, it must fail.
    const problems = await checkDeployedImports(['src/local'], ['src/local'], ['ws']);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((problem) => problem.reason.length > 0)).toBe(true);
    expect(patterns).toContain('src/local');
  });
});

describe('Core Tools kept out of the remote build (azure.yaml package hooks + .npmrc)', () => {
  const hook = resolve('infra/hooks/package-npmrc.mjs');
  const run = (dir: string, ...args: string[]) =>
    execFileSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
  /** What npm itself reads as `omit` in `dir` (the project's .npmrc; npm's own defaults otherwise). */
  const npmOmit = (dir: string) =>
    execFileSync('npm', ['config', 'get', 'omit'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, npm_config_omit: undefined, NODE_ENV: undefined },
    }).trim();

  it('adds omit=optional to .npmrc only while azd packages the api service, on every OS', async () => {
    const yaml = await readFile('azure.yaml', 'utf8');
    const service = yaml.slice(yaml.indexOf('services:\n'), yaml.indexOf('\nhooks:') + 1);
    for (const [event, command] of [
      ['prepackage', 'add'],
      ['postpackage', 'remove'],
    ]) {
      const block = new RegExp(
        `\\n {6}${event}:\\n {8}posix:\\n {10}shell: sh\\n {10}run: node infra/hooks/package-npmrc\\.mjs ${command}\\n {8}windows:\\n {10}shell: pwsh\\n {10}run: node infra/hooks/package-npmrc\\.mjs ${command}\\n`,
      );
      expect(service, `${event} hook of the api service`).toMatch(block);
    }
    // The package carries .npmrc; the repository commits none that would change a local install.
    expect(isIgnored('.npmrc', ignorePatterns(await readFile('.funcignore', 'utf8')))).toBe(false);
    expect(existsSync('.npmrc')).toBe(false);
  });

  it("makes npm omit optional dependencies in the package, then leaves the project's own .npmrc as it was", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'package-npmrc-'));
    try {
      await writeFile(join(dir, 'package.json'), '{"name":"p","version":"1.0.0"}\n');
      expect(npmOmit(dir)).toBe('');
      run(dir, hook, 'add');
      expect(npmOmit(dir)).toBe('optional');
      run(dir, hook, 'add'); // twice (a retried package step) is still one block
      expect((await readFile(join(dir, '.npmrc'), 'utf8')).match(/omit=optional/g)).toHaveLength(1);
      run(dir, hook, 'remove');
      expect(existsSync(join(dir, '.npmrc'))).toBe(false);
      expect(npmOmit(dir)).toBe('');

      const own = 'fund=false\naudit=false\n';
      await writeFile(join(dir, '.npmrc'), own);
      run(dir, hook, 'add');
      expect(npmOmit(dir)).toBe('optional');
      expect(await readFile(join(dir, '.npmrc'), 'utf8')).toMatch(/^fund=false\naudit=false\n# >>> /);
      run(dir, hook, 'remove');
      expect(await readFile(join(dir, '.npmrc'), 'utf8')).toBe(own);
      run(dir, hook, 'remove'); // nothing of ours left: unchanged
      expect(await readFile(join(dir, '.npmrc'), 'utf8')).toBe(own);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown command instead of guessing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'package-npmrc-'));
    try {
      expect(() => execFileSync(process.execPath, [hook, 'clean'], { cwd: dir, stdio: 'pipe' })).toThrow(
        /usage: package-npmrc\.mjs add\|remove \(got clean\)/,
      );
      expect(existsSync(join(dir, '.npmrc'))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
