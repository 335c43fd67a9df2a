// The one-pass admin path's last step (docs/deploy.md, "The one-pass admin path"): the sign-in redirect URI is on the
// Function App's real host, which exists only once the site does (secure unique default hostnames add a hash and the
// region to its name). On a registration the template created, entra-app.bicep sets it; on an admin-made one the
// deployer owns (ENTRA_APP_UNIQUE_NAME), postprovision.mjs adds it here, as its owner may. Used by postprovision.mjs.

/** The redirect URIs to write so that `wanted` is among them, or undefined when it already is. */
export function redirectUrisWith(current, wanted) {
  const uris = Array.isArray(current) ? current : [];
  return uris.includes(wanted) ? undefined : [...uris, wanted];
}

/**
 * Adds `redirectUri` to the web redirect URIs of the registration whose Graph `uniqueName` is `uniqueName`, keeping
 * the others. `graph(path, init)` calls Microsoft Graph v1.0 (a fetch with the deployer's token). Returns what it did.
 */
export async function addRedirectUri(graph, uniqueName, redirectUri) {
  const path = `/applications(uniqueName='${encodeURIComponent(uniqueName.replaceAll("'", "''"))}')`;
  const read = await graph(`${path}?$select=id,web`);
  if (!read.ok) throw new Error(`Reading the registration ${uniqueName} failed: ${read.status}`);
  const uris = redirectUrisWith((await read.json()).web?.redirectUris, redirectUri);
  if (uris === undefined) return 'present';
  const written = await graph(path, {
    method: 'PATCH',
    body: JSON.stringify({ web: { redirectUris: uris } }),
  });
  if (!written.ok) {
    throw new Error(
      `Adding the redirect URI to ${uniqueName} failed: ${written.status} ${await written.text()}`,
    );
  }
  return 'added';
}
