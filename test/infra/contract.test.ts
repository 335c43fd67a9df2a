import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { SETTINGS, type SettingSpec } from '../../src/lib/settings.js';
import { type BicepFile, type BicepObject, readBicep, sourceOf } from './bicep-model.js';
import {
  API_VERSIONS,
  checkApiVersions,
  checkAppSettings,
  checkEasyAuth,
  checkFunctionApp,
  checkGraphRegistration,
  checkListKeysConfined,
  checkMain,
  checkModuleOutputs,
  checkModuleParameters,
  checkNoClientSecret,
  checkNoSecretOutputs,
  checkPipelineReachesParameters,
  checkRoleAssignments,
  checkSignalR,
  checkStorage,
  checkUpstreamAudienceWiring,
  checkWebPubSub,
  HOST_SETTINGS,
  PENDING_APP_SETTINGS,
  pendingSettingsNowInCatalogue,
  type UpstreamExpectation,
} from './contract.js';
import { readRoute, readRouteEntry } from './route-table.js';

const MODULES = {
  main: 'infra/main.bicep',
  app: 'infra/modules/function-app.bicep',
  appSettings: 'infra/modules/function-app-settings.bicep',
  signalR: 'infra/modules/signalr.bicep',
  storage: 'infra/modules/storage.bicep',
  roles: 'infra/modules/roles.bicep',
  webPubSub: 'infra/modules/webpubsub.bicep',
  webPubSubLink: 'infra/modules/webpubsub-upstream-link.bicep',
  signalRLink: 'infra/modules/signalr-upstream-link.bicep',
  identity: 'infra/modules/identity.bicep',
  monitoring: 'infra/modules/monitoring.bicep',
  entraApp: 'infra/modules/entra-app.bicep',
} as const;

const catalogue: readonly SettingSpec[] = Object.values(SETTINGS);

async function source(module: keyof typeof MODULES): Promise<string> {
  return readFile(MODULES[module], 'utf8');
}

async function bicep(module: keyof typeof MODULES): Promise<BicepFile> {
  return readBicep(await source(module), MODULES[module]);
}

/** Reads a copy of a module changed by `edit`, failing loudly if the edit did not apply. */
async function brokenCopy(module: keyof typeof MODULES, edit: (text: string) => string): Promise<BicepFile> {
  const original = await source(module);
  const changed = edit(original);
  expect(changed, 'the test edit must change the file').not.toBe(original);
  return readBicep(changed, `${MODULES[module]} (broken copy)`);
}

/** The messages function's route as the Functions host serves it: host.json routePrefix + src/app/routes.ts. */
async function upstreamExpectation(): Promise<UpstreamExpectation> {
  const host = JSON.parse(await readFile('host.json', 'utf8')) as {
    extensions?: { http?: { routePrefix?: string } };
  };
  return {
    route: readRoute(await readFile('src/app/routes.ts', 'utf8'), 'messages'),
    routePrefix: host.extensions?.http?.routePrefix ?? 'api',
  };
}

