// Which of the Function App's private endpoint connections is the realtime service's shared private endpoint, still pending.
// Pure (test/infra/entra-rights.test.ts), used by postprovision.mjs.

/** The connections (ARM `privateEndpointConnections` list items) to approve: Pending, with our request message. */
export function pendingUpstreamLinks(connections, requestMessage) {
  return connections.filter((connection) => {
    const state = connection.properties?.privateLinkServiceConnectionState ?? {};
    return state.status === 'Pending' && state.description === requestMessage;
  });
}
