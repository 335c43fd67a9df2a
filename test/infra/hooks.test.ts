/**
 * The azd hooks' decisions (infra/hooks/*.mjs), without azd or a network: what a deployment writes to
 * Microsoft Graph, whether a token's claims allow it, and which private endpoint connection gets approved.
 */
import { describe, expect, it } from 'vitest';

interface GraphWrites {
  kind: 'none' | 'credential' | 'registration';
  consent: boolean;
  assignments: boolean;
}
interface EntraRights {
  DIRECTORY_ROLES: Record<string, string>;
  plannedGraphWrites(env: Record<string, string>): GraphWrites;
  checkGraphRights(writes: GraphWrites, claims: object, allowedToCreateApps?: boolean): string[];
}
interface EntraRedirect {
  redirectUrisWith(current: unknown, wanted: string): string[] | undefined;
  addRedirectUri(
    graph: (path: string, init?: { method?: string; body?: string }) => Promise<Response>,
    uniqueName: string,
    redirectUri: string,
  ): Promise<'added' | 'present'>;
}
interface UpstreamLink {
  pendingUpstreamLinks(connections: object[], requestMessage: string): { name: string }[];
}

// Imported through a variable: plain JavaScript modules run by Node in the hooks, without type declarations.
const hooks = '../../infra/hooks';
const rights = (await import(`${hooks}/entra-rights.mjs`)) as EntraRights;
const link = (await import(`${hooks}/upstream-link.mjs`)) as UpstreamLink;
const redirect = (await import(`${hooks}/entra-redirect.mjs`)) as EntraRedirect;

describe('preprovision: what the deployment writes to Microsoft Graph', () => {
  it('writes nothing once ENTRA_CLIENT_ID is known (the pipeline), and only the credential on the one-pass path', () => {
    expect(rights.plannedGraphWrites({ ENTRA_CLIENT_ID: 'c1', ENTRA_GRANT_ADMIN_CONSENT: 'true' }).kind).toBe(
      'none',
    );
    expect(rights.plannedGraphWrites({ ENTRA_CLIENT_ID: 'c1', ENTRA_APP_UNIQUE_NAME: 'chat' }).kind).toBe(
      'credential',
    );
    expect(rights.plannedGraphWrites({ CHAT_AUTH: 'none', SIGNALR_AUTH: 'key' }).kind).toBe('none');
    expect(rights.plannedGraphWrites({ ENTRA_ASSIGNMENT_REQUIRED: 'true' })).toEqual({
      kind: 'registration',
      consent: false,
      assignments: true,
    });
  });

  it('lets a user register when the tenant allows it or a role does, and asks for an admin otherwise', () => {
    const writes = rights.plannedGraphWrites({});
    expect(rights.checkGraphRights(writes, { scp: 'User.Read', wids: [] }, true)).toEqual([]);
    expect(
      rights.checkGraphRights(
        writes,
        { scp: 'x', wids: [rights.DIRECTORY_ROLES.applicationDeveloper] },
        false,
      ),
    ).toEqual([]);
    expect(rights.checkGraphRights(writes, { scp: 'x', wids: [] }, false)).toEqual([
      expect.stringMatching(/does not let users register applications/),
    ]);
  });

  it('asks for an admin role for consent and assignments', () => {
    const writes = rights.plannedGraphWrites({
      ENTRA_GRANT_ADMIN_CONSENT: 'true',
      ENTRA_ASSIGNMENT_REQUIRED: 'true',
    });
    const developer = { scp: 'x', wids: [rights.DIRECTORY_ROLES.applicationDeveloper] };
    expect(rights.checkGraphRights(writes, developer, true)).toEqual([
      expect.stringMatching(/ENTRA_GRANT_ADMIN_CONSENT=true needs an admin/),
      expect.stringMatching(/ENTRA_ASSIGNMENT_REQUIRED=true .* needs an admin role/),
    ]);
    const admin = { scp: 'x', wids: [rights.DIRECTORY_ROLES.cloudApplicationAdministrator] };
    expect(rights.checkGraphRights(writes, admin, false)).toEqual([]);
  });

  it('tells a pipeline principal without Graph permissions to set ENTRA_CLIENT_ID', () => {
    const writes = rights.plannedGraphWrites({});
    expect(rights.checkGraphRights(writes, { idtyp: 'app', roles: [] })).toEqual([
      expect.stringMatching(/set the repository variable ENTRA_CLIENT_ID/),
    ]);
    expect(
      rights.checkGraphRights(writes, { idtyp: 'app', roles: ['Application.ReadWrite.OwnedBy'] }),
    ).toEqual([]);
  });
});

describe('postprovision: the shared private endpoint to approve', () => {
  it('approves only pending connections that carry our request message', () => {
    const state = (status: string, description: string) => ({
      privateLinkServiceConnectionState: { status, description },
    });
    const connections = [
      { name: 'ours', properties: state('Pending', 'SignalR upstream for func-api-x') },
      { name: 'approved', properties: state('Approved', 'SignalR upstream for func-api-x') },
      { name: 'someone-else', properties: state('Pending', 'please let me in') },
    ];
    expect(
      link.pendingUpstreamLinks(connections, 'SignalR upstream for func-api-x').map((c) => c.name),
    ).toEqual(['ours']);
  });
});

describe("postprovision: the sign-in redirect on the app's real host (one-pass admin path)", () => {
  const URI = 'https://func-api-abc-h4sh.swedencentral-01.azurewebsites.net/.auth/login/aad/callback';

  /** Microsoft Graph's application by uniqueName, in memory: what the hook reads and writes. */
  function fakeGraph(redirectUris: string[] | undefined, status = 200) {
    const calls: { path: string; method: string; body?: unknown }[] = [];
    const graph = async (path: string, init: { method?: string; body?: string } = {}) => {
      const method = init.method ?? 'GET';
      calls.push({ path, method, body: init.body === undefined ? undefined : JSON.parse(init.body) });
      if (status !== 200) return new Response('denied', { status });
      if (method === 'PATCH') return new Response(null, { status: 204 });
      return Response.json({ id: 'obj', web: redirectUris === undefined ? {} : { redirectUris } });
    };
    return { graph, calls };
  }

  it('adds the redirect URI and keeps the others, once', async () => {
    const { graph, calls } = fakeGraph(['https://old.example/.auth/login/aad/callback']);
    expect(await redirect.addRedirectUri(graph, "chat-o'brien", URI)).toBe('added');
    expect(calls).toEqual([
      { path: "/applications(uniqueName='chat-o''brien')?$select=id,web", method: 'GET', body: undefined },
      {
        path: "/applications(uniqueName='chat-o''brien')",
        method: 'PATCH',
        body: { web: { redirectUris: ['https://old.example/.auth/login/aad/callback', URI] } },
      },
    ]);
    const present = fakeGraph([URI]);
    expect(await redirect.addRedirectUri(present.graph, 'chat', URI)).toBe('present');
    expect(present.calls.map((c) => c.method)).toEqual(['GET']);
    expect(redirect.redirectUrisWith(undefined, URI)).toEqual([URI]);
  });

  it('says what failed when Graph refuses (not the owner)', async () => {
    const { graph } = fakeGraph([], 403);
    await expect(redirect.addRedirectUri(graph, 'chat', URI)).rejects.toThrow(
      /Reading the registration chat failed: 403/,
    );
  });
});