describe('app settings contract (src/lib/settings.ts ↔ infra/modules/function-app-settings.bicep)', () => {
  it('sets every setting the code requires and only settings the code or the host reads', async () => {
    expect(checkAppSettings(await bicep('appSettings'), catalogue)).toEqual([]);
  });

  it('sets each required setting of the catalogue in every mode (today: the SignalR connection string and the history store)', async () => {
    const app = await bicep('appSettings');
    const settings = (name: string) => Object.keys(app.variables.get(name) as Record<string, unknown>);
    for (const spec of catalogue.filter((s) => s.required)) {
      const everyMode =
        settings('signalRIdentitySettings').includes(spec.name) &&
        settings('signalRKeySettings').includes(spec.name);
      expect(settings('appSettings').includes(spec.name) || everyMode, spec.name).toBe(true);
    }
    expect(catalogue.filter((s) => s.required).map((s) => s.name)).toEqual(
      expect.arrayContaining(['AzureSignalRConnectionString', 'CHAT_HISTORY_STORAGE']),
    );
  });

  it('fails when a required setting is removed from the Bicep app settings', async () => {
    const app = await brokenCopy('appSettings', (text) =>
      text.replace(/^ {2}CHAT_HISTORY_STORAGE: .*\n/m, ''),
    );
    const problems = checkAppSettings(app, catalogue);
    // Once per realtime service: neither SignalR's nor Web PubSub's settings make up for it.
    expect(problems).toEqual([
      expect.stringMatching(
        /requires the app setting CHAT_HISTORY_STORAGE .*signalRIdentitySettings.* set it/,
      ),
      expect.stringMatching(
        /requires the app setting CHAT_HISTORY_STORAGE .*webPubSubIdentitySettings.* set it/,
      ),
    ]);
  });

  it('fails when a new required setting appears in the catalogue but not in Bicep', async () => {
    const extended = [
      ...catalogue,
      { name: 'CHAT_NEW_SETTING', required: true, description: 'for the test' },
    ];
    expect(checkAppSettings(await bicep('appSettings'), extended)).toEqual([
      expect.stringMatching(/requires the app setting CHAT_NEW_SETTING .*signalRKeySettings/),
      expect.stringMatching(/requires the app setting CHAT_NEW_SETTING .*webPubSubKeySettings/),
    ]);
  });

  it('fails when Bicep sets an app setting the code never reads', async () => {
    const app = await brokenCopy('appSettings', (text) =>
      text.replace('  CHAT_HUB_NAME: hubName\n', '  CHAT_HUB_NAME: hubName\n  CHAT_ROOM_NAME: hubName\n'),
    );
    expect(checkAppSettings(app, catalogue)).toEqual([
      expect.stringMatching(/sets CHAT_ROOM_NAME, which the code never reads/),
    ]);
  });

  it('sets CHAT_DIALECTS to the one dialect the deployed service speaks (signalr for SignalR, websocket for Web PubSub)', async () => {
    const app = await bicep('appSettings');
    expect(sourceOf((app.variables.get('appSettings') as BicepObject).CHAT_DIALECTS)).toBe(
      "realtimeService == 'webpubsub' ? 'websocket' : 'signalr'",
    );
    const both = await brokenCopy('appSettings', (text) =>
      text.replace(
        "CHAT_DIALECTS: realtimeService == 'webpubsub' ? 'websocket' : 'signalr'",
        "CHAT_DIALECTS: 'signalr,websocket'",
      ),
    );
    expect(checkAppSettings(both, catalogue)).toEqual([
      expect.stringMatching(
        /set CHAT_DIALECTS to `realtimeService == 'webpubsub' \? 'websocket' : 'signalr'`/,
      ),
    ]);
    const fixed = await brokenCopy('appSettings', (text) =>
      text.replace('  REALTIME_SERVICE: realtimeService\n', "  REALTIME_SERVICE: 'signalr'\n"),
    );
    expect(checkAppSettings(fixed, catalogue)).toEqual([
      expect.stringMatching(/set REALTIME_SERVICE to `realtimeService`/),
    ]);
  });

  it('fails when a host setting is undocumented or one that Flex Consumption forbids', async () => {
    const app = await brokenCopy('appSettings', (text) =>
      text.replace(
        "  AzureWebJobsStorage__credential: 'managedidentity'\n",
        "  AzureWebJobsStorage__credential: 'managedidentity'\n  FUNCTIONS_WORKER_RUNTIME: 'node'\n",
      ),
    );
    expect(checkAppSettings(app, catalogue)).toEqual([
      expect.stringMatching(/FUNCTIONS_WORKER_RUNTIME, which is not a documented host setting/),
      expect.stringMatching(/FUNCTIONS_WORKER_RUNTIME must not be set on Flex Consumption/),
    ]);
  });

  it('fails when the site does not apply every settings object, or applies the wrong mode', async () => {
    const app = await brokenCopy('appSettings', (text) =>
      text.replace(
        'union(hostSettings, appSettings, realtimeSettings, authSettingsForMode)',
        'union(hostSettings, appSettings)',
      ),
    );
    expect(checkAppSettings(app, catalogue)).toEqual([expect.stringMatching(/appsettings must be `union\(/)]);
    const swapped = await brokenCopy('appSettings', (text) =>
      text.replace(
        "signalRAuth == 'identity' ? signalRIdentitySettings : signalRKeySettings",
        "signalRAuth == 'key' ? signalRIdentitySettings : signalRKeySettings",
      ),
    );
    expect(checkAppSettings(swapped, catalogue)).toEqual([
      expect.stringMatching(/var signalRSettings` must be/),
    ]);
    const alwaysSignalR = await brokenCopy('appSettings', (text) =>
      text.replace(
        "realtimeService == 'webpubsub' ? webPubSubSettings : signalRSettings",
        "realtimeService == 'signalr' ? webPubSubSettings : signalRSettings",
      ),
    );
    expect(checkAppSettings(alwaysSignalR, catalogue)).toEqual([
      expect.stringMatching(/var realtimeSettings` must be/),
    ]);
  });

  it("sets Web PubSub's endpoint (identity) or its listKeys() connection string (key), and the same upstream token check as SignalR's", async () => {
    const app = await bicep('appSettings');
    expect(app.variables.get('webPubSubIdentitySettings')).toMatchObject({
      WEBPUBSUB_ENDPOINT: expect.objectContaining({ source: `'https://\${webPubSub.properties.hostName}'` }),
    });
    const keyless = await brokenCopy('appSettings', (text) =>
      text.replace(
        'WebPubSubConnectionString: webPubSub.listKeys().primaryConnectionString',
        `WebPubSubConnectionString: 'Endpoint=https://\${webPubSub.properties.hostName};Version=1.0;'`,
      ),
    );
    expect(checkAppSettings(keyless, catalogue)).toEqual([
      expect.stringMatching(
        /WebPubSubConnectionString must be webPubSub\.listKeys\(\)\.primaryConnectionString/,
      ),
    ]);
    const otherCaller = await brokenCopy('appSettings', (text) =>
      text.replace(
        `  WEBPUBSUB_ENDPOINT: 'https://\${webPubSub.properties.hostName}'\n  SIGNALR_UPSTREAM_AUDIENCE: upstreamAudience\n`,
        `  WEBPUBSUB_ENDPOINT: 'https://\${webPubSub.properties.hostName}'\n  SIGNALR_UPSTREAM_AUDIENCE: identityClientId\n`,
      ),
    );
    expect(checkAppSettings(otherCaller, catalogue)).toEqual([
      expect.stringMatching(/webPubSubIdentitySettings`\.SIGNALR_UPSTREAM_AUDIENCE must be what/),
    ]);
    const leaky = await brokenCopy('appSettings', (text) =>
      text.replace(
        `  WEBPUBSUB_ENDPOINT: 'https://\${webPubSub.properties.hostName}'\n`,
        `  WEBPUBSUB_ENDPOINT: 'https://\${webPubSub.properties.hostName}'\n  WebPubSubConnectionString: webPubSub.listKeys().primaryConnectionString\n`,
      ),
    );
    expect(checkAppSettings(leaky, catalogue)).toEqual([
      expect.stringMatching(/webPubSubIdentitySettings`\.WebPubSubConnectionString uses an access key/),
    ]);
  });

  it('uses the identity connection string (AuthType=azure.msi with the client id) in identity mode and no key there', async () => {
    const noClient = await brokenCopy('appSettings', (text) =>
      text.replace(`;ClientId=\${identityClientId};Version=1.0;`, ';Version=1.0;'),
    );
    expect(checkAppSettings(noClient, catalogue)).toEqual([
      expect.stringMatching(/AuthType=azure\.msi;ClientId=/),
    ]);
    const leaky = await brokenCopy('appSettings', (text) =>
      text.replace(
        '  SIGNALR_UPSTREAM_AUDIENCE: upstreamAudience\n',
        '  SIGNALR_UPSTREAM_AUDIENCE: upstreamAudience\n  AzureSignalRSecondaryAccessKey: signalR.listKeys().secondaryKey\n',
      ),
    );
    expect(checkAppSettings(leaky, catalogue)).toEqual([
      expect.stringMatching(/signalRIdentitySettings`\.AzureSignalRSecondaryAccessKey uses an access key/),
    ]);
  });

  it('lists the settings the app code must still add to the catalogue, and notices when it has', () => {
    expect(pendingSettingsNowInCatalogue(catalogue)).toEqual([]);
    for (const [name, meaning] of Object.entries(PENDING_APP_SETTINGS))
      expect(meaning.length, name).toBeGreaterThan(20);
    // A pending setting, once catalogued, is reported (shown with a made-up one: the real list is empty now).
    const pending = {
      CHAT_EXAMPLE: 'An example of a setting the infrastructure sets before the code reads it.',
    };
    const added = [...catalogue, { name: 'CHAT_EXAMPLE', required: false, description: 'x' }];
    expect(pendingSettingsNowInCatalogue(added, pending)).toEqual(['CHAT_EXAMPLE']);
  });

  it('documents every host setting it allows', () => {
    for (const [name, why] of Object.entries(HOST_SETTINGS)) expect(why.length, name).toBeGreaterThan(10);
  });

  it('takes the SignalR connection string from listKeys() and outputs no secret anywhere', async () => {
    const files = await Promise.all((Object.keys(MODULES) as (keyof typeof MODULES)[]).map(bicep));
    expect(checkNoSecretOutputs(files)).toEqual([]);
    const leaky = await brokenCopy(
      'signalR',
      (text) => `${text}output key string = signalR.listKeys().primaryKey\n`,
    );
    expect(checkNoSecretOutputs([leaky])).toEqual([expect.stringMatching(/output key exposes a secret/)]);
  });
});

