/**
 * A local stand-in for the platform's managed identity and for the Microsoft Entra tenant behind it, so that
 * identity mode runs on a laptop through the same code as in Azure:
 *
 * - `GET /msi/token?resource=…&api-version=2019-08-01&client_id=…` with `X-IDENTITY-HEADER`: App Service's
 *   managed identity protocol (the `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` environment variables), which
 *   `@azure/identity`'s `ManagedIdentityCredential` (through `@azure/msal-node`'s App Service source) speaks.
 *   It answers `{access_token, expires_on, resource, token_type, client_id}`, `expires_on` in epoch seconds.
 * - `GET /<tenant>/.well-known/openid-configuration` and `GET /<tenant>/discovery/keys`: the OpenID metadata and
 *   key set that whoever checks those tokens trusts (the local SignalR service, the app's upstream check).
 *
 * Tokens are RS256, signed with a key pair generated at start, and carry the claims Entra puts in a v1
 * managed-identity access token: `aud` (the resource), `iss` (`<url>/<tenant>/`), `iat`/`nbf`/`exp`, `oid` and
 * `sub` (the identity's principal id), `tid`, `appid` (its client id), `appidacr`, `idtyp: app`, `ver: 1.0`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

/** A managed identity the endpoint can issue tokens for. */
export interface LocalIdentity {
  /** The client (application) id, as `client_id` in token requests and `appid` in tokens. */
  readonly clientId: string;
  /** The principal (object) id, `oid` and `sub` in tokens. */
  readonly objectId: string;
  /** A label for logs. */
  readonly name: string;
}

/** The tenant of the local stack (a fixed, made-up id). */
export const DEV_TENANT_ID = '00000000-0000-4000-8000-00000000c4a7';
/** The Functions app's user-assigned identity in the local stack. */
export const DEV_APP_IDENTITY: LocalIdentity = {
  clientId: '11111111-1111-4111-8111-111111111111',
  objectId: '11111111-1111-4111-8111-0000000000a1',
  name: 'chat-app',
};
/** The local SignalR service's identity (the one its upstream tokens are issued to). */
export const DEV_SIGNALR_IDENTITY: LocalIdentity = {
  clientId: '22222222-2222-4222-8222-222222222222',
  objectId: '22222222-2222-4222-8222-0000000000b2',
  name: 'signalr',
};

/** App Service's managed identity API version, the one `@azure/msal-node` sends. */
export const APP_SERVICE_MSI_API_VERSION = '2019-08-01';
/** The request header that carries `IDENTITY_HEADER`. */
export const IDENTITY_HEADER_NAME = 'X-IDENTITY-HEADER';
/** The token path (App Service's is `/msi/token` too). */
export const TOKEN_PATH = '/msi/token';

export interface IdentityEndpointOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  readonly port?: number;
  /** Interface. Default `127.0.0.1`. */
  readonly host?: string;
  /** Tenant id (`tid`, part of `iss`). Default {@link DEV_TENANT_ID}. */
  readonly tenantId?: string;
  /** The identities tokens can be had for. Default the app's and the service's dev identities. */
  readonly identities?: readonly LocalIdentity[];
  /** The `IDENTITY_HEADER` secret. Default 32 random bytes, hex (new at every start, as on App Service). */
  readonly header?: string;
  /** Lifetime of issued tokens. Default {@link DEFAULT_IDENTITY_TOKEN_TTL_SECONDS}. */
  readonly tokenTtlSeconds?: number;
}

/** Default lifetime of tokens: 24 hours, as Entra gives managed identities. */
export const DEFAULT_IDENTITY_TOKEN_TTL_SECONDS = 24 * 3600;

/** Overrides for {@link RunningIdentityEndpoint.mint}: any claim, and the clock. */
export interface MintOptions {
  /** Claims that replace or add to the ones the endpoint would issue. */
  readonly claims?: JWTPayload;
  /** Lifetime in seconds (negative for an expired token). Default the endpoint's. */
  readonly ttlSeconds?: number;
}

export interface RunningIdentityEndpoint {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** What `IDENTITY_ENDPOINT` is set to. */
  readonly identityEndpoint: string;
  /** What `IDENTITY_HEADER` is set to (a secret of the local stack). */
  readonly identityHeader: string;
  readonly tenantId: string;
  /** `iss` of every token. */
  readonly issuer: string;
  /** The OpenID metadata URL. */
  readonly openIdConfiguration: string;
  readonly identities: readonly LocalIdentity[];
  /** Issues a token for `identity` and `resource` directly (tests use it to forge variants). */
  mint(identity: LocalIdentity, resource: string, options?: MintOptions): Promise<string>;
  close(): Promise<void>;
}

interface TokenError {
  readonly status: number;
  readonly error: string;
  readonly message: string;
}

