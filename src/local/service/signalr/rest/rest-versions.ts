/**
 * The spec versions of the SignalR wing's REST API and the error shape of each
 * (docs/local-service.md, "The REST API").
 */
import type { ServerResponse } from 'node:http';

/** The spec versions the service implements. */
export type ApiVersion = 'v1' | '2020-10-01' | '2022-06-01' | '2023-07-01' | '2024-12-01';

/** The `api-version` values accepted on `/api/hubs/…`, `/api/health` and `/api/auth/accessKey`, oldest first. */
export const API_VERSIONS: readonly ApiVersion[] = ['2020-10-01', '2022-06-01', '2023-07-01', '2024-12-01'];

/** Whether `version` is `since` or later (v1 is before them all). */
export function atLeast(version: ApiVersion, since: ApiVersion): boolean {
  return version !== 'v1' && API_VERSIONS.indexOf(version) >= API_VERSIONS.indexOf(since);
}

/**
 * An error in the version's shape: v1 → `text/plain` message; 2020-10-01 and later → `ErrorDetail`
 * JSON `{"code","message"}` and the code in `x-ms-error-code`. A HEAD answer carries the headers only.
 */
export function sendApiError(
  res: ServerResponse,
  version: ApiVersion,
  status: number,
  code: string,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  const v1 = version === 'v1';
  const text = v1 ? message : JSON.stringify({ code, message });
  res.writeHead(status, {
    ...headers,
    ...(v1 ? {} : { 'x-ms-error-code': code }),
    'Content-Type': v1 ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}
