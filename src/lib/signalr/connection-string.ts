/**
 * Parses SignalR connection strings: the key form `Endpoint=…;AccessKey=…;Version=1.0;[Port=…;]` and the
 * identity form `Endpoint=…;AuthType=azure.msi;[ClientId=…;]Version=1.0;`. Errors name what is missing and
 * never repeat the string, which holds a secret.
 * See docs/architecture.md, "Tokens and identity".
 */
import { type SIGNALR_ERRORS, SignalRError, type SignalRErrorCode } from './errors.js';

export type SignalRCredential =
  | { readonly kind: 'key'; readonly accessKey: string }
  | { readonly kind: 'identity'; readonly clientId?: string };

export interface SignalRConnectionInfo {
  /** The service origin with an explicit port when one was given, without a trailing slash. */
  readonly endpoint: string;
  readonly credential: SignalRCredential;
}

/** The connection string and settings codes of {@link SIGNALR_ERRORS}. */
export type ConnectionStringErrorCode = Extract<SignalRErrorCode, `connection-${string}`>;

/** A connection string or SignalR setting that cannot be used; `message` names what, never the secret. */
export class ConnectionStringError extends SignalRError<ConnectionStringErrorCode> {
  override readonly name = 'ConnectionStringError';
}

/** Parses a connection string. Keys are case-insensitive; a trailing `;` is optional. */
export function parseConnectionString(connectionString: string): SignalRConnectionInfo {
  const fields = new Map<string, string>();
  for (const part of connectionString.split(';')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) {
      throw new ConnectionStringError(
        'connection-string-malformed',
        'The SignalR connection string has a part without "name=value"; expected Endpoint=…;AccessKey=…;Version=1.0;',
      );
    }
    fields.set(trimmed.slice(0, eq).trim().toLowerCase(), trimmed.slice(eq + 1).trim());
  }
  const rawEndpoint = fields.get('endpoint');
  if (!rawEndpoint)
    throw new ConnectionStringError(
      'connection-string-no-endpoint',
      'The SignalR connection string has no Endpoint=…',
    );
  const version = fields.get('version');
  if (version !== undefined && version !== '1.0') {
    throw new ConnectionStringError(
      'connection-string-version',
      `The SignalR connection string has Version=${version}; only 1.0 is known`,
    );
  }
  const endpoint = normalizeEndpoint(rawEndpoint, fields.get('port'));
  const authType = fields.get('authtype')?.toLowerCase();
  if (authType === 'azure.msi' || authType === 'azure') {
    const clientId = fields.get('clientid');
    return { endpoint, credential: clientId ? { kind: 'identity', clientId } : { kind: 'identity' } };
  }
  if (authType !== undefined && authType !== 'aad' && authType !== '') {
    throw new ConnectionStringError(
      'connection-string-auth-type',
      `The SignalR connection string has AuthType=${authType}; use AuthType=azure.msi or an AccessKey`,
    );
  }
  const accessKey = fields.get('accesskey');
  if (!accessKey) {
    throw new ConnectionStringError(
      'connection-string-no-access-key',
      'The SignalR connection string has no AccessKey=… (or AuthType=azure.msi for identity-based access)',
    );
  }
  return { endpoint, credential: { kind: 'key', accessKey } };
}

/** Builds connection info from the 2020 sample's separate `AzureSignalREndpoint` + `AzureSignalRAccessKey` settings. */
export function connectionInfoFromParts(
  endpoint: string | undefined,
  accessKey: string | undefined,
): SignalRConnectionInfo {
  if (!endpoint)
    throw new ConnectionStringError('connection-setting-missing', 'AzureSignalREndpoint is not set');
  if (!accessKey)
    throw new ConnectionStringError('connection-setting-missing', 'AzureSignalRAccessKey is not set');
  return { endpoint: normalizeEndpoint(endpoint, undefined), credential: { kind: 'key', accessKey } };
}

function normalizeEndpoint(raw: string, port: string | undefined): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConnectionStringError(
      'connection-string-endpoint',
      'The SignalR Endpoint is not an absolute URL such as https://name.service.signalr.net',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConnectionStringError(
      'connection-string-endpoint',
      `The SignalR Endpoint must be http or https, not ${url.protocol}`,
    );
  }
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      throw new ConnectionStringError(
        'connection-string-port',
        `The SignalR connection string has Port=${port}; expected 1–65535`,
      );
    }
    url.port = String(n);
  }
  // Keep any path prefix (reverse proxies) but drop a trailing slash, so URLs join predictably.
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