/** Starts the endpoint and resolves once it listens. */
export async function startIdentityEndpoint(
  options: IdentityEndpointOptions = {},
): Promise<RunningIdentityEndpoint> {
  const tenantId = options.tenantId ?? DEV_TENANT_ID;
  const identities = options.identities ?? [DEV_APP_IDENTITY, DEV_SIGNALR_IDENTITY];
  const header = options.header ?? randomBytes(32).toString('hex');
  const ttl = options.tokenTtlSeconds ?? DEFAULT_IDENTITY_TOKEN_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl <= 0) {
    throw new RangeError(`tokenTtlSeconds must be a positive whole number of seconds, not ${ttl}`);
  }
  if (identities.length === 0) throw new RangeError('identities must hold at least one identity');
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
  const kid = randomBytes(12).toString('base64url');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };

  let url = '';
  const issuerOf = () => `${url}/${tenantId}/`;

  async function mint(identity: LocalIdentity, resource: string, mintOptions: MintOptions = {}) {
    const now = Math.floor(Date.now() / 1000);
    const lifetime = mintOptions.ttlSeconds ?? ttl;
    const payload: JWTPayload = {
      aud: resource,
      iss: issuerOf(),
      iat: now,
      nbf: Math.min(now, now + lifetime),
      exp: now + lifetime,
      appid: identity.clientId,
      appidacr: '2',
      idp: issuerOf(),
      idtyp: 'app',
      oid: identity.objectId,
      sub: identity.objectId,
      tid: tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
      ...mintOptions.claims,
    };
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(privateKey);
  }

  async function token(req: IncomingMessage, query: URLSearchParams): Promise<object | TokenError> {
    if (req.headers[IDENTITY_HEADER_NAME.toLowerCase()] !== header) {
      return {
        status: 401,
        error: 'invalid_request',
        message: `The ${IDENTITY_HEADER_NAME} header must carry IDENTITY_HEADER`,
      };
    }
    if (query.get('api-version') !== APP_SERVICE_MSI_API_VERSION) {
      return {
        status: 400,
        error: 'invalid_request',
        message: `api-version must be ${APP_SERVICE_MSI_API_VERSION}`,
      };
    }
    const resource = query.get('resource');
    if (!resource) {
      return {
        status: 400,
        error: 'invalid_request',
        message: 'resource is required (e.g. https://signalr.azure.com)',
      };
    }
    const clientId = query.get('client_id');
    const principalId = query.get('principal_id') ?? query.get('object_id');
    const identity =
      clientId !== null
        ? identities.find((i) => i.clientId === clientId)
        : principalId !== null
          ? identities.find((i) => i.objectId === principalId)
          : identities.length === 1
            ? identities[0]
            : undefined;
    if (!identity) {
      return {
        status: 400,
        error: 'invalid_request',
        message:
          clientId === null && principalId === null
            ? 'Several identities are assigned: name one with client_id'
            : 'No user-assigned managed identity found for the specified client_id or principal_id',
      };
    }
    const accessToken = await mint(identity, resource);
    const now = Math.floor(Date.now() / 1000);
    return {
      access_token: accessToken,
      expires_on: String(now + ttl),
      resource,
      token_type: 'Bearer',
      client_id: identity.clientId,
    };
  }

  function metadata(): object {
    return {
      issuer: issuerOf(),
      jwks_uri: `${url}/${tenantId}/discovery/keys`,
      token_endpoint: `${url}${TOKEN_PATH}`,
      response_types_supported: ['token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      tenant_region_scope: 'local',
    };
  }

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => send(res, 500, { error: 'server_error', message: 'internal error' }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestUrl = new URL(req.url ?? '/', 'http://identity.invalid');
    if (req.method !== 'GET') {
      send(res, 405, { error: 'invalid_request', message: 'Only GET is served' });
      return;
    }
    const path = requestUrl.pathname;
    if (path === TOKEN_PATH) {
      const result = await token(req, requestUrl.searchParams);
      if ('status' in result) {
        const { status, ...body } = result as TokenError;
        send(res, status, { ...body, statusCode: status });
      } else send(res, 200, result);
      return;
    }
    if (path === `/${tenantId}/.well-known/openid-configuration`) {
      send(res, 200, metadata());
      return;
    }
    if (path === `/${tenantId}/discovery/keys`) {
      send(res, 200, { keys: [jwk] });
      return;
    }
    send(res, 404, { error: 'not_found', message: `Nothing at ${path}` });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    port,
    identityEndpoint: `${url}${TOKEN_PATH}`,
    identityHeader: header,
    tenantId,
    issuer: issuerOf(),
    openIdConfiguration: `${url}/${tenantId}/.well-known/openid-configuration`,
    identities,
    mint,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

/** A fresh random GUID (for tests that need an identity the endpoint does not know). */
export const randomGuid = randomUUID;
