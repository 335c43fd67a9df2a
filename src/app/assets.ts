/**
 * The assets function: `GET /api/assets/{*path}` serves the page's files (see static-files.ts).
 * See docs/architecture.md, "The page".
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { APP_ERRORS } from './errors.js';
import { NOSNIFF } from './page-security.js';
import { loadAsset } from './static-files.js';

/**
 * Whether the request's own path names the file exactly: hosts drop empty segments when they match `{*path}`, so
 * `vendor/signalr.js/` or `vendor//signalr.js` would otherwise be served as `vendor/signalr.js`.
 */
function namesOneFile(url: string): boolean {
  const { pathname } = new URL(url);
  return !pathname.endsWith('/') && !pathname.includes('//');
}

export async function assets(req: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const path = req.params.path ?? '';
  const file = namesOneFile(req.url) ? await loadAsset(path) : undefined;
  if (!file) {
    // Plain text, not `{code, message}` JSON: the page's own <script> and <link> requests are the callers,
    // and a browser shows the body as it is to whoever opens the URL.
    return {
      status: APP_ERRORS['asset-not-found'].status,
      headers: { 'content-type': 'text/plain; charset=utf-8', ...NOSNIFF },
      body: `No asset named "${path}"`,
    };
  }
  const headers = {
    'content-type': file.contentType,
    'cache-control': file.cacheControl,
    etag: file.etag,
    ...NOSNIFF,
  };
  const ifNoneMatch = req.headers.get('if-none-match');
  if (ifNoneMatch?.split(',').some((tag) => tag.trim() === file.etag)) {
    return { status: 304, headers };
  }
  return { status: 200, headers, body: file.body };
}
