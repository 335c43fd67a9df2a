/**
 * The deployment modes, evaluated offline (bicep-eval.ts): default, NETWORK_ISOLATION, an existing client id,
 * extra tags, and what the deploy workflow's provision step would create.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HISTORY_RETENTION_DAYS,
  DEFAULT_LIMIT_RETENTION_DAYS,
  DEFAULT_MARKER_RETENTION_DAYS,
  retentionRules,
} from '../../src/local/retention.js';
import { at, deployment, type Evaluated } from './bicep-eval.js';
import { type BicepFile, type BicepObject, readBicep, sourceOf } from './bicep-model.js';
import { checkPipelineReachesParameters, ROLE_IDS } from './contract.js';
import {
  azdParameters,
  checkIsolation,
  checkKeyless,
  checkTags,
  checkUpstreamToken,
  graphWrites,
  workflowEnvironment,
} from './modes.js';

const LOGIN = 'https://login.microsoftonline.com/';
const TENANT = '00000000-0000-0000-0000-0000000000aa';
const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
const BASE = { environmentName: 'dev', location: 'swedencentral', principalId: '' };

async function templates(edit?: { file: string; from: string; to: string }) {
  const read = async (file: string) => {
    const text = await readFile(file, 'utf8');
    if (edit?.file !== file) return readBicep(text, file);
    const changed = text.replace(edit.from, edit.to);
    expect(changed, 'the test edit must change the file').not.toBe(text);
    return readBicep(changed, `${file} (broken copy)`);
  };
  const main = await read('infra/main.bicep');
  const modules = new Map<string, BicepFile>();
  for (const module of main.modules) modules.set(module.path, await read(`infra/${module.path.slice(2)}`));
  return { main, modules };
}

async function deploy(params: Record<string, Evaluated>, edit?: { file: string; from: string; to: string }) {
  const { main, modules } = await templates(edit);
  return deployment(main, modules, { ...BASE, ...params });
}

const types = (main: BicepFile) => new Map([...main.params.values()].map((p) => [p.name, p.type]));

describe('default mode', () => {
  it('creates the registration, no network, public endpoints, Standard_S1, nothing key-based', async () => {
    const { resources } = await deploy({});
    const kinds = resources.map((r) => r.resource.type);
    expect(kinds).toContain('Microsoft.Graph/applications');
    expect(kinds).not.toContain('Microsoft.Network/virtualNetworks');
    expect(kinds).not.toContain('Microsoft.Network/privateEndpoints');
    expect(kinds).not.toContain('Microsoft.SignalRService/signalR/sharedPrivateLinkResources');
    const signalR = resources.find((r) => r.resource.type === 'Microsoft.SignalRService/signalR');
    expect(signalR?.body.sku).toMatchObject({ name: 'Standard_S1', tier: 'Standard' });
    expect(checkKeyless(resources, 'identity')).toEqual([]);
    expect(checkUpstreamToken(resources, LOGIN, TENANT)).toEqual([]);
  });

  it('declares the sign-in permissions, and grants consent or assigns roles only when asked', async () => {
    const plain = await deploy({});
    const registration = plain.resources.find((r) => r.resource.type === 'Microsoft.Graph/applications');
    expect(JSON.stringify(registration?.body.requiredResourceAccess)).toContain(
      '00000003-0000-0000-c000-000000000000',
    );
    expect(graphWrites(plain.resources).map((r) => r.resource.type)).not.toContain(
      'Microsoft.Graph/oauth2PermissionGrants',
    );
    const admin = await deploy({ entraGrantAdminConsent: true, entraAssignmentRequired: true });
    const written = graphWrites(admin.resources).map((r) => r.resource.type);
    expect(written).toContain('Microsoft.Graph/oauth2PermissionGrants');
    // SignalR's identity keeps getting upstream tokens when assignment is required.
    const assignments = admin.resources.filter(
      (r) => r.resource.type === 'Microsoft.Graph/appRoleAssignedTo',
    );
    expect(assignments.map((r) => sourceOf(r.resource.body.principalId))).toEqual([
      'signalRIdentityPrincipalId',
    ]);
    const entraAppParams = admin.modules.find((m) => m.symbol === 'entraApp')?.body.params as BicepObject;
    expect(sourceOf(entraAppParams.signalRIdentityPrincipalId)).toBe('signalRIdentity.outputs.principalId');
    const sp = admin.resources.find((r) => r.resource.type === 'Microsoft.Graph/servicePrincipals');
    expect(sp?.body.appRoleAssignmentRequired).toBe(true);
  });
});

describe('NETWORK_ISOLATION', () => {
  it('adds the VNet, the private endpoints for blob and the realtime service and the shared private endpoint', async () => {
    const { resources } = await deploy({ networkIsolation: true, signalRSku: 'Free_F1' });
    const groups = resources
      .filter((r) => r.resource.type === 'Microsoft.Network/privateEndpoints')
      .map((r) => r.body.properties)
      .map((p) => p as { privateLinkServiceConnections: { properties: { groupIds: string[] } }[] })
      .flatMap((p) => p.privateLinkServiceConnections.flatMap((c) => c.properties.groupIds));
    expect(groups.sort()).toEqual(['blob', 'signalr']);
    const link = resources.find(
      (r) => r.resource.type === 'Microsoft.SignalRService/signalR/sharedPrivateLinkResources',
    );
    expect(link?.body.properties).toMatchObject({ groupId: 'sites' });
    // Free_F1 has no private endpoints: the tier is raised.
    const signalR = resources.find((r) => r.resource.type === 'Microsoft.SignalRService/signalR');
    expect(signalR?.body.sku).toMatchObject({ name: 'Standard_S1' });
  });

  it('leaves nothing public but the chat page and SignalR client connections', async () => {
    const { resources } = await deploy({ networkIsolation: true });
    expect(checkIsolation(resources)).toEqual([]);
    expect(checkKeyless(resources, 'identity')).toEqual([]);
  });

  it('fails when storage keeps its public endpoint in isolation mode', async () => {
    const { resources } = await deploy(
      { networkIsolation: true },
      {
        file: 'infra/modules/storage.bicep',
        from: "publicNetworkAccess: networkIsolation ? 'Disabled' : 'Enabled'",
        to: "publicNetworkAccess: 'Enabled'",
      },
    );
    expect(checkIsolation(resources)).toEqual([
      expect.stringMatching(/Storage must have publicNetworkAccess Disabled/),
    ]);
  });

  it('fails when SignalR lets the REST API in from the internet', async () => {
    const { resources } = await deploy(
      { networkIsolation: true },
      { file: 'infra/modules/signalr.bicep', from: "      'RESTAPI'\n", to: '' },
    );
    expect(checkIsolation(resources)).toEqual([
      expect.stringMatching(/SignalR may keep only ClientConnection public/),
    ]);
  });

  it('fails on a resource type nobody has classified', async () => {
    const { resources } = await deploy({ networkIsolation: true });
    const [first] = resources;
    if (!first) throw new Error('no resources');
    const vault = { ...first, resource: { ...first.resource, type: 'Microsoft.KeyVault/vaults' } };
    expect(checkIsolation([vault])).toEqual([
      expect.stringMatching(/a resource type isolation mode does not know/),
    ]);
  });

  it('is private by default in no mode: without isolation, storage is public (so the check can fail)', async () => {
    const { resources } = await deploy({});
    expect(checkIsolation(resources).length).toBeGreaterThan(0);
  });
});

describe('key-based auth', () => {
  it('fails when Log Analytics accepts key-based ingestion', async () => {
    const { resources } = await deploy(
      {},
      {
        file: 'infra/modules/monitoring.bicep',
        from: 'disableLocalAuth: true',
        to: 'disableLocalAuth: false',
      },
    );
    expect(checkKeyless(resources, 'identity')).toEqual([
      expect.stringMatching(/features\.disableLocalAuth must be true/),
    ]);
  });

  it('fails when storage accepts shared keys', async () => {
    const { resources } = await deploy(
      {},
      {
        file: 'infra/modules/storage.bicep',
        from: 'allowSharedKeyAccess: false',
        to: 'allowSharedKeyAccess: true',
      },
    );
    expect(checkKeyless(resources, 'identity')).toEqual([
      expect.stringMatching(/allowSharedKeyAccess must be false/),
    ]);
  });
});

describe('an existing client id (ENTRA_CLIENT_ID)', () => {
  it('writes nothing to Microsoft Graph, and Easy Auth, SignalR and the app agree on the token', async () => {
    const { resources } = await deploy({ entraClientId: CLIENT_ID });
    expect(graphWrites(resources)).toEqual([]);
    expect(checkUpstreamToken(resources, LOGIN, TENANT)).toEqual([]);
    const signalR = resources.find((r) => r.resource.type === 'Microsoft.SignalRService/signalR');
    expect(JSON.stringify(signalR?.body)).toContain(CLIENT_ID);
  });

  it('writes only the federated credential on the admin-made registration the deployer owns', async () => {
    const { resources } = await deploy({ entraClientId: CLIENT_ID, entraAppUniqueName: 'chat-prepared' });
    expect(graphWrites(resources).map((r) => r.resource.type)).toEqual([
      'Microsoft.Graph/applications/federatedIdentityCredentials',
    ]);
  });

  it('fails the token check when the registration asks for v1 tokens while Easy Auth validates v2', async () => {
    const { resources } = await deploy(
      {},
      {
        file: 'infra/modules/entra-app.bicep',
        from: 'requestedAccessTokenVersion: 2',
        to: 'requestedAccessTokenVersion: 1',
      },
    );
    expect(checkUpstreamToken(resources, LOGIN, TENANT)).toEqual([
      expect.stringMatching(
        /Easy Auth validates issuer .*v2\.0, but the registration's tokens carry https:\/\/sts\.windows\.net/,
      ),
      expect.stringMatching(/The app validates issuer .*v2\.0, but/),
    ]);
  });

  it('fails the token check when SignalR asks for a token Easy Auth would refuse', async () => {
    const { resources } = await deploy(
      { entraClientId: CLIENT_ID },
      {
        file: 'infra/main.bicep',
        from: '    upstreamAudience: appClientId\n',
        to: "    upstreamAudience: 'api://other'\n",
      },
    );
    expect(checkUpstreamToken(resources, LOGIN, TENANT)).toEqual([
      expect.stringMatching(
        /The realtime service requests tokens for api:\/\/other, Easy Auth's client id is 1111/,
      ),
    ]);
  });
});

describe('extra tags (EXTRA_TAGS)', () => {
  it('puts them on every resource, and cannot replace azd-env-name', async () => {
    const { resources } = await deploy({ extraTags: { costCenter: '42', 'azd-env-name': 'other' } });
    expect(checkTags(resources, { costCenter: '42', 'azd-env-name': 'dev' })).toEqual([]);
    const isolated = await deploy({ networkIsolation: true, extraTags: { costCenter: '42' } });
    expect(checkTags(isolated.resources, { costCenter: '42', 'azd-env-name': 'dev' })).toEqual([]);
  });

  it('fails when a module drops them', async () => {
    // The network exists only in isolation mode: check it there.
    const isolated = await deploy(
      { networkIsolation: true, extraTags: { costCenter: '42' } },
      {
        file: 'infra/modules/network.bicep',
        from: '  tags: tags\n  properties: {\n    addressSpace',
        to: '  properties: {\n    addressSpace',
      },
    );
    expect(checkTags(isolated.resources, { costCenter: '42' })).toEqual([
      expect.stringMatching(/network\.bicep.*virtualNetworks\): tag costCenter must be "42"/),
    ]);
  });
});

describe("the deploy workflow's provision step", () => {
  async function pipelineDeployment(repositoryVariables: Record<string, string>) {
    const { main, modules } = await templates();
    const env = workflowEnvironment(await readFile('.github/workflows/azure-dev.yml', 'utf8'), {
      AZURE_ENV_NAME: 'dev',
      AZURE_LOCATION: 'swedencentral',
      ...repositoryVariables,
    });
    const params = azdParameters(await readFile('infra/main.parameters.json', 'utf8'), env, types(main));
    return { env, params, ...deployment(main, modules, params) };
  }

  it('has no Graph write once ENTRA_CLIENT_ID is known, whatever else the repository variables say', async () => {
    const { resources, params, env } = await pipelineDeployment({
      ENTRA_CLIENT_ID: CLIENT_ID,
      ENTRA_GRANT_ADMIN_CONSENT: 'true',
      ENTRA_ASSIGNMENT_REQUIRED: 'true',
      NETWORK_ISOLATION: 'true',
      EXTRA_TAGS: '{"costCenter":"42"}',
    });
    expect(env.ENTRA_APP_UNIQUE_NAME).toBe('');
    expect(params).toMatchObject({
      entraClientId: CLIENT_ID,
      networkIsolation: true,
      extraTags: { costCenter: '42' },
    });
    expect(graphWrites(resources)).toEqual([]);
    // Nor do the provision step's hooks (the postprovision hook writes a redirect URI only on the one-pass path).
    // Imported through a variable, as in hooks.test.ts: a plain JavaScript module without type declarations.
    const hooks = '../../infra/hooks';
    const rights = (await import(`${hooks}/entra-rights.mjs`)) as {
      plannedGraphWrites(env: Record<string, string>): { kind: string };
    };
    expect(rights.plannedGraphWrites(env).kind).toBe('none');
    expect(rights.plannedGraphWrites({ ...env, ENTRA_APP_UNIQUE_NAME: 'chat' }).kind).toBe('credential');
  });

  it('would write the registration when ENTRA_CLIENT_ID is not set (so the check above can fail)', async () => {
    const { resources, params } = await pipelineDeployment({});
    expect(params.signalRSku).toBe('Standard_S1');
    expect(graphWrites(resources).map((r) => r.resource.type)).toContain('Microsoft.Graph/applications');
  });
});

describe('retention (Blob lifecycle policy ↔ src/local/retention.ts)', () => {
  it("deletes the same prefixes and blob types after the azd variables' days as the local sweeper", async () => {
    const { resources } = await deploy({
      historyRetentionDays: 30,
      markerRetentionDays: 3,
      limitRetentionDays: 4,
    });
    const policy = resources.find(
      (r) => r.resource.type === 'Microsoft.Storage/storageAccounts/managementPolicies',
    );
    const rules = (at(policy?.body, 'properties', 'policy', 'rules') ?? []) as Evaluated[];
    const containers = { history: 'chat-history', attachments: 'chat-attachments' };
    const fromBicep = rules.map((rule) => {
      const prefixes = at(rule, 'definition', 'filters', 'prefixMatch') as string[];
      const container = (Object.keys(containers) as (keyof typeof containers)[]).find((key) =>
        prefixes.every((p) => p.startsWith(`${containers[key]}/`)),
      );
      return {
        name: at(rule, 'name'),
        container,
        prefixes: prefixes.map((p) => p.slice(p.indexOf('/') + 1)),
        blobType: (at(rule, 'definition', 'filters', 'blobTypes', 0) as string).replace(/^./, (c) =>
          c.toUpperCase(),
        ),
        days: at(rule, 'definition', 'actions', 'baseBlob', 'delete', 'daysAfterModificationGreaterThan'),
      };
    });
    expect(fromBicep).toEqual(retentionRules(30, 3, 4));
    const forever = await deploy({ historyRetentionDays: 0 });
    const kept = forever.resources.find(
      (r) => r.resource.type === 'Microsoft.Storage/storageAccounts/managementPolicies',
    );
    expect(
      (at(kept?.body, 'properties', 'policy', 'rules') as Evaluated[]).map((rule) => at(rule, 'name')),
    ).toEqual(['client-id-markers', 'command-limit-buckets', 'attachments-pending']);
  });

  it('takes the same default days as the local sweeper when the azd variables are unset', async () => {
    const { main, modules } = await templates();
    const params = azdParameters(await readFile('infra/main.parameters.json', 'utf8'), {}, types(main));
    expect(params).toMatchObject({
      historyRetentionDays: DEFAULT_HISTORY_RETENTION_DAYS,
      markerRetentionDays: DEFAULT_MARKER_RETENTION_DAYS,
      limitRetentionDays: DEFAULT_LIMIT_RETENTION_DAYS,
    });
    const { resources } = deployment(main, modules, { ...BASE, ...params });
    const policy = resources.find(
      (r) => r.resource.type === 'Microsoft.Storage/storageAccounts/managementPolicies',
    );
    const limits = (at(policy?.body, 'properties', 'policy', 'rules') as Evaluated[]).find(
      (rule) => at(rule, 'name') === 'command-limit-buckets',
    );
    expect(at(limits, 'definition')).toEqual({
      filters: { blobTypes: ['blockBlob'], prefixMatch: ['chat-history/_limits/'] },
      actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: 1 } } },
    });
  });
});

describe('observability', () => {
  it('sends SignalR, Blob and Function App logs to the workspace, and telemetry with Entra auth', async () => {
    const { resources } = await deploy({});
    const diagnostics = resources.filter((r) => r.resource.type === 'Microsoft.Insights/diagnosticSettings');
    expect(diagnostics.map((r) => r.module).sort()).toEqual(['app', 'signalR', 'storage']);
    for (const setting of diagnostics) expect(at(setting.body, 'properties', 'workspaceId')).toBeDefined();
    const settings = resources.find(
      (r) => r.resource.type === 'Microsoft.Web/sites/config' && r.body.name === 'appsettings',
    );
    expect(at(settings?.body, 'properties', 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toMatch(
      /^ClientId=.*;Authorization=AAD$/,
    );
    expect(at(settings?.body, 'properties', 'APPLICATIONINSIGHTS_CONNECTION_STRING')).toBeDefined();
  });

  it('builds the Workbook from the committed JSON, with messages per minute, connections of either service, upstream failures and p95 latency', async () => {
    const { resources } = await deploy({});
    const workbook = resources.find((r) => r.resource.type === 'Microsoft.Insights/workbooks');
    const committed = await readFile('infra/workbook/chat.workbook.json', 'utf8');
    expect(at(workbook?.body, 'properties', 'serializedData')).toBe(committed);
    const queries = (JSON.parse(committed) as { items: { content: { query?: string } }[] }).items
      .map((item) => item.content.query ?? '')
      .join('\n');
    expect(queries).toMatch(/OperationName == 'messages'[\s\S]*bin\(TimeGenerated, 1m\)/);
    // Connections in either mode: the metric is ConnectionCount on SignalR and TotalConnectionCount on Web PubSub
    // (Azure Monitor, "Supported metrics for Microsoft.SignalRService/WebPubSub").
    expect(queries).toContain("MetricName in ('ConnectionCount', 'TotalConnectionCount')");
    expect(queries).toMatch(/Success == false or toint\(ResultCode\) >= 400/);
    expect(queries).toContain('percentile(DurationMs, 95)');
  });
});

describe('REALTIME_SERVICE: which resources each value deploys', () => {
  const realtimeTypes = (resources: readonly { resource: { type: string } }[]) =>
    resources.map((r) => r.resource.type).filter((type) => type.startsWith('Microsoft.SignalRService/'));
  const appSettingsOf = (resources: Awaited<ReturnType<typeof deploy>>['resources']) =>
    at(
      resources.find((r) => r.resource.type === 'Microsoft.Web/sites/config' && r.body.name === 'appsettings')
        ?.body,
      'properties',
    ) as Record<string, Evaluated>;
  const roleIdsOf = (resources: Awaited<ReturnType<typeof deploy>>['resources']) =>
    resources
      .filter((r) => r.resource.type === 'Microsoft.Authorization/roleAssignments')
      .map((r) =>
        String(at(r.body, 'properties', 'roleDefinitionId'))
          .split('/')
          .at(-1),
      );

  it('signalr (default): SignalR Service alone, SignalR Service Owner for the app, the SignalR settings', async () => {
    const { resources } = await deploy({ entraClientId: CLIENT_ID });
    expect(realtimeTypes(resources)).toEqual(['Microsoft.SignalRService/signalR']);
    expect(roleIdsOf(resources)).toContain(ROLE_IDS.signalRServiceOwner);
    expect(roleIdsOf(resources)).not.toContain(ROLE_IDS.webPubSubServiceOwner);
    const settings = appSettingsOf(resources);
    expect(settings).toMatchObject({ REALTIME_SERVICE: 'signalr', CHAT_DIALECTS: 'signalr' });
    expect(Object.keys(settings)).toContain('AzureSignalRConnectionString');
    expect(Object.keys(settings).filter((name) => /^WEBPUBSUB_|^WebPubSub/.test(name))).toEqual([]);
  });

  it('webpubsub: Web PubSub and its hub alone, Web PubSub Service Owner for the app, the Web PubSub settings, keyless', async () => {
    const { resources, modules, scope } = await deploy({
      realtimeService: 'webpubsub',
      entraClientId: CLIENT_ID,
    });
    expect(realtimeTypes(resources)).toEqual([
      'Microsoft.SignalRService/webPubSub',
      'Microsoft.SignalRService/webPubSub/hubs',
    ]);
    expect(modules.map((m) => m.symbol)).not.toContain('signalR');
    expect(roleIdsOf(resources)).toContain(ROLE_IDS.webPubSubServiceOwner);
    expect(roleIdsOf(resources)).not.toContain(ROLE_IDS.signalRServiceOwner);
    const owner = resources.find(
      (r) => r.resource.symbol === 'appWebPubSubServiceOwner' && r.resource.type.endsWith('roleAssignments'),
    );
    expect(sourceOf(owner?.resource.body.scope)).toBe('webPubSub');
    const service = resources.find((r) => r.resource.type === 'Microsoft.SignalRService/webPubSub');
    expect(service?.body).toMatchObject({
      kind: 'WebPubSub',
      sku: { name: 'Standard_S1', tier: 'Standard', capacity: 1 },
      identity: { type: 'UserAssigned' },
      properties: { disableLocalAuth: true, publicNetworkAccess: 'Enabled' },
    });
    const settings = appSettingsOf(resources);
    expect(settings).toMatchObject({
      REALTIME_SERVICE: 'webpubsub',
      CHAT_DIALECTS: 'websocket',
      CHAT_HUB_NAME: 'chat',
      SIGNALR_AUTH: 'identity',
      SIGNALR_UPSTREAM_AUDIENCE: CLIENT_ID,
      SIGNALR_UPSTREAM_ISSUER: `${LOGIN}${TENANT}/v2.0`,
    });
    expect(settings.WEBPUBSUB_ENDPOINT).toMatch(/^https:\/\//);
    // No SignalR, and no key of any kind.
    expect(Object.keys(settings).filter((name) => /SignalR|WebPubSubConnectionString/.test(name))).toEqual(
      [],
    );
    expect(checkKeyless(resources, 'identity')).toEqual([]);
    expect(checkUpstreamToken(resources, LOGIN, TENANT)).toEqual([]);
    // The page azd prints opens the raw-WebSocket chat, which Web PubSub carries.
    expect(scope.value(scope.file.outputs.get('CHAT_URL') ?? '')).toMatch(/\/api\/home\?service=webpubsub$/);
    expect(scope.value(scope.file.outputs.get('REALTIME_UPSTREAM_URL_TEMPLATE') ?? '')).toMatch(
      /^https:\/\/⟨app\.outputs\.defaultHostName⟩\/api\/messages\?event=\{event\}$/,
    );
  });

  it("webpubsub: the hub's event handler calls the app for every user event and connect, connected, disconnected, as the registration", async () => {
    const { resources } = await deploy({ realtimeService: 'webpubsub', entraClientId: CLIENT_ID });
    const hub = resources.find((r) => r.resource.type === 'Microsoft.SignalRService/webPubSub/hubs');
    expect(hub?.body.name).toBe('chat');
    expect(at(hub?.body, 'properties', 'anonymousConnectPolicy')).toBe('deny');
    expect(at(hub?.body, 'properties', 'eventHandlers')).toEqual([
      {
        urlTemplate: expect.stringMatching(
          /^https:\/\/⟨app\.outputs\.defaultHostName⟩\/api\/messages\?event=\{event\}$/,
        ),
        userEventPattern: '*',
        systemEvents: ['connect', 'connected', 'disconnected'],
        auth: { type: 'ManagedIdentity', managedIdentity: { resource: CLIENT_ID } },
      },
    ]);
    // Easy Auth leaves the handler route open to the service in both modes (it checks its own bearer there).
    const easyAuth = resources.find(
      (r) => r.resource.type === 'Microsoft.Web/sites/config' && r.body.name === 'authsettingsV2',
    );
    expect(at(easyAuth?.body, 'properties', 'globalValidation', 'excludedPaths')).toEqual(['/api/messages']);
  });

  it('webpubsub, key mode: access keys on, ce-signature instead of a bearer, the connection string from listKeys()', async () => {
    const { resources } = await deploy({
      realtimeService: 'webpubsub',
      signalRAuth: 'key',
      entraClientId: CLIENT_ID,
    });
    const service = resources.find((r) => r.resource.type === 'Microsoft.SignalRService/webPubSub');
    expect(at(service?.body, 'properties', 'disableLocalAuth')).toBe(false);
    const hub = resources.find((r) => r.resource.type === 'Microsoft.SignalRService/webPubSub/hubs');
    expect(at(hub?.body, 'properties', 'eventHandlers', 0, 'auth')).toEqual({ type: 'None' });
    const settings = appSettingsOf(resources);
    // listKeys() is Azure's: the value is unknown offline, but the setting is there.
    expect(Object.keys(settings)).toContain('WebPubSubConnectionString');
    expect(Object.keys(settings)).not.toContain('WEBPUBSUB_ENDPOINT');
    expect(roleIdsOf(resources)).not.toContain(ROLE_IDS.webPubSubServiceOwner);
  });

  it('fails the token check when the event handler asks for a token the app does not accept', async () => {
    const { resources } = await deploy(
      { realtimeService: 'webpubsub', entraClientId: CLIENT_ID },
      {
        file: 'infra/modules/webpubsub.bicep',
        from: '    resource: upstreamAudience\n',
        to: "    resource: 'api://other'\n",
      },
    );
    expect(checkUpstreamToken(resources, LOGIN, TENANT)).toEqual([
      expect.stringMatching(/requests tokens for api:\/\/other, the app validates the audience 1111/),
      expect.stringMatching(/requests tokens for api:\/\/other, Easy Auth's client id is 1111/),
    ]);
  });

  it('webpubsub with NETWORK_ISOLATION: its private endpoint and DNS zone, its shared private endpoint, only clients public', async () => {
    const { resources, modules, scope } = await deploy({
      realtimeService: 'webpubsub',
      networkIsolation: true,
      signalRSku: 'Free_F1',
      extraTags: { costCenter: '42' },
    });
    const groups = resources
      .filter((r) => r.resource.type === 'Microsoft.Network/privateEndpoints')
      .flatMap(
        (r) =>
          at(r.body, 'properties', 'privateLinkServiceConnections', 0, 'properties', 'groupIds') as string[],
      );
    expect(groups.sort()).toEqual(['blob', 'webpubsub']);
    // The zones are the network module's loop: read what main passes it.
    const network = modules.find((m) => m.symbol === 'network');
    if (!network) throw new Error('no network module in isolation mode');
    expect(scope.moduleScope(network).params.privateDnsZoneNames).toEqual([
      'privatelink.blob.core.windows.net',
      'privatelink.webpubsub.azure.com',
    ]);
    const links = resources.filter((r) => r.resource.type.endsWith('/sharedPrivateLinkResources'));
    expect(links.map((r) => [r.resource.type, at(r.body, 'properties', 'groupId')])).toEqual([
      ['Microsoft.SignalRService/webPubSub/sharedPrivateLinkResources', 'sites'],
    ]);
    expect(at(links[0]?.body, 'properties', 'requestMessage')).toMatch(/^Web PubSub upstream for func-api-/);
    // Free_F1 has no private endpoints: the tier is raised, as for SignalR.
    const service = resources.find((r) => r.resource.type === 'Microsoft.SignalRService/webPubSub');
    expect(service?.body.sku).toMatchObject({ name: 'Standard_S1' });
    expect(checkIsolation(resources)).toEqual([]);
    expect(checkKeyless(resources, 'identity')).toEqual([]);
    expect(checkTags(resources, { costCenter: '42', 'azd-env-name': 'dev' })).toEqual([]);
  });

  it('fails the isolation check when Web PubSub lets the REST API in from the internet', async () => {
    const { resources } = await deploy(
      { realtimeService: 'webpubsub', networkIsolation: true },
      { file: 'infra/modules/webpubsub.bicep', from: "      'RESTAPI'\n", to: '' },
    );
    expect(checkIsolation(resources)).toEqual([
      expect.stringMatching(/webPubSub\): Web PubSub may keep only ClientConnection public/),
    ]);
  });

  it('fails the keyless check when Web PubSub keeps local auth in identity mode', async () => {
    const { resources } = await deploy(
      { realtimeService: 'webpubsub' },
      {
        file: 'infra/modules/webpubsub.bicep',
        from: 'disableLocalAuth: identityAuth',
        to: 'disableLocalAuth: false',
      },
    );
    expect(checkKeyless(resources, 'identity')).toEqual([
      expect.stringMatching(/webPubSub\): disableLocalAuth must be true in identity mode/),
    ]);
  });

  it("sends Web PubSub's logs and metrics to the workspace", async () => {
    const { resources } = await deploy({ realtimeService: 'webpubsub' });
    const diagnostics = resources.filter((r) => r.resource.type === 'Microsoft.Insights/diagnosticSettings');
    expect(diagnostics.map((r) => r.module).sort()).toEqual(['app', 'storage', 'webPubSub']);
    const service = diagnostics.find((r) => r.module === 'webPubSub');
    expect(at(service?.body, 'properties', 'logs')).toEqual([{ categoryGroup: 'allLogs', enabled: true }]);
    expect(at(service?.body, 'properties', 'metrics')).toEqual([{ category: 'AllMetrics', enabled: true }]);
  });

  it('reads REALTIME_SERVICE from the pipeline: the repository variable reaches the template', async () => {
    const { main, modules } = await templates();
    const workflow = await readFile('.github/workflows/azure-dev.yml', 'utf8');
    const env = workflowEnvironment(workflow, {
      AZURE_ENV_NAME: 'dev',
      AZURE_LOCATION: 'swedencentral',
      ENTRA_CLIENT_ID: CLIENT_ID,
      REALTIME_SERVICE: 'webpubsub',
    });
    const params = azdParameters(await readFile('infra/main.parameters.json', 'utf8'), env, types(main));
    expect(params.realtimeService).toBe('webpubsub');
    expect(realtimeTypes(deployment(main, modules, params).resources)).toEqual([
      'Microsoft.SignalRService/webPubSub',
      'Microsoft.SignalRService/webPubSub/hubs',
    ]);
    // Unset, it is SignalR (the default in main.parameters.json).
    const unset = azdParameters(
      await readFile('infra/main.parameters.json', 'utf8'),
      workflowEnvironment(workflow, { AZURE_ENV_NAME: 'dev', AZURE_LOCATION: 'swedencentral' }),
      types(main),
    );
    expect(unset.realtimeService).toBe('signalr');
    // A workflow that drops the variable fails the pipeline check (a push would redeploy SignalR).
    const dropped = workflow.replace(/^ {6}REALTIME_SERVICE: .*\n/m, '');
    expect(dropped).not.toBe(workflow);
    expect(
      checkPipelineReachesParameters(
        await readFile('infra/main.parameters.json', 'utf8'),
        await readFile('azure.yaml', 'utf8'),
        dropped,
      ),
    ).toEqual([expect.stringMatching(/realtimeService reads \$\{REALTIME_SERVICE\}/)]);
  });
});

describe('attachments (docs/deploy.md, "Attachments")', () => {
  const appSettingsOf = (resources: Awaited<ReturnType<typeof deploy>>['resources']) =>
    at(
      resources.find((r) => r.resource.type === 'Microsoft.Web/sites/config' && r.body.name === 'appsettings')
        ?.body,
      'properties',
    ) as Record<string, Evaluated>;

  it('creates a private container and lets only the page origin PUT and GET blobs from the browser', async () => {
    const { resources } = await deploy({});
    const containers = resources
      .filter((r) => r.resource.type === 'Microsoft.Storage/storageAccounts/blobServices/containers')
      .map((r) => ({ name: r.body.name, access: at(r.body, 'properties', 'publicAccess') }));
    expect(containers).toContainEqual({ name: 'chat-attachments', access: 'None' });
    const cors = resources.filter(
      (r) =>
        r.resource.type === 'Microsoft.Storage/storageAccounts/blobServices' && r.module === 'storageCors',
    );
    expect(cors).toHaveLength(1);
    const rules = at(cors[0]?.body, 'properties', 'cors', 'corsRules') as Evaluated[];
    expect(rules).toHaveLength(1);
    const origins = at(rules[0], 'allowedOrigins') as string[];
    expect(origins).toHaveLength(1);
    expect(origins[0]).toMatch(/^https:\/\/\S+$/);
    expect(origins[0]).not.toContain('*');
    expect(at(rules[0], 'allowedMethods')).toEqual(['GET', 'HEAD', 'PUT', 'OPTIONS']);
    const settings = appSettingsOf(resources);
    expect(String(settings.CHAT_ATTACHMENTS_STORAGE)).not.toBe('off');
    const delegator = resources.filter(
      (r) =>
        r.resource.type === 'Microsoft.Authorization/roleAssignments' &&
        String(at(r.body, 'properties', 'roleDefinitionId')).includes(ROLE_IDS.storageBlobDelegator),
    );
    expect(delegator).toHaveLength(1);
  });

  it('turns attachments off with network isolation, where browsers cannot reach the account (no CORS either)', async () => {
    const { resources } = await deploy({ networkIsolation: true });
    expect(appSettingsOf(resources).CHAT_ATTACHMENTS_STORAGE).toBe('off');
    expect(resources.filter((r) => r.module === 'storageCors')).toEqual([]);
  });
});
