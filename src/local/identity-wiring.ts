/**
 * How identity mode wires the local stack together, in one place for `npm start` and the test stack: the app
 * settings the Functions app gets (as the infrastructure sets them in Azure, pointed at the local identity
 * endpoint) and the options of the local service (Entra-only REST API, ManagedIdentity upstream auth).
 */
import { DEV_APP_IDENTITY, DEV_SIGNALR_IDENTITY, type RunningIdentityEndpoint } from './identity/endpoint.js';
import type { ServiceOptions, UpstreamTemplate } from './service/options.js';
import { defaultEventHandler } from './service/webpubsub/event-handler-options.js';

/**
 * The audience of upstream tokens in the local stack: in Azure it is the resource the upstream template's
 * ManagedIdentity auth names (the app registration's client id); locally a made-up client id.
 */
export const DEV_UPSTREAM_AUDIENCE = '33333333-3333-4333-8333-333333333333';

/** The identity connection string for the local service at `serviceEndpoint`, naming the app's identity. */
export function identityConnectionString(serviceEndpoint: string): string {
  return `Endpoint=${serviceEndpoint};AuthType=azure.msi;ClientId=${DEV_APP_IDENTITY.clientId};Version=1.0;`;
}

/**
 * The Functions app's settings in identity mode, without the connection string (it needs the service's port):
 * the platform's `IDENTITY_ENDPOINT`/`IDENTITY_HEADER` and the SIGNALR_UPSTREAM_* settings.
 */
export function identityAppSettings(identity: RunningIdentityEndpoint): Record<string, string> {
  return {
    SIGNALR_AUTH: 'identity',
    IDENTITY_ENDPOINT: identity.identityEndpoint,
    IDENTITY_HEADER: identity.identityHeader,
    SIGNALR_UPSTREAM_AUDIENCE: DEV_UPSTREAM_AUDIENCE,
    SIGNALR_UPSTREAM_ISSUER: identity.issuer,
    SIGNALR_UPSTREAM_OPENID_CONFIGURATION: identity.openIdConfiguration,
    SIGNALR_UPSTREAM_CALLER_ID: DEV_SIGNALR_IDENTITY.objectId,
  };
}

/** The local service's options in identity mode, with its one upstream template (ManagedIdentity auth). */
export function identityServiceOptions(
  identity: RunningIdentityEndpoint,
  upstreamUrlTemplate: string,
): Required<
  Pick<ServiceOptions, 'auth' | 'entraOpenIdConfiguration' | 'managedIdentity' | 'webPubSubHubs'>
> & {
  upstream: UpstreamTemplate[];
} {
  return {
    auth: 'identity',
    entraOpenIdConfiguration: identity.openIdConfiguration,
    managedIdentity: {
      endpoint: identity.identityEndpoint,
      header: identity.identityHeader,
      clientId: DEV_SIGNALR_IDENTITY.clientId,
    },
    upstream: [
      {
        urlTemplate: upstreamUrlTemplate,
        auth: { type: 'ManagedIdentity', managedIdentity: { resource: DEV_UPSTREAM_AUDIENCE } },
      },
    ],
    // The Web PubSub wing calls the same endpoint, with the same identity, as Azure's event handler setting does.
    webPubSubHubs: {
      '*': {
        eventHandlers: [
          {
            ...defaultEventHandler(upstreamUrlTemplate),
            auth: { type: 'ManagedIdentity', resource: DEV_UPSTREAM_AUDIENCE },
          },
        ],
      },
    },
  };
}
