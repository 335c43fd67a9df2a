/**
 * The development credentials of the local stack, in one place: the access key of the local SignalR service and
 * Azurite's well-known storage account. Both are public (the key is in the README and local.settings.json; the
 * Azurite account is documented by Microsoft for every emulator install) and accepted only by local emulators.
 * `local.settings.json` holds the same values as literals; a test keeps the two equal.
 * See docs/architecture.md, "The local stack".
 */

/** The access key the local SignalR service accepts unless given others (43 characters, like Azure's). */
export const DEV_ACCESS_KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH';

/**
 * The access key of the local service's Web PubSub wing unless given others (43 characters, like Azure's). It
 * differs from {@link DEV_ACCESS_KEY} as two Azure resources' keys do: a REST call's key says which service it
 * is for (docs/local-service.md, "The Web PubSub REST API").
 */
export const DEV_WEBPUBSUB_ACCESS_KEY = 'WEBPUBSUBLOCALDEVKEY0123456789abcdefghijklm';

/** The local service's default port (`npm start`'s SIGNALR_PORT). */
export const DEV_SIGNALR_PORT = 8080;

/** A SignalR connection string for the local service at `endpoint` (default `http://localhost:8080`). */
export function devSignalRConnectionString(endpoint = `http://localhost:${DEV_SIGNALR_PORT}`): string {
  return `Endpoint=${endpoint};AccessKey=${DEV_ACCESS_KEY};Version=1.0;`;
}

/** A Web PubSub connection string for the local service's Web PubSub wing at `endpoint`. */
export function devWebPubSubConnectionString(endpoint = `http://localhost:${DEV_SIGNALR_PORT}`): string {
  return `Endpoint=${endpoint};AccessKey=${DEV_WEBPUBSUB_ACCESS_KEY};Version=1.0;`;
}

/** Azurite's well-known development account name. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
/** Azurite's well-known development account key. */
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Azurite's default Blob port (`npm start`'s BLOB_PORT). */
export const AZURITE_BLOB_PORT = 10000;

/** The Blob endpoint of the well-known account on `port` of 127.0.0.1. */
export function azuriteBlobEndpoint(port: number = AZURITE_BLOB_PORT): string {
  return `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
}

/** A storage connection string for the well-known account at a Blob endpoint (default: port 10000). */
export function azuriteConnectionString(blobEndpoint: string = azuriteBlobEndpoint()): string {
  return `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${blobEndpoint};`;
}
