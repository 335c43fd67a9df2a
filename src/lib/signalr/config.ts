/**
 * SignalR configuration from app settings: which service, which hub, which keys verify upstream signatures,
 * and a {@link HubClient} built from them. All environment reads go through `readSetting`.
 */
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { readSetting, SETTINGS } from '../settings.js';
import {
  ConnectionStringError,
  connectionInfoFromParts,
  parseConnectionString,
  type SignalRConnectionInfo,
} from './connection-string.js';
import { HubClient, type HubClientOptions } from './rest/client.js';
import type { UpstreamTokenPolicy } from './upstream-contract.js';

/** How the app and the service authenticate each other (`SIGNALR_AUTH`). */
export type SignalRAuthMode = 'identity' | 'key';

export interface SignalRConfig {
  /**
   * `identity`: REST calls with an Entra token, upstream calls checked by their bearer token
   * ({@link upstreamToken}); `key`: access key both ways (X-ASRS-Signature).
   */
  readonly auth: SignalRAuthMode;
  /**
   * Identity mode: what an upstream call's bearer token must satisfy (the SIGNALR_UPSTREAM_* settings);
   * `undefined` when any of them is missing, which makes every upstream call a 500 that names them.
   */
  readonly upstreamToken: UpstreamTokenPolicy | undefined;
  /** Endpoint and credential (key or identity). */
  readonly connection: SignalRConnectionInfo;
  /** The hub (`CHAT_HUB_NAME`, default `chat`). */
  readonly hub: string;
  /**
   * Keys that may sign `X-ASRS-Signature`, primary first: the connection string's AccessKey (or
   * `AzureSignalRAccessKey`), then `AzureSignalRSecondaryAccessKey`. Empty in identity mode when no key is set,
   * which means upstream calls cannot be verified by signature.
   */
  readonly accessKeys: readonly string[];
}

/**
 * Reads `AzureSignalRConnectionString`, or the 2020 sample's `AzureSignalREndpoint` + `AzureSignalRAccessKey`.
 * Throws a {@link ConnectionStringError} that names the missing setting and never repeats a value.
 */
export function signalRConfigFromSettings(env: NodeJS.ProcessEnv = process.env): SignalRConfig {
  const connectionString = readSetting('signalRConnectionString', env);
  const endpoint = readSetting('signalREndpoint', env);
  const accessKey = readSetting('signalRAccessKey', env);
  let connection: SignalRConnectionInfo;
  if (connectionString !== undefined) {
    connection = parseConnectionString(connectionString);
  } else if (endpoint !== undefined || accessKey !== undefined) {
    connection = connectionInfoFromParts(endpoint, accessKey);
  } else {
    throw new ConnectionStringError(
      'connection-setting-missing',
      'No SignalR service configured: set AzureSignalRConnectionString ' +
        '(Endpoint=…;AccessKey=…;Version=1.0; or Endpoint=…;AuthType=azure.msi;Version=1.0;) ' +
        'or AzureSignalREndpoint + AzureSignalRAccessKey',
    );
  }
  const keys: string[] = [];
  if (connection.credential.kind === 'key') keys.push(connection.credential.accessKey);
  // In identity mode Azure still signs upstream calls with its access keys when they are enabled.
  if (accessKey !== undefined) keys.push(accessKey);
  const secondary = readSetting('signalRSecondaryAccessKey', env);
  if (secondary !== undefined) keys.push(secondary);
  const auth = authMode(env, connection);
  return {
    auth,
    upstreamToken: auth === 'identity' ? upstreamTokenPolicy(env) : undefined,
    connection,
    hub: readSetting('hubName', env) ?? 'chat',
    accessKeys: [...new Set(keys)],
  };
}

/** Whether a SignalR service is configured at all (a connection string, or the 2020 sample's endpoint and key). */
export function signalRConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  const keys = ['signalRConnectionString', 'signalREndpoint', 'signalRAccessKey'] as const;
  return keys.some((key) => readSetting(key, env) !== undefined);
}

