/**
 * Secure unique default hostnames: no URL of the app is built from its name; the upstream URL, SignalR's CORS origin
 * and the sign-in redirect use the site's defaultHostName output, in every mode (evaluated offline, bicep-eval.ts).
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { at, type DeployedResource, deployment, type Evaluated } from './bicep-eval.js';
import { type BicepFile, listBicepFiles, readBicep, sourceOf } from './bicep-model.js';
import { checkNoDefaultDomain, checkNoNameBuiltUrls } from './hostnames.js';

const BASE = { environmentName: 'dev', location: 'swedencentral', principalId: '' };
const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
/** The site's real host as the evaluator shows main.bicep's reference to it. */
const HOST = '⟨app.outputs.defaultHostName⟩';

type Edit = { readonly file: string; readonly from: string; readonly to: string };

async function deploy(params: Record<string, Evaluated>, edit?: Edit) {
  const read = async (file: string): Promise<BicepFile> => {
    const text = await readFile(file, 'utf8');
    if (edit?.file !== file) return readBicep(text, file);
    const changed = text.replace(edit.from, edit.to);
    expect(changed, 'the test edit must change the file').not.toBe(text);
    return readBicep(changed, `${file} (broken copy)`);
  };
  const main = await read('infra/main.bicep');
  const modules = new Map<string, BicepFile>();
  for (const module of main.modules) modules.set(module.path, await read(`infra/${module.path.slice(2)}`));
  const result = deployment(main, modules, { ...BASE, ...params });
  const outputs: Record<string, Evaluated> = {};
  for (const [name, value] of main.outputs) outputs[name] = result.scope.value(value);
  const appName = result.scope.lookup('functionAppName');
  return { ...result, outputs, appName: String(appName) };
}

const MODES: Readonly<Record<string, Record<string, Evaluated>>> = {
  default: {},
  'network isolation': { networkIsolation: true },
  'Web PubSub': { realtimeService: 'webpubsub' },
  'Web PubSub, isolated': { realtimeService: 'webpubsub', networkIsolation: true },
  'key mode, no sign-in': { signalRAuth: 'key', chatAuth: 'none' },
  'an existing client id': { entraClientId: CLIENT_ID },
};

const ofType = (resources: readonly DeployedResource[], type: string) =>
  resources.find((r) => r.resource.type === type);

describe('secure unique default hostnames', () => {
  it('writes no host built from the app name, and no azurewebsites.net host, in any mode', async () => {
    for (const [mode, params] of Object.entries(MODES)) {
      const { resources, outputs, appName } = await deploy(params);
      expect(appName, mode).toMatch(/^func-api-/);
      expect(checkNoNameBuiltUrls(resources, outputs, appName), mode).toEqual([]);
    }
    const sources = new Map<string, string>();
    for (const file of await listBicepFiles('infra')) sources.set(file, await readFile(file, 'utf8'));
    expect(sources.size).toBeGreaterThan(10);
    expect(checkNoDefaultDomain(sources)).toEqual([]);
  });

  it("points SignalR's upstream and CORS, Web PubSub's event handler and the sign-in redirect at the site's defaultHostName", async () => {
    const signalR = await deploy({});
    const service = ofType(signalR.resources, 'Microsoft.SignalRService/signalR');
    expect(at(service?.body, 'properties', 'upstream', 'templates', 0, 'urlTemplate')).toBe(
      `https://${HOST}/api/messages?event={event}`,
    );
    expect(at(service?.body, 'properties', 'cors', 'allowedOrigins')).toEqual([`https://${HOST}`]);
    const registration = ofType(signalR.resources, 'Microsoft.Graph/applications');
    expect(at(registration?.body, 'web', 'redirectUris')).toEqual([
      `https://${HOST}/.auth/login/aad/callback`,
    ]);
    expect(signalR.outputs.ENTRA_REDIRECT_URI).toBe(`https://${HOST}/.auth/login/aad/callback`);
    expect(signalR.outputs.CHAT_URL).toBe(`https://${HOST}/api/home`);

    const webPubSub = await deploy({ realtimeService: 'webpubsub' });
    const hub = ofType(webPubSub.resources, 'Microsoft.SignalRService/webPubSub/hubs');
    expect(at(hub?.body, 'properties', 'eventHandlers', 0, 'urlTemplate')).toBe(
      `https://${HOST}/api/messages?event={event}`,
    );
    expect(webPubSub.outputs.REALTIME_UPSTREAM_URL_TEMPLATE).toBe(
      `https://${HOST}/api/messages?event={event}`,
    );

    // `app` is the site module, and its defaultHostName output is the site's own property.
    const site = signalR.modules.find((m) => m.symbol === 'app');
    expect(site?.path).toBe('./modules/function-app.bicep');
    const siteFile = await readBicep(
      await readFile('infra/modules/function-app.bicep', 'utf8'),
      'infra/modules/function-app.bicep',
    );
    expect(sourceOf(siteFile.outputs.get('defaultHostName'))).toBe('functionApp.properties.defaultHostName');
    expect(siteFile.resources.find((r) => r.symbol === 'functionApp')?.type).toBe('Microsoft.Web/sites');
  });

  it('has no dependency cycle: the site needs neither the realtime service, the registration nor the roles', async () => {
    const { modules } = await deploy({});
    const site = modules.find((m) => m.symbol === 'app');
    const reads = JSON.stringify(site?.body);
    for (const later of ['signalR', 'webPubSub', 'entraApp', 'roles', 'appSettings']) {
      expect(reads, later).not.toMatch(new RegExp(`\\b${later}\\b`));
    }
    const settings = modules.find((m) => m.symbol === 'appSettings');
    expect(sourceOf(settings?.body.dependsOn)).toMatch(/signalR[\s\S]*webPubSub/);
  });

  it('fails on an upstream URL or a redirect built from the app name', async () => {
    const upstream = await deploy(
      {},
      {
        file: 'infra/modules/signalr.bicep',
        from: `var functionAppOrigin = 'https://\${functionAppHostName}'`,
        to: `var functionAppOrigin = 'https://\${functionAppHostName}.azurewebsites.net'`,
      },
    );
    expect(checkNoNameBuiltUrls(upstream.resources, upstream.outputs, upstream.appName)).toEqual([
      expect.stringMatching(
        /upstream\.templates\[0\]\.urlTemplate: https:\/\/⟨app\.outputs\.defaultHostName⟩\.azurewebsites\.net/,
      ),
      expect.stringMatching(/cors\.allowedOrigins\[0\]/),
      expect.stringMatching(/^output REALTIME_UPSTREAM_URL_TEMPLATE: /),
    ]);
    const redirect = await deploy(
      {},
      {
        file: 'infra/main.bicep',
        from: '    functionAppHostName: app.outputs.defaultHostName\n    appIdentityPrincipalId',
        to: `    functionAppHostName: '\${functionAppName}.azurewebsites.net'\n    appIdentityPrincipalId`,
      },
    );
    expect(checkNoNameBuiltUrls(redirect.resources, redirect.outputs, redirect.appName)).toEqual([
      expect.stringMatching(
        /Microsoft\.Graph\/applications\)\.web\.redirectUris\[0\]: https:\/\/func-api-.*\.azurewebsites\.net\/\.auth/,
      ),
    ]);
    expect(
      checkNoDefaultDomain(
        new Map([
          ['x.bicep', "// a comment on x.azurewebsites.net\nvar u = 'https://a.azurewebsites.net'\n"],
        ]),
      ),
    ).toEqual([
      "x.bicep:2: a host under azurewebsites.net written into the template; take the site's defaultHostName.",
    ]);
  });
});