describe('SignalR upstream ↔ the messages function route', () => {
  it('is Serverless with one upstream template to /api/messages?event={event} built from the app name', async () => {
    const expected = await upstreamExpectation();
    expect(expected).toEqual({ route: 'messages', routePrefix: 'api' });
    expect(checkSignalR(await bicep('signalR'), expected)).toEqual([]);
  });

  it('calls a messages function that needs no function key (the template carries no ?code=)', async () => {
    const entry = readRouteEntry(await readFile('src/app/routes.ts', 'utf8'), 'messages');
    expect(entry).toMatchObject({ name: 'messages', route: 'messages', authLevel: 'anonymous' });
  });

  it('fails when the upstream path is not the messages route', async () => {
    const signalR = await brokenCopy('signalR', (text) =>
      text.replace('/api/messages?event={event}', '/api/message?event={event}'),
    );
    expect(checkSignalR(signalR, await upstreamExpectation())).toEqual([
      expect.stringMatching(
        /upstream URL path is \/api\/message but the messages function is served at \/api\/messages/,
      ),
    ]);
  });

  it('fails when the messages route or the host route prefix changes but the template does not', async () => {
    const signalR = await bicep('signalR');
    expect(checkSignalR(signalR, { route: 'upstream', routePrefix: 'api' })).toEqual([
      expect.stringMatching(/served at \/api\/upstream/),
    ]);
    expect(checkSignalR(signalR, { route: 'messages', routePrefix: '' })).toEqual([
      expect.stringMatching(/served at \/messages/),
    ]);
  });

  it('fails without Serverless mode, without the event parameter, or with local auth off', async () => {
    const classic = await brokenCopy('signalR', (text) =>
      text.replace("value: 'Serverless'", "value: 'Default'"),
    );
    expect(checkSignalR(classic, await upstreamExpectation())).toEqual([
      expect.stringMatching(/ServiceMode.*Serverless/),
    ]);
    const noEvent = await brokenCopy('signalR', (text) => text.replace('?event={event}', ''));
    expect(checkSignalR(noEvent, await upstreamExpectation())).toEqual([
      expect.stringMatching(/\?event=\{event\}/),
    ]);
    const keyed = await brokenCopy('signalR', (text) =>
      text.replace('disableLocalAuth: identityAuth', 'disableLocalAuth: false'),
    );
    expect(checkSignalR(keyed, await upstreamExpectation())).toEqual([
      expect.stringMatching(/disableLocalAuth must be `identityAuth`: true in identity mode/),
    ]);
  });

  it("fails when the upstream host is built from the app's name instead of its real host", async () => {
    const named = await brokenCopy('signalR', (text) =>
      text.replace(
        `var functionAppOrigin = 'https://\${functionAppHostName}'`,
        `var functionAppOrigin = 'https://\${functionAppHostName}.azurewebsites.net'`,
      ),
    );
    const problems = checkSignalR(named, await upstreamExpectation());
    expect(problems).toEqual([
      expect.stringMatching(
        /the upstream URL must start with https:\/\/\$\{functionAppHostName\}\/ \(the site's defaultHostName/,
      ),
      expect.stringMatching(
        /cors\.allowedOrigins must include the app's origin https:\/\/\$\{functionAppHostName\}\./,
      ),
    ]);
  });

  it('keeps the SKU a parameter: Standard_S1 by default, Free_F1 allowed', async () => {
    const fixed = await brokenCopy('signalR', (text) =>
      text.replace('    name: sku\n', "    name: 'Standard_S1'\n"),
    );
    expect(checkSignalR(fixed, await upstreamExpectation())).toEqual([
      expect.stringMatching(/sku\.name must be a parameter/),
    ]);
  });
});

describe('Web PubSub event handler ↔ the messages function route', () => {
  it('has one hub named by hubName whose event handler calls /api/messages for every user event and connect, connected, disconnected', async () => {
    expect(checkWebPubSub(await bicep('webPubSub'), await upstreamExpectation())).toEqual([]);
    const main = await bicep('main');
    const module = main.modules.find((m) => m.path === './modules/webpubsub.bicep');
    const app = main.modules.find((m) => m.path === './modules/function-app-settings.bicep');
    // The hub the service gets is the hub the app uses (CHAT_HUB_NAME).
    const params = (m: typeof module) => (m?.body.params ?? {}) as BicepObject;
    expect(sourceOf(params(module).hubName)).toBe('hubName');
    expect(sourceOf(params(app).hubName)).toBe('hubName');
    expect(module?.condition).toBe('(useWebPubSub)');
    expect(main.modules.find((m) => m.path === './modules/signalr.bicep')?.condition).toBe('(!useWebPubSub)');
  });

  it('fails when the handler misses a system event, a user event or the route, or calls without auth', async () => {
    const expected = await upstreamExpectation();
    const noConnect = await brokenCopy('webPubSub', (text) => text.replace("  'connect'\n", ''));
    expect(checkWebPubSub(noConnect, expected)).toEqual([
      expect.stringMatching(/systemEvents must be connect, connected, disconnected/),
    ]);
    const someEvents = await brokenCopy('webPubSub', (text) =>
      text.replace("userEventPattern: '*'", "userEventPattern: 'message'"),
    );
    expect(checkWebPubSub(someEvents, expected)).toEqual([
      expect.stringMatching(/userEventPattern must be '\*'/),
    ]);
    const otherPath = await brokenCopy('webPubSub', (text) =>
      text.replace('/api/messages?event={event}', '/api/webpubsub?event={event}'),
    );
    expect(checkWebPubSub(otherPath, expected)).toEqual([
      expect.stringMatching(
        /path is \/api\/webpubsub but the messages function is served at \/api\/messages/,
      ),
    ]);
    const noAuth = await brokenCopy('webPubSub', (text) =>
      text.replace("auth: identityAuth ? upstreamAuth : { type: 'None' }", "auth: { type: 'None' }"),
    );
    expect(checkWebPubSub(noAuth, expected)).toEqual([expect.stringMatching(/event handler's auth must be/)]);
    const keyed = await brokenCopy('webPubSub', (text) =>
      text.replace('disableLocalAuth: identityAuth', 'disableLocalAuth: false'),
    );
    expect(checkWebPubSub(keyed, expected)).toEqual([
      expect.stringMatching(/disableLocalAuth must be `identityAuth`/),
    ]);
    const otherHub = await brokenCopy('webPubSub', (text) =>
      text.replace('  parent: webPubSub\n  name: hubName\n', "  parent: webPubSub\n  name: 'chat'\n"),
    );
    expect(checkWebPubSub(otherHub, expected)).toEqual([
      expect.stringMatching(/hub's name must be the hubName/),
    ]);
    const fixedSku = await brokenCopy('webPubSub', (text) =>
      text.replace('    name: sku\n', "    name: 'Free_F1'\n"),
    );
    expect(checkWebPubSub(fixedSku, expected)).toEqual([
      expect.stringMatching(/sku\.name must be a parameter/),
    ]);
  });
});

describe('API versions', () => {
  it("declares each realtime resource type at the newest stable version of Microsoft's specs", async () => {
    const files = await Promise.all(
      (['signalR', 'signalRLink', 'webPubSub', 'webPubSubLink', 'roles', 'app', 'appSettings'] as const).map(
        bicep,
      ),
    );
    expect(checkApiVersions(files)).toEqual([]);
    const types = new Set(files.flatMap((f) => f.resources.map((r) => r.type)));
    for (const type of Object.keys(API_VERSIONS)) expect(types.has(type), type).toBe(true);
    const preview = await brokenCopy('webPubSub', (text) =>
      text.replace("webPubSub/hubs@2024-03-01'", "webPubSub/hubs@2025-01-01-preview'"),
    );
    expect(checkApiVersions([preview])).toEqual([
      expect.stringMatching(/webPubSub\/hubs@2025-01-01-preview must be @2024-03-01/),
    ]);
  });
});

describe('reading the route table', () => {
  it('reads a route from the ROUTES object literal, through `satisfies`', () => {
    const source =
      "export const ROUTES = { messages: { name: 'messages', route: 'upstream/{hub}' } } satisfies Record<string, object>;";
    expect(readRoute(source, 'messages')).toBe('upstream/{hub}');
  });

  it('says what it looked for when the entry is missing', () => {
    expect(() => readRoute('export const ROUTES = { home: { route: "home" } };', 'messages')).toThrow(
      /ROUTES\.messages is not an object literal/,
    );
  });
});

describe('resource shapes', () => {
  it('runs the app on Flex Consumption (FC1), Node 22, as a user-assigned identity, tagged for azd', async () => {
    expect(checkFunctionApp(await bicep('app'), await bicep('appSettings'))).toEqual([]);
  });

  it('fails with ftpsState (or another setting Flex rejects) on the site, Node 20, or an instance limit below 40', async () => {
    const ftps = await brokenCopy('app', (text) =>
      text.replace(
        "      minTlsVersion: '1.2'\n",
        "      minTlsVersion: '1.2'\n      ftpsState: 'Disabled'\n",
      ),
    );
    expect(checkFunctionApp(ftps, await bicep('appSettings'))).toEqual([
      expect.stringMatching(/siteConfig\.ftpsState must not be set on Flex Consumption/),
    ]);
    const linuxFx = await brokenCopy('app', (text) =>
      text.replace(
        "      minTlsVersion: '1.2'\n",
        "      minTlsVersion: '1.2'\n      linuxFxVersion: 'Node|22'\n",
      ),
    );
    expect(checkFunctionApp(linuxFx, await bicep('appSettings'))).toEqual([
      expect.stringMatching(/siteConfig\.linuxFxVersion/),
    ]);
    const node20 = await brokenCopy('app', (text) =>
      text.replace("param nodeVersion string = '22'", "param nodeVersion string = '20'"),
    );
    expect(checkFunctionApp(node20, await bicep('appSettings'))).toEqual([
      expect.stringMatching(/Node 22 or later.*"20"/),
    ]);
    const allows20 = await brokenCopy('app', (text) =>
      text.replace("@allowed([\n  '22'\n])", "@allowed([\n  '20'\n  '22'\n])"),
    );
    expect(checkFunctionApp(allows20, await bicep('appSettings'))).toEqual([
      expect.stringMatching(/Node 22 or later/),
    ]);
    const tooFew = await brokenCopy('app', (text) => text.replace('@minValue(40)', '@minValue(1)'));
    expect(checkFunctionApp(tooFew, await bicep('appSettings'))).toEqual([
      expect.stringMatching(/@minValue\(40\)/),
    ]);
  });

  it('fails when the plan is not FC1 or the identity is system-assigned', async () => {
    const consumption = await brokenCopy('app', (text) => text.replace("name: 'FC1'", "name: 'Y1'"));
    expect(checkFunctionApp(consumption, await bicep('appSettings'))).toEqual([expect.stringMatching(/FC1/)]);
    const systemAssigned = await brokenCopy('app', (text) =>
      text.replace("type: 'UserAssigned'", "type: 'SystemAssigned'"),
    );
    expect(checkFunctionApp(systemAssigned, await bicep('appSettings'))).toEqual([
      expect.stringMatching(/identity\.type must be 'UserAssigned'/),
    ]);
  });

  it('keeps storage keyless and private, with the deployment and history containers', async () => {
    expect(checkStorage(await bicep('storage'))).toEqual([]);
    const keyed = await brokenCopy('storage', (text) =>
      text.replace('allowSharedKeyAccess: false', 'allowSharedKeyAccess: true'),
    );
    expect(checkStorage(keyed)).toEqual([expect.stringMatching(/allowSharedKeyAccess must be false/)]);
  });

  it('gives the app identity and the deploying user their roles', async () => {
    expect(checkRoleAssignments(await bicep('roles'))).toEqual([]);
  });

  it('fails when the history role assignment is removed', async () => {
    const roles = await brokenCopy('roles', (text) => {
      const start = text.indexOf('resource appHistoryContributor');
      return text.slice(0, start) + text.slice(text.indexOf('\n}\n', start) + 3);
    });
    expect(checkRoleAssignments(roles)).toEqual([
      expect.stringMatching(
        /appPrincipalId the role storageBlobDataContributor .* on a Microsoft\.Storage\/storageAccounts\/blobServices\/containers/,
      ),
    ]);
  });

  it('fails when the app may not get a user-delegation key (attachments)', async () => {
    const roles = await brokenCopy('roles', (text) => {
      const start = text.indexOf('resource appBlobDelegator');
      return text.slice(0, start) + text.slice(text.indexOf('\n}\n', start) + 3);
    });
    expect(checkRoleAssignments(roles)).toEqual([
      expect.stringMatching(
        /appPrincipalId the role storageBlobDelegator .* on a Microsoft\.Storage\/storageAccounts\./,
      ),
    ]);
  });

  it('declares the user-assigned identity', async () => {
    const identity = await bicep('identity');
    expect(identity.resources.map((r) => r.type)).toEqual([
      'Microsoft.ManagedIdentity/userAssignedIdentities',
    ]);
    expect([...identity.outputs.keys()]).toEqual(expect.arrayContaining(['id', 'clientId', 'principalId']));
  });

  it('sends telemetry to workspace-based Application Insights with local auth off', async () => {
    const monitoring = await bicep('monitoring');
    const insights = monitoring.resources.find((r) => r.type === 'Microsoft.Insights/components');
    expect(insights?.body.properties).toMatchObject({ DisableLocalAuth: true });
    expect(monitoring.resources.map((r) => r.type)).toContain('Microsoft.OperationalInsights/workspaces');
  });

  it('provisions at subscription scope into rg-<env>, with the outputs azd and the user need', async () => {
    const abbreviations = JSON.parse(await readFile('infra/abbreviations.json', 'utf8')) as Record<
      string,
      string
    >;
    expect(checkMain(await bicep('main'), abbreviations)).toEqual([]);
    const named = await brokenCopy('main', (text) =>
      text.replace(
        '    capacity: signalRCapacity\n    hubName: hubName\n    functionAppHostName: app.outputs.defaultHostName\n',
        `    capacity: signalRCapacity\n    hubName: hubName\n    functionAppHostName: '\${functionAppName}.azurewebsites.net'\n`,
      ),
    );
    expect(checkMain(named, abbreviations)).toEqual([
      expect.stringMatching(/module webPubSub must get functionAppHostName: app\.outputs\.defaultHostName/),
    ]);
  });

  it('passes every module exactly the parameters it declares and reads only outputs it has', async () => {
    const main = await bicep('main');
    const modules = new Map<string, BicepFile>();
    for (const module of main.modules) {
      const file = `infra/${module.path.replace(/^\.\//, '')}`;
      modules.set(module.path, await readBicep(await readFile(file, 'utf8'), file));
    }
    expect(main.modules.map((m) => m.path).sort()).toEqual([
      './modules/entra-app.bicep',
      './modules/entra-credential.bicep',
      './modules/function-app-settings.bicep',
      './modules/function-app.bicep',
      './modules/identity.bicep',
      './modules/identity.bicep',
      './modules/monitoring.bicep',
      './modules/network.bicep',
      './modules/private-endpoint.bicep',
      './modules/private-endpoint.bicep',
      './modules/roles.bicep',
      './modules/signalr-upstream-link.bicep',
      './modules/signalr.bicep',
      './modules/storage-cors.bicep',
      './modules/storage.bicep',
      './modules/webpubsub-upstream-link.bicep',
      './modules/webpubsub.bicep',
    ]);
    expect(checkModuleParameters(main, modules)).toEqual([]);
    expect(checkModuleOutputs(await source('main'), main, modules)).toEqual([]);
    expect(checkModuleOutputs('var x = storage.outputs.blobUrl', main, modules)).toEqual([
      expect.stringMatching(
        /storage\.outputs\.blobUrl reads an output that .*storage\.bicep does not declare/,
      ),
    ]);

    const renamed = await brokenCopy('main', (text) =>
      text.replace(
        '    webPubSubName: webPubSubName\n    hubName: hubName\n',
        '    webPubSubName: webPubSubName\n    hub: hubName\n',
      ),
    );
    expect(checkModuleParameters(renamed, modules)).toEqual([
      expect.stringMatching(
        /module appSettings passes hub, which .*function-app-settings\.bicep does not declare/,
      ),
    ]);
    const missing = await brokenCopy('main', (text) =>
      text.replace('    webPubSubName: webPubSubName\n    hubName: hubName\n', '    hubName: hubName\n'),
    );
    expect(checkModuleParameters(missing, modules)).toEqual([
      expect.stringMatching(
        /module appSettings does not pass webPubSubName, which .*function-app-settings\.bicep requires/,
      ),
    ]);
  });

  it('reads azd parameters from the environment', async () => {
    const parameters = JSON.parse(await readFile('infra/main.parameters.json', 'utf8')) as {
      parameters: Record<string, { value: string }>;
    };
    expect(parameters.parameters).toMatchObject({
      environmentName: { value: `\${AZURE_ENV_NAME}` },
      location: { value: `\${AZURE_LOCATION}` },
      principalId: { value: `\${AZURE_PRINCIPAL_ID}` },
      principalType: { value: `\${AZURE_PRINCIPAL_TYPE=User}` },
    });
    const main = await bicep('main');
    for (const name of Object.keys(parameters.parameters)) expect(main.params.has(name), name).toBe(true);
  });
});

describe('keyless by default (signalrAuth: identity)', () => {
  it('reads no access key outside the key-mode settings', async () => {
    const app = await bicep('appSettings');
    const sources = new Map(
      await Promise.all(
        (Object.keys(MODULES) as (keyof typeof MODULES)[]).map(
          async (m) => [MODULES[m], await source(m)] as const,
        ),
      ),
    );
    expect(checkListKeysConfined(sources, app)).toEqual([]);
    const main = await source('main');
    sources.set(
      MODULES.main,
      `${main}\noutput leak string = 'x\${listKeys(signalR.outputs.name, '2024-03-01').primaryKey}'\n`,
    );
    expect(checkListKeysConfined(sources, app)).toEqual([
      expect.stringMatching(/^infra\/main\.bicep:\d+: listKeys\(\) outside/),
    ]);
  });

  it('gives the app identity the Service Owner role of the deployed service, only in identity mode', async () => {
    const roles = await bicep('roles');
    const owner = roles.resources.find((r) => r.symbol === 'appSignalRServiceOwner');
    expect(owner?.condition).toBe("(signalRAuth == 'identity' && realtimeService == 'signalr')");
    const wpsOwner = roles.resources.find((r) => r.symbol === 'appWebPubSubServiceOwner');
    expect(wpsOwner?.condition).toBe("(signalRAuth == 'identity' && realtimeService == 'webpubsub')");
    const noWps = await brokenCopy('roles', (text) =>
      text.replace(
        'roleIds.webPubSubServiceOwner)\n    principalId',
        'roleIds.signalRServiceOwner)\n    principalId',
      ),
    );
    expect(checkRoleAssignments(noWps)).toEqual([
      expect.stringMatching(
        /appPrincipalId the role webPubSubServiceOwner .* on a Microsoft\.SignalRService\/webPubSub/,
      ),
    ]);
    const without = await brokenCopy('roles', (text) =>
      text.replace(
        'roleIds.signalRServiceOwner)\n    principalId: appPrincipalId',
        'roleIds.storageBlobDataOwner)\n    principalId: appPrincipalId',
      ),
    );
    expect(checkRoleAssignments(without)).toEqual([
      expect.stringMatching(
        /appPrincipalId the role signalRServiceOwner .* on a Microsoft\.SignalRService\/signalR/,
      ),
    ]);
  });

  it('signs upstream calls for the audience the app validates, as the caller the app expects', async () => {
    const [main, signalR, app, webPubSub] = await Promise.all([
      bicep('main'),
      bicep('signalR'),
      bicep('appSettings'),
      bicep('webPubSub'),
    ]);
    expect(checkUpstreamAudienceWiring(main, signalR, app, webPubSub)).toEqual([]);
    const elsewhere = await brokenCopy('main', (text) =>
      text.replace(
        '    upstreamAudience: realtimeUpstreamAudience\n',
        '    upstreamAudience: entraClientId\n',
      ),
    );
    expect(checkUpstreamAudienceWiring(elsewhere, signalR, app, webPubSub)).toEqual([
      expect.stringMatching(
        /upstreamAudience must be a variable `useWebPubSub\?\(webPubSub\.\?outputs\.upstreamAudience\?\?''\):\(signalR\.\?outputs/,
      ),
    ]);
    const onlySignalR = await brokenCopy('main', (text) =>
      text.replace(
        "var realtimeUpstreamAudience = useWebPubSub ? (webPubSub.?outputs.upstreamAudience ?? '') :",
        "var realtimeUpstreamAudience = useWebPubSub ? (signalR.?outputs.upstreamAudience ?? '') :",
      ),
    );
    expect(checkUpstreamAudienceWiring(onlySignalR, signalR, app, webPubSub)).toEqual([
      expect.stringMatching(/the audience the deployed realtime service requests/),
    ]);
    const ownIdentity = await brokenCopy('main', (text) =>
      text.replace(
        '    auth: signalRAuth\n    identityId: signalRIdentity.outputs.id\n    upstreamAudience: appClientId\n  }\n}\n\n// What the rest',
        '    auth: signalRAuth\n    identityId: identity.outputs.id\n    upstreamAudience: appClientId\n  }\n}\n\n// What the rest',
      ),
    );
    expect(checkUpstreamAudienceWiring(ownIdentity, signalR, app, webPubSub)).toEqual([
      expect.stringMatching(/module webPubSub must run as the same identity as SignalR/),
    ]);
    const wrongCaller = await brokenCopy('main', (text) =>
      text.replace(
        '    signalRIdentityPrincipalId: signalRIdentity.outputs.principalId\n    upstreamAudience',
        '    signalRIdentityPrincipalId: identity.outputs.principalId\n    upstreamAudience',
      ),
    );
    expect(checkUpstreamAudienceWiring(wrongCaller, signalR, app, webPubSub)).toEqual([
      expect.stringMatching(/must be the principal id of the identity SignalR runs as/),
    ]);
    const noAuth = await brokenCopy('signalR', (text) =>
      text.replace("auth: identityAuth ? upstreamAuth : { type: 'None' }", "auth: { type: 'None' }"),
    );
    expect(checkSignalR(noAuth, await upstreamExpectation())).toEqual([
      expect.stringMatching(/upstream template's auth must be/),
    ]);
    const otherResource = await brokenCopy('signalR', (text) =>
      text.replace('    resource: upstreamAudience\n', "    resource: 'https://management.azure.com/'\n"),
    );
    expect(checkSignalR(otherResource, await upstreamExpectation())).toEqual([
      expect.stringMatching(/var upstreamAuth` must be/),
    ]);
  });
});

describe('sign-in (chatAuth: entra) with App Service Authentication', () => {
  async function easyAuthExpectation() {
    const { route, routePrefix } = await upstreamExpectation();
    return { upstreamPath: `/${[routePrefix, route].filter((s) => s !== '').join('/')}` };
  }

  it('configures authsettingsV2 in entra mode, redirecting to sign-in, with the upstream route excluded', async () => {
    expect(await easyAuthExpectation()).toEqual({ upstreamPath: '/api/messages' });
    expect(checkEasyAuth(await bicep('appSettings'), await easyAuthExpectation())).toEqual([]);
  });

  it('fails when the excluded path and the route table drift, or when more is opened', async () => {
    const app = await bicep('appSettings');
    expect(checkEasyAuth(app, { upstreamPath: '/api/upstream' })).toEqual([
      expect.stringMatching(/excludedPaths must contain the upstream path \/api\/upstream/),
      expect.stringMatching(/excludedPaths opens .*\/api\/messages/),
    ]);
    const wide = await brokenCopy('appSettings', (text) =>
      text.replace("  '/api/messages'\n]", "  '/api/messages'\n  '/api/home'\n]"),
    );
    expect(checkEasyAuth(wide, await easyAuthExpectation())).toEqual([
      expect.stringMatching(/opens "\/api\/home"/),
    ]);
    const open = await brokenCopy('appSettings', (text) =>
      text.replace(
        "unauthenticatedClientAction: 'RedirectToLoginPage'",
        "unauthenticatedClientAction: 'AllowAnonymous'",
      ),
    );
    expect(checkEasyAuth(open, await easyAuthExpectation())).toEqual([
      expect.stringMatching(/RedirectToLoginPage/),
    ]);
    const fragmentLost = await brokenCopy('appSettings', (text) =>
      text.replace('preserveUrlFragmentsForLogins: true', 'preserveUrlFragmentsForLogins: false'),
    );
    expect(checkEasyAuth(fragmentLost, await easyAuthExpectation())).toEqual([
      expect.stringMatching(/preserveUrlFragmentsForLogins must be true/),
    ]);
  });

  it('uses the managed identity, not a secret, and no file holds a client secret', async () => {
    const sources = new Map(
      await Promise.all(
        (Object.keys(MODULES) as (keyof typeof MODULES)[]).map(
          async (m) => [MODULES[m], await source(m)] as const,
        ),
      ),
    );
    expect(checkNoClientSecret(sources)).toEqual([]);
    sources.set(
      MODULES.entraApp,
      (await source('entraApp')).replace(
        "  signInAudience: 'AzureADMyOrg'\n",
        "  signInAudience: 'AzureADMyOrg'\n  passwordCredentials: [\n    {\n      displayName: 'easy-auth'\n    }\n  ]\n",
      ),
    );
    expect(checkNoClientSecret(sources)).toEqual([
      expect.stringMatching(/^infra\/modules\/entra-app\.bicep:\d+: a client secret/),
    ]);
    const secretSetting = await brokenCopy('appSettings', (text) =>
      text.replace(
        "clientSecretSettingName: 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'",
        "clientSecretSettingName: 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET'",
      ),
    );
    expect(checkEasyAuth(secretSetting, await easyAuthExpectation())).toEqual([
      expect.stringMatching(/clientSecretSettingName must be 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'/),
    ]);
  });

  it('creates the registration with the Microsoft Graph extension declared in bicepconfig.json', async () => {
    const config = JSON.parse(await readFile('infra/bicepconfig.json', 'utf8')) as unknown;
    const registration = await bicep('entraApp');
    const line = (await source('entraApp')).split('\n').indexOf('extension microsoftGraphV1') + 1;
    expect(line).toBeGreaterThan(0);
    expect(registration.extensions).toEqual([{ reference: 'microsoftGraphV1', line }]);
    expect(checkGraphRegistration(config, registration)).toEqual([]);
    expect(
      checkGraphRegistration(
        {
          extensions: {
            microsoftGraphV1: 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:latest',
          },
        },
        registration,
      ),
    ).toEqual([expect.stringMatching(/extensions\.microsoftGraphV1 must be/)]);
    const noExtension = await brokenCopy('entraApp', (text) =>
      text.replace('extension microsoftGraphV1\n', '\n'),
    );
    expect(checkGraphRegistration(config, noExtension)).toEqual([
      expect.stringMatching(/declare `extension microsoftGraphV1`/),
    ]);
    const otherSubject = await brokenCopy('entraApp', (text) =>
      text.replace(
        '    subject: appIdentityPrincipalId\n',
        "    subject: 'repo:contoso/chat:ref:refs/heads/main'\n",
      ),
    );
    expect(checkGraphRegistration(config, otherSubject)).toEqual([
      expect.stringMatching(/subject must be the app identity's principal id/),
    ]);
  });
});

describe('the pipeline can set every parameter', () => {
  async function files() {
    return {
      parameters: await readFile('infra/main.parameters.json', 'utf8'),
      azureYaml: await readFile('azure.yaml', 'utf8'),
      workflow: await readFile('.github/workflows/azure-dev.yml', 'utf8'),
    };
  }

  it('passes each main.parameters.json variable from a repository variable azd pipeline config creates', async () => {
    const { parameters, azureYaml, workflow } = await files();
    expect(checkPipelineReachesParameters(parameters, azureYaml, workflow)).toEqual([]);
  });

  it('fails on a parameter the pipeline cannot set (the SignalR tier reset on every push)', async () => {
    const { parameters, azureYaml, workflow } = await files();
    const notPassed = workflow.replace(/^ {6}SIGNALR_SKU: .*\n/m, '');
    expect(notPassed).not.toBe(workflow);
    expect(checkPipelineReachesParameters(parameters, azureYaml, notPassed)).toEqual([
      expect.stringMatching(/signalRSku reads \$\{SIGNALR_SKU\}, which the deploy job's env does not set/),
    ]);
    const notListed = azureYaml.replace(/^ {4}- SIGNALR_SKU\n/m, '');
    expect(notListed).not.toBe(azureYaml);
    expect(checkPipelineReachesParameters(parameters, notListed, workflow)).toEqual([
      expect.stringMatching(/list SIGNALR_SKU under pipeline\.variables/),
    ]);
    const added = parameters.replace(
      '"parameters": {',
      `"parameters": {\n    "hubName": { "value": "\${CHAT_HUB}" },`,
    );
    expect(checkPipelineReachesParameters(added, azureYaml, workflow)).toEqual([
      expect.stringMatching(/hubName reads \$\{CHAT_HUB\}/),
    ]);
  });
});
