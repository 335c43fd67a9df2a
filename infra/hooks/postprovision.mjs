// azd postprovision hook, two steps, with azd's sign-in:
// - the one-pass admin path (ENTRA_APP_UNIQUE_NAME): adds the sign-in redirect URI on the app's real host to the
//   admin-made registration the deployer owns (Graph; entra-redirect.mjs);
// - NETWORK_ISOLATION: App Service leaves the realtime service's (SignalR's or Web PubSub's) shared private endpoint
//   Pending until the app's owner approves it; the deployer owns the app, so this approves it (ARM).
import { azdToken } from './azd.mjs';
import { addRedirectUri } from './entra-redirect.mjs';
import { plannedGraphWrites } from './entra-rights.mjs';
import { pendingUpstreamLinks } from './upstream-link.mjs';

const redirectUri = process.env.ENTRA_REDIRECT_URI ?? '';
if (plannedGraphWrites(process.env).kind === 'credential' && redirectUri !== '') {
  const uniqueName = process.env.ENTRA_APP_UNIQUE_NAME ?? '';
  const graphToken = azdToken('https://graph.microsoft.com/.default');
  const graph = (path, init = {}) =>
    fetch(`https://graph.microsoft.com/v1.0${path}`, {
      ...init,
      headers: { authorization: `Bearer ${graphToken}`, 'content-type': 'application/json' },
    });
  try {
    if ((await addRedirectUri(graph, uniqueName, redirectUri)) === 'added') {
      console.log(`Entra ID: added the sign-in redirect URI ${redirectUri} to ${uniqueName}.`);
    }
  } catch (error) {
    console.error(`Entra ID: ${error.message}. As the registration's owner, run:`);
    console.error(
      `  az ad app update --id ${process.env.ENTRA_CLIENT_ID} --web-redirect-uris "${redirectUri}"`,
    );
    process.exit(1);
  }
}

const requestMessage = process.env.UPSTREAM_LINK_REQUEST ?? '';
const appId = process.env.AZURE_FUNCTION_APP_ID ?? '';
if (requestMessage === '' || appId === '') process.exit(0);

const API = '2024-04-01';
const token = azdToken('https://management.azure.com/.default');
const arm = (path, init = {}) =>
  fetch(`https://management.azure.com${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });

for (let attempt = 1; attempt <= 10; attempt++) {
  const listed = await arm(`${appId}/privateEndpointConnections?api-version=${API}`);
  if (!listed.ok) throw new Error(`Listing the app's private endpoint connections failed: ${listed.status}`);
  const { value = [] } = await listed.json();
  const approved = value.some(
    (c) =>
      c.properties?.privateLinkServiceConnectionState?.status === 'Approved' &&
      c.properties?.privateLinkServiceConnectionState?.description !== undefined,
  );
  const pending = pendingUpstreamLinks(value, requestMessage);
  for (const connection of pending) {
    const state = { status: 'Approved', description: requestMessage, actionsRequired: 'None' };
    const put = await arm(`${connection.id}?api-version=${API}`, {
      method: 'PUT',
      body: JSON.stringify({ properties: { privateLinkServiceConnectionState: state } }),
    });
    if (!put.ok) throw new Error(`Approving ${connection.name} failed: ${put.status} ${await put.text()}`);
    console.log(
      `Approved the realtime service's shared private endpoint ${connection.name} on the Function App.`,
    );
  }
  if (pending.length > 0 || approved) process.exit(0);
  await new Promise((resolve) => setTimeout(resolve, 15_000));
}
console.error(
  'No shared private endpoint from the realtime service appeared on the Function App: approve it in the portal (docs/deploy.md).',
);
process.exit(1);
