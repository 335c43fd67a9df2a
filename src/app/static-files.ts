/**
 * The files the chat page is made of: everything under `static/` plus the vendored browser builds from
 * `node_modules`. Only names that resolve to a known file are served, so no request can leave these folders.
 * See docs/architecture.md, "The page".
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The app's root folder (the one holding `host.json`), found from this module's location so it works from
 * `src/` (tests) and from `dist/src/` (Functions), whatever the working directory.
 */
export function appRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'host.json')) && existsSync(join(dir, 'package.json'))) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('Cannot find the app root (a folder with host.json and package.json)');
    dir = parent;
  }
}
let cachedRoot: string | undefined;

/**
 * Vendored browser builds, served under `assets/vendor/…`. A Map, so a request for `__proto__` or `constructor`
 * finds nothing rather than `Object.prototype`'s own.
 */
export const VENDOR_FILES: ReadonlyMap<string, string> = new Map([
  ['vendor/vue.js', 'node_modules/vue/dist/vue.esm-browser.prod.js'],
  ['vendor/signalr.js', 'node_modules/@microsoft/signalr/dist/browser/signalr.min.js'],
  // Sets `signalR.protocols.msgpack` on the global `signalR` of the build above (MessagePack bundled in).
  [
    'vendor/signalr-protocol-msgpack.js',
    'node_modules/@microsoft/signalr-protocol-msgpack/dist/browser/signalr-protocol-msgpack.min.js',
  ],
  // A classic script that sets the global `markdownit` (linkify-it bundled in): the page's message formatting.
  ['vendor/markdown-it.js', 'node_modules/markdown-it/dist/markdown-it.min.js'],
  // DOMPurify's ES module: cleans what markdown-it made down to the tags the page allows.
  ['vendor/purify.js', 'node_modules/dompurify/dist/purify.es.mjs'],
]);

/**
 * Content types by extension; a file with any other extension is not served. No `.html`: the page template
 * (`static/index.html`) is served by `GET /api/home` alone, filled in and with the page's Content-Security-Policy
 * and framing headers (home.ts, page-security.ts); as an asset it would have neither.
 */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Cache policy: vendored builds change only with a dependency update; our own files are revalidated. */
export const VENDOR_CACHE_CONTROL = 'public, max-age=86400';
export const STATIC_CACHE_CONTROL = 'no-cache';

// One path segment: no leading dot (so no `..`, no hidden files), no separators or other punctuation.
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

export interface StaticFile {
  readonly body: Buffer;
  readonly contentType: string;
  readonly cacheControl: string;
  /** A strong validator of the content. */
  readonly etag: string;
}

const vendorFiles = new Map<string, Promise<StaticFile | undefined>>();

/**
 * Loads the asset named by `path` (relative to `assets/`), or `undefined` when it is not a known file.
 */
export async function loadAsset(path: string): Promise<StaticFile | undefined> {
  const vendor = VENDOR_FILES.get(path);
  if (vendor !== undefined) {
    // Installed dependencies do not change while the app runs: read and hash each build once per process.
    let cached = vendorFiles.get(path);
    if (cached === undefined) {
      cached = loadFile(join(appRoot(), vendor), VENDOR_CACHE_CONTROL);
      vendorFiles.set(path, cached);
      cached.catch(() => vendorFiles.delete(path));
    }
    return cached;
  }
  const segments = path.split('/');
  if (segments.length === 0 || segments.some((s) => !SEGMENT.test(s))) return undefined;
  const staticDir = join(appRoot(), 'static');
  const file = join(staticDir, ...segments);
  // Belt and braces: the segment rule already forbids `..`, but never serve anything outside static/.
  if (!file.startsWith(staticDir + sep)) return undefined;
  return loadFile(file, STATIC_CACHE_CONTROL);
}

/** The chat page template (`static/index.html`). */
export async function loadPageTemplate(): Promise<string> {
  return readFile(join(appRoot(), 'static', 'index.html'), 'utf8');
}

async function loadFile(file: string, cacheControl: string): Promise<StaticFile | undefined> {
  const dot = file.lastIndexOf('.');
  const extension = dot < 0 ? '' : file.slice(dot).toLowerCase();
  const contentType = Object.hasOwn(CONTENT_TYPES, extension) ? CONTENT_TYPES[extension] : undefined;
  if (contentType === undefined) return undefined;
  try {
    const info = await stat(file);
    if (!info.isFile()) return undefined;
    const body = await readFile(file);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    return { body, contentType, cacheControl, etag };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
