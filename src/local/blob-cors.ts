/**
 * CORS on the local Blob service (Azurite) for the chat page's origin, as Bicep sets it on the storage account in
 * Azure: the browser uploads attachments with PUT and reads them with GET straight from Blob Storage
 * (docs/architecture.md, "Attachments"). `npm start` and the test stack call it once Azurite runs.
 */
import { BlobServiceClient } from '@azure/storage-blob';

/** The methods the page uses on Blob Storage (OPTIONS is the preflight itself). */
export const BLOB_CORS_METHODS = 'GET,HEAD,PUT,OPTIONS';

/** Allows `origins` (e.g. `http://localhost:7071`) to PUT and GET blobs of the Blob service `connectionString` names. */
export async function allowPageOrigins(connectionString: string, origins: readonly string[]): Promise<void> {
  const service = BlobServiceClient.fromConnectionString(connectionString);
  await service.setProperties({
    cors: [
      {
        allowedOrigins: origins.join(','),
        allowedMethods: BLOB_CORS_METHODS,
        allowedHeaders:
          'content-type,x-ms-blob-type,x-ms-blob-content-type,x-ms-blob-content-disposition,x-ms-version,x-ms-date',
        exposedHeaders: 'etag,x-ms-request-id',
        maxAgeInSeconds: 3600,
      },
    ],
  });
}
