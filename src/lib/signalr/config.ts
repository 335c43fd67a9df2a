/**
 * SignalR configuration from app settings: which service, which hub, which keys verify upstream signatures,
 * and a {@link HubClient} built from them. All environment reads go through `readSetting`.
 */
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { readSetting } from '../settings.js';
import type { Dialect } from '../upstream/contract.js';
import {
  ConnectionStringError,
  connectionInfoFromParts,
  parseConnectionString,
  type SignalRConnectionInfo,
} from './connection-string.js';
import { HubClient, type HubClientOptions } from './rest-client.js';

export interface SignalRConfig {
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
  return {
    connection,
    hub: readSetting('hubName', env) ?? 'chat',
    accessKeys: [...new Set(keys)],
  };
}

export type HubClientSettingsOptions<D extends Dialect> = Partial<
  Omit<HubClientOptions<D>, 'connection' | 'hub'>
> & { dialect?: D };

/**
 * A {@link HubClient} for the configured service and hub; dialect `signalr` unless given. In identity mode
 * without a ClientId in the connection string, `AZURE_CLIENT_ID` picks the user-assigned identity.
 */
export function hubClientFromSettings<D extends Dialect = 'signalr'>(
  env: NodeJS.ProcessEnv = process.env,
  options: HubClientSettingsOptions<D> = {},
): HubClient<D> {
  const { connection, hub } = signalRConfigFromSettings(env);
  const dialect = (options.dialect ?? 'signalr') as D;
  let credential: TokenCredential | undefined = options.credential;
  if (!credential && connection.credential.kind === 'identity') {
    const clientId = connection.credential.clientId ?? readSetting('managedIdentityClientId', env);
    credential = connection.credential.clientId
      ? new ManagedIdentityCredential({ clientId: connection.credential.clientId })
      : new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
  }
  return new HubClient<D>({
    ...options,
    connection,
    hub,
    dialect,
    ...(credential ? { credential } : {}),
  });
}