/**
 * How upstream calls are authenticated when no SignalR service is configured (Azure Web PubSub alone, see
 * docs/deploy.md, "SignalR or Web PubSub"): `SIGNALR_AUTH`, or when unset `fallback` (the Web PubSub
 * credential's kind), with the SIGNALR_UPSTREAM_* policy in identity mode. The settings keep their names: they
 * describe the upstream of either service.
 */
export function upstreamAuthFromSettings(
  env: NodeJS.ProcessEnv,
  fallback: SignalRAuthMode,
): Pick<SignalRConfig, 'auth' | 'upstreamToken'> {
  const raw = readSetting('signalRAuth', env);
  const mode = raw === undefined ? fallback : raw.toLowerCase();
  if (mode !== 'identity' && mode !== 'key') {
    throw new ConnectionStringError(
      'connection-setting-invalid',
      `The app setting ${SETTINGS.signalRAuth.name} must be "identity" or "key", not "${String(raw).slice(0, 32)}"`,
    );
  }
  return { auth: mode, upstreamToken: mode === 'identity' ? upstreamTokenPolicy(env) : undefined };
}

/** `SIGNALR_AUTH`, or when unset the connection string's kind (AuthType=azure.msi means identity). */
function authMode(env: NodeJS.ProcessEnv, connection: SignalRConnectionInfo): SignalRAuthMode {
  const raw = readSetting('signalRAuth', env);
  if (raw === undefined) return connection.credential.kind === 'identity' ? 'identity' : 'key';
  const mode = raw.toLowerCase();
  if (mode !== 'identity' && mode !== 'key') {
    throw new ConnectionStringError(
      'connection-setting-invalid',
      `The app setting ${SETTINGS.signalRAuth.name} must be "identity" or "key", not "${raw.slice(0, 32)}"`,
    );
  }
  if (mode === 'identity' && connection.credential.kind === 'key') {
    // Identity mode exists so that no key is needed; a key here means the settings disagree.
    throw new ConnectionStringError(
      'connection-setting-invalid',
      `${SETTINGS.signalRAuth.name}=identity needs the identity connection string (Endpoint=…;AuthType=azure.msi;ClientId=…;Version=1.0;), not one with an AccessKey`,
    );
  }
  return mode;
}

/** The four SIGNALR_UPSTREAM_* settings, or `undefined` when any is missing. */
function upstreamTokenPolicy(env: NodeJS.ProcessEnv): UpstreamTokenPolicy | undefined {
  const audience = readSetting('signalRUpstreamAudience', env);
  const issuer = readSetting('signalRUpstreamIssuer', env);
  const openIdConfiguration = readSetting('signalROpenIdConfiguration', env);
  const callerId = readSetting('signalRUpstreamCallerId', env);
  if (!audience || !issuer || !openIdConfiguration || !callerId) return undefined;
  return { audience, issuer, openIdConfiguration, callerId };
}

export type HubClientSettingsOptions = Partial<Omit<HubClientOptions, 'connection' | 'hub'>>;

/**
 * A {@link HubClient} for the configured service and hub; In identity mode
 * without a ClientId in the connection string, `AZURE_CLIENT_ID` picks the user-assigned identity.
 */
export function hubClientFromSettings(
  env: NodeJS.ProcessEnv = process.env,
  options: HubClientSettingsOptions = {},
): HubClient {
  const { connection, hub } = signalRConfigFromSettings(env);
  let credential: TokenCredential | undefined = options.credential;
  if (!credential && connection.credential.kind === 'identity') {
    const clientId = connection.credential.clientId ?? readSetting('managedIdentityClientId', env);
    credential = connection.credential.clientId
      ? new ManagedIdentityCredential({ clientId: connection.credential.clientId })
      : new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
  }
  return new HubClient({
    ...options,
    connection,
    hub,
    ...(credential ? { credential } : {}),
  });
}
