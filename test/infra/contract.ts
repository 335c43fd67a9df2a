/**
 * The contract between the code and `infra/`: the app settings the code reads (src/lib/settings.ts) are the
 * ones Bicep sets, the SignalR upstream and the Web PubSub event handler point at the messages function's route, and
 * the resources have the shapes (and API versions) the deployment relies on. Each check returns a list of problems (empty = fine), each saying what to
 * fix, so tests can show a check failing on a broken copy as well as passing on the real files.
 */
import type { SettingSpec } from '../../src/lib/settings.js';
import {
  BicepExpression,
  type BicepFile,
  type BicepObject,
  type BicepResource,
  type BicepValue,
  isObject,
  resolve,
  sourceOf,
} from './bicep-model.js';

/**
 * Settings the Functions host reads (not the app code), each with why it is set. A setting in the Bicep
 * `hostSettings` object that is not listed here is reported, so nothing is set without a documented reason.
 */
export const HOST_SETTINGS: Readonly<Record<string, string>> = {
  AzureWebJobsStorage__credential:
    'The host reaches its storage with a managed identity, not an account key.',
  AzureWebJobsStorage__clientId: 'Which user-assigned identity the host uses for its storage.',
  AzureWebJobsStorage__blobServiceUri: 'Host storage, blob endpoint (locks, keys, deployment).',
  APPLICATIONINSIGHTS_CONNECTION_STRING:
    "Where the host, and the app's OpenTelemetry exporter, send telemetry.",
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING:
    "Telemetry is sent with the identity (App Insights local auth is off), by the host and the app's exporter.",
  OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID:
    'App Service Authentication uses this managed identity as its client credential instead of a secret (entra mode).',
};

/**
 * Settings the Bicep sets for app code that src/lib/settings.ts does not list yet, each with what the code
 * must do with it. checkAppSettings accepts them only while the catalogue lacks them; once the catalogue has
 * one, {@link pendingSettingsNowInCatalogue} reports it so this list shrinks to nothing.
 */
export const PENDING_APP_SETTINGS: Readonly<Record<string, string>> = {};

/** Entries of {@link PENDING_APP_SETTINGS} the catalogue now lists: remove them from the pending list. */
export function pendingSettingsNowInCatalogue(
  catalogue: readonly SettingSpec[],
  pending: Readonly<Record<string, string>> = PENDING_APP_SETTINGS,
): string[] {
  return catalogue.map((spec) => spec.name).filter((name) => name in pending);
}

/**
 * `siteConfig` properties Flex Consumption rejects or ignores: no FTP (ftpsState), the runtime and its
 * version come from functionAppConfig.runtime, scale from functionAppConfig.scaleAndConcurrency.
 */
export const FLEX_CONSUMPTION_FORBIDDEN_SITE_CONFIG: readonly string[] = [
  'ftpsState',
  'linuxFxVersion',
  'windowsFxVersion',
  'nodeVersion',
  'alwaysOn',
  'use32BitWorkerProcess',
  'javaVersion',
  'netFrameworkVersion',
  'powerShellVersion',
  'pythonVersion',
  'functionAppScaleLimit',
  'minimumElasticInstanceCount',
  'preWarmedInstanceCount',
];

/** The oldest Node.js major the Flex Consumption runtime catalogue offers (Node 20: end of life 2026-04-30). */
export const FLEX_MIN_NODE_MAJOR = 22;

/** Settings Flex Consumption rejects or ignores: the runtime comes from `functionAppConfig`. */
export const FLEX_CONSUMPTION_FORBIDDEN_SETTINGS: readonly string[] = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_CONTENTSHARE',
  'AzureWebJobsStorage',
];

/** Built-in Azure role definition ids (the same in every tenant). */
export const ROLE_IDS = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  storageBlobDelegator: 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
  signalRServiceOwner: '7e4f1700-ea5a-4f59-8f37-079cfe29dce3',
  webPubSubServiceOwner: '12cf5a90-567b-43ae-8102-96cf46c7d9b4',
} as const;

/** Names of the Bicep variables in the app module that hold the app settings. */
export const APP_SETTINGS_VARIABLE = 'appSettings';
export const HOST_SETTINGS_VARIABLE = 'hostSettings';
/** Per realtime service and auth mode: exactly one of the four is applied. */
export const SIGNALR_IDENTITY_SETTINGS_VARIABLE = 'signalRIdentitySettings';
export const SIGNALR_KEY_SETTINGS_VARIABLE = 'signalRKeySettings';
export const WEBPUBSUB_IDENTITY_SETTINGS_VARIABLE = 'webPubSubIdentitySettings';
export const WEBPUBSUB_KEY_SETTINGS_VARIABLE = 'webPubSubKeySettings';
/** The settings objects that may hold an access key (key mode of each service). */
const KEY_SETTINGS_VARIABLES: readonly string[] = [
  SIGNALR_KEY_SETTINGS_VARIABLE,
  WEBPUBSUB_KEY_SETTINGS_VARIABLE,
];
/** Settings App Service Authentication reads in entra mode. */
export const EASY_AUTH_SETTINGS_VARIABLE = 'easyAuthSettings';
/** What the site's `appsettings` must be, and what its two mode-dependent parts must be. */
export const APPLIED_SETTINGS = 'union(hostSettings,appSettings,realtimeSettings,authSettingsForMode)';
export const MODE_SETTINGS: Readonly<Record<string, string>> = {
  signalRSettings: "signalRAuth=='identity'?signalRIdentitySettings:signalRKeySettings",
  webPubSubSettings: "signalRAuth=='identity'?webPubSubIdentitySettings:webPubSubKeySettings",
  realtimeSettings: "realtimeService=='webpubsub'?webPubSubSettings:signalRSettings",
  authSettingsForMode: "chatAuth=='entra'?easyAuthSettings:{}",
};

/**
 * Required settings of the catalogue that belong to one realtime service only: the app reads them only when that
 * service is REALTIME_SERVICE, so the other service's settings objects need not set them.
 */
export const SERVICE_ONLY_SETTINGS: Readonly<Record<string, 'signalr' | 'webpubsub'>> = {
  AzureSignalRConnectionString: 'signalr',
};

function objectVariable(file: BicepFile, name: string, problems: string[]): BicepObject | undefined {
  const value = file.variables.get(name);
  if (isObject(value)) return value;
  problems.push(
    `${file.file}: declare \`var ${name} = { ... }\` as one object literal (the contract test reads it).`,
  );
  return undefined;
}

function resourcesOfType(file: BicepFile, type: string): BicepResource[] {
  return file.resources.filter((resource) => resource.type.toLowerCase() === type.toLowerCase());
}

function path(value: BicepValue | undefined, ...keys: string[]): BicepValue | undefined {
  let current = value;
  for (const key of keys) current = isObject(current) ? current[key] : undefined;
  return current;
}

/** An app setting value Azure needs (its Bicep source, whitespace aside), and why. */
export interface AzureSettingValue {
  readonly value: string;
  readonly why: string;
}

/** Values Azure needs where the catalogue's default suits only the local stack. */
export const AZURE_SETTING_VALUES: Readonly<Record<string, AzureSettingValue>> = {
  CHAT_DIALECTS: {
    value: "realtimeService == 'webpubsub' ? 'websocket' : 'signalr'",
    why: 'a deployment has one service: Azure SignalR carries only the signalr dialect, Azure Web PubSub only the raw-WebSocket chat (the websocket dialect)',
  },
  REALTIME_SERVICE: {
    value: 'realtimeService',
    why: 'the app must talk to the service the template deployed',
  },
};

/**
 * Checks the app module's settings against the catalogue: every `required` setting is set in `appSettings`
 * or in both SignalR mode objects, every app-code setting name is in the catalogue (or pending, see
 * {@link PENDING_APP_SETTINGS}), the {@link AZURE_SETTING_VALUES} are set to their Azure value, every
 * platform setting is documented in {@link HOST_SETTINGS}, none is one Flex Consumption forbids, the site
 * applies all of them by mode, identity mode's connection string is the managed-identity form and key
 * mode's comes from listKeys().
 */
export function checkAppSettings(
  app: BicepFile,
  catalogue: readonly SettingSpec[],
  azureValues: Readonly<Record<string, AzureSettingValue>> = AZURE_SETTING_VALUES,
): string[] {
  const problems: string[] = [];
  const appSettings = objectVariable(app, APP_SETTINGS_VARIABLE, problems);
  const hostSettings = objectVariable(app, HOST_SETTINGS_VARIABLE, problems);
  const identitySettings = objectVariable(app, SIGNALR_IDENTITY_SETTINGS_VARIABLE, problems);
  const keySettings = objectVariable(app, SIGNALR_KEY_SETTINGS_VARIABLE, problems);
  const wpsIdentitySettings = objectVariable(app, WEBPUBSUB_IDENTITY_SETTINGS_VARIABLE, problems);
  const wpsKeySettings = objectVariable(app, WEBPUBSUB_KEY_SETTINGS_VARIABLE, problems);
  const easyAuthSettings = objectVariable(app, EASY_AUTH_SETTINGS_VARIABLE, problems);
  if (
    !appSettings ||
    !hostSettings ||
    !identitySettings ||
    !keySettings ||
    !wpsIdentitySettings ||
    !wpsKeySettings ||
    !easyAuthSettings
  )
    return problems;

  const known = new Map(catalogue.map((spec) => [spec.name, spec]));
  const services: [string, string, BicepObject, string, BicepObject][] = [
    [
      'signalr',
      SIGNALR_IDENTITY_SETTINGS_VARIABLE,
      identitySettings,
      SIGNALR_KEY_SETTINGS_VARIABLE,
      keySettings,
    ],
    [
      'webpubsub',
      WEBPUBSUB_IDENTITY_SETTINGS_VARIABLE,
      wpsIdentitySettings,
      WEBPUBSUB_KEY_SETTINGS_VARIABLE,
      wpsKeySettings,
    ],
  ];
  for (const spec of catalogue) {
    if (!spec.required) continue;
    for (const [service, identityName, identity, keyName, key] of services) {
      const only = SERVICE_ONLY_SETTINGS[spec.name];
      if (only !== undefined && only !== service) continue;
      const inBothModes = identity[spec.name] !== undefined && key[spec.name] !== undefined;
      if (appSettings[spec.name] === undefined && !inBothModes) {
        problems.push(
          `${app.file}: the code requires the app setting ${spec.name} (src/lib/settings.ts) but neither \`${APP_SETTINGS_VARIABLE}\` nor both of \`${identityName}\` and \`${keyName}\` set it: ${spec.description}`,
        );
      } else if (
        [appSettings, identity, key].some(
          (settings) => settings[spec.name] === '' || settings[spec.name] === null,
        )
      ) {
        problems.push(`${app.file}: the required app setting ${spec.name} is set to an empty value.`);
      }
    }
  }
  const codeSettings: [string, BicepObject][] = [
    [APP_SETTINGS_VARIABLE, appSettings],
    [SIGNALR_IDENTITY_SETTINGS_VARIABLE, identitySettings],
    [SIGNALR_KEY_SETTINGS_VARIABLE, keySettings],
    [WEBPUBSUB_IDENTITY_SETTINGS_VARIABLE, wpsIdentitySettings],
    [WEBPUBSUB_KEY_SETTINGS_VARIABLE, wpsKeySettings],
  ];
  for (const [variable, settings] of codeSettings) {
    for (const name of Object.keys(settings)) {
      if (!known.has(name) && !(name in PENDING_APP_SETTINGS)) {
        problems.push(
          `${app.file}: \`${variable}\` sets ${name}, which the code never reads: add it to src/lib/settings.ts or remove it.`,
        );
      }
    }
  }
  const normalized = (text: string) => text.replace(/\s+/g, '');
  for (const [name, { value, why }] of Object.entries(azureValues)) {
    const found = appSettings[name];
    const source = typeof found === 'string' ? `'${found}'` : sourceOf(found);
    if ((known.has(name) || name in PENDING_APP_SETTINGS) && normalized(source) !== normalized(value)) {
      problems.push(
        `${app.file}: set ${name} to \`${value}\` in \`${APP_SETTINGS_VARIABLE}\` (found ${sourceOf(found)}): ${why}.`,
      );
    }
  }
  const platformSettings: [string, BicepObject][] = [
    [HOST_SETTINGS_VARIABLE, hostSettings],
    [EASY_AUTH_SETTINGS_VARIABLE, easyAuthSettings],
  ];
  for (const [variable, settings] of platformSettings) {
    for (const name of Object.keys(settings)) {
      if (!(name in HOST_SETTINGS)) {
        problems.push(
          `${app.file}: \`${variable}\` sets ${name}, which is not a documented host setting (HOST_SETTINGS in test/infra/contract.ts); app settings belong in \`${APP_SETTINGS_VARIABLE}\`.`,
        );
      }
    }
  }
  for (const settings of [...codeSettings, ...platformSettings].map(([, object]) => object)) {
    for (const name of Object.keys(settings)) {
      if (FLEX_CONSUMPTION_FORBIDDEN_SETTINGS.includes(name)) {
        problems.push(
          `${app.file}: ${name} must not be set on Flex Consumption (runtime and storage come from functionAppConfig and identity settings).`,
        );
      }
    }
  }

  const applied = resourcesOfType(app, 'Microsoft.Web/sites/config').find(
    (r) => r.body.name === 'appsettings',
  );
  const appliedSource = sourceOf(applied?.body.properties).replace(/\s+/g, '');
  if (!applied) {
    problems.push(
      `${app.file}: no \`config\` resource named 'appsettings' on the site: the settings are never applied.`,
    );
  } else if (appliedSource !== APPLIED_SETTINGS) {
    problems.push(
      `${app.file}: the site's appsettings must be \`${APPLIED_SETTINGS}\`, found \`${sourceOf(applied.body.properties)}\`.`,
    );
  }
  for (const [variable, expected] of Object.entries(MODE_SETTINGS)) {
    const found = sourceOf(app.variables.get(variable)).replace(/\s+/g, '');
    if (found !== expected) {
      problems.push(`${app.file}: \`var ${variable}\` must be \`${expected}\`, found \`${found}\`.`);
    }
  }

  const keyConnection = keySettings.AzureSignalRConnectionString;
  if (keyConnection !== undefined && !sourceOf(keyConnection).includes('listKeys()')) {
    problems.push(
      `${app.file}: key mode's AzureSignalRConnectionString must come from the SignalR resource's listKeys() (found \`${sourceOf(keyConnection)}\`).`,
    );
  }
  const wpsConnection = sourceOf(wpsKeySettings.WebPubSubConnectionString);
  if (wpsConnection !== 'webPubSub.listKeys().primaryConnectionString') {
    problems.push(
      `${app.file}: key mode's WebPubSubConnectionString must be webPubSub.listKeys().primaryConnectionString (found \`${wpsConnection}\`).`,
    );
  }
  const wpsEndpoint = sourceOf(wpsIdentitySettings.WEBPUBSUB_ENDPOINT);
  if (wpsEndpoint !== `'https://\${webPubSub.properties.hostName}'`) {
    problems.push(
      `${app.file}: identity mode's WEBPUBSUB_ENDPOINT must be 'https://\${webPubSub.properties.hostName}' (found \`${wpsEndpoint}\`).`,
    );
  }
  for (const name of UPSTREAM_TOKEN_SETTINGS) {
    if (sourceOf(wpsIdentitySettings[name]) !== sourceOf(identitySettings[name])) {
      problems.push(
        `${app.file}: \`${WEBPUBSUB_IDENTITY_SETTINGS_VARIABLE}\`.${name} must be what \`${SIGNALR_IDENTITY_SETTINGS_VARIABLE}\` sets (the app checks either service's upstream token with the same settings).`,
      );
    }
  }
  const identityConnection = sourceOf(identitySettings.AzureSignalRConnectionString);
  if (!IDENTITY_CONNECTION_STRING.test(identityConnection)) {
    problems.push(
      `${app.file}: identity mode's AzureSignalRConnectionString must be 'Endpoint=https://<host>;AuthType=azure.msi;ClientId=\${identityClientId};Version=1.0;' (found \`${identityConnection}\`).`,
    );
  }
  for (const [variable, settings] of [
    ...codeSettings.filter(([v]) => !KEY_SETTINGS_VARIABLES.includes(v)),
    ...platformSettings,
  ]) {
    for (const [name, value] of Object.entries(settings)) {
      if (/listKeys|AccessKey=/i.test(sourceOf(value))) {
        problems.push(
          `${app.file}: \`${variable}\`.${name} uses an access key; keys belong only in \`${SIGNALR_KEY_SETTINGS_VARIABLE}\` or \`${WEBPUBSUB_KEY_SETTINGS_VARIABLE}\` (key mode).`,
        );
      }
    }
  }
  return problems;
}

/** The settings the app checks an upstream bearer token with, the same for SignalR and Web PubSub. */
export const UPSTREAM_TOKEN_SETTINGS: readonly string[] = [
  'SIGNALR_UPSTREAM_AUDIENCE',
  'SIGNALR_UPSTREAM_ISSUER',
  'SIGNALR_UPSTREAM_OPENID_CONFIGURATION',
  'SIGNALR_UPSTREAM_CALLER_ID',
];

/** The identity form of the SignalR connection string with the user-assigned identity's client id. */
const IDENTITY_CONNECTION_STRING =
  /^'Endpoint=https:\/\/\$\{[^}]+\};AuthType=azure\.msi;ClientId=\$\{identityClientId\};Version=1\.0;'$/;

/**
 * Identity mode must hold no key: `listKeys` may appear only in the app module's key-mode settings (one object per
 * realtime service), never in another file, variable, resource or output.
 */
export function checkListKeysConfined(sources: ReadonlyMap<string, string>, app: BicepFile): string[] {
  const problems: string[] = [];
  for (const [file, text] of sources) {
    const lines = text.split('\n');
    // The key-mode objects' own lines (from the declaration to its closing brace at column 0) are allowed.
    const allowed = new Set<number>();
    for (const variable of file === app.file ? KEY_SETTINGS_VARIABLES : []) {
      const start = lines.indexOf(`var ${variable} = {`);
      const end = start < 0 ? -1 : lines.indexOf('}', start);
      for (let index = start + 1; start >= 0 && index < end; index++) allowed.add(index);
    }
    lines.forEach((line, index) => {
      if (allowed.has(index)) return;
      if (/listKeys\s*\(/.test(line.replace(/\/\/.*$/, ''))) {
        problems.push(
          `${file}:${index + 1}: listKeys() outside \`${KEY_SETTINGS_VARIABLES.join('` and `')}\`: identity mode must not read any access key.`,
        );
      }
    });
  }
  return problems;
}

/** No output of any file may carry a key or a connection string (outputs are stored in deployment history). */
export function checkNoSecretOutputs(files: readonly BicepFile[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    for (const [name, value] of file.outputs) {
      if (/listKeys|listConnectionStrings|primaryKey|secondaryKey|AccessKey/i.test(sourceOf(value))) {
        problems.push(
          `${file.file}: output ${name} exposes a secret (\`${sourceOf(value)}\`); pass it as an app setting instead.`,
        );
      }
    }
  }
  return problems;
}

/** The parameter of the realtime and registration modules that carries the site's real host (its defaultHostName). */
export const APP_HOST_PARAM = 'functionAppHostName';

/** The modules that write a URL of the app: the upstream URL (either realtime service) and the sign-in redirect. */
export const HOST_READERS: readonly string[] = ['signalr.bicep', 'webpubsub.bicep', 'entra-app.bicep'];

/** The app's origin as those modules write it. */
const APP_ORIGIN = `https://\${${APP_HOST_PARAM}}`;

/** The route the upstream must call, as the Functions host serves it: `/<routePrefix>/<route>`. */
export interface UpstreamExpectation {
  /** The messages function's route, e.g. `messages`. */
  readonly route: string;
  /** host.json `extensions.http.routePrefix` (default `api`). */
  readonly routePrefix: string;
}

/**
 * Checks the SignalR module: kind SignalR, Serverless mode, one upstream template for every hub, category
 * and event whose URL is `https://${functionAppHostName}/<prefix>/<route>?event={event}`, the site's real host
 * passed in as a parameter (never built from the app's name), CORS for that origin, local
 * auth on, and the SKU a parameter that defaults to Standard_S1 (the tier with an SLA) and allows Free_F1.
 */
export function checkSignalR(signalR: BicepFile, expected: UpstreamExpectation): string[] {
  const problems: string[] = [];
  const [service] = resourcesOfType(signalR, 'Microsoft.SignalRService/signalR').filter((r) => !r.existing);
  if (!service) return [`${signalR.file}: no Microsoft.SignalRService/signalR resource.`];
  const where = `${signalR.file}:${service.line}`;

  if (service.body.kind !== 'SignalR')
    problems.push(`${where}: kind must be 'SignalR' (found ${sourceOf(service.body.kind)}).`);
  const features = path(service.body, 'properties', 'features');
  const serviceMode = Array.isArray(features)
    ? features.find((feature) => path(feature, 'flag') === 'ServiceMode')
    : undefined;
  if (path(serviceMode, 'value') !== 'Serverless') {
    problems.push(
      `${where}: features must contain { flag: 'ServiceMode', value: 'Serverless' } (the upstream only runs in Serverless mode).`,
    );
  }
  problems.push(...checkSignalRAuthModes(signalR, service, where));

  const templates = path(service.body, 'properties', 'upstream', 'templates');
  const template = Array.isArray(templates) ? templates[0] : undefined;
  const urlTemplate =
    template === undefined ? undefined : resolve(signalR, path(template, 'urlTemplate') ?? null);
  if (typeof urlTemplate !== 'string') {
    problems.push(
      `${where}: properties.upstream.templates[0].urlTemplate must be a string built from the app's host.`,
    );
  } else {
    problems.push(...checkUpstreamUrl(urlTemplate, signalR, expected, where));
  }
  for (const pattern of ['hubPattern', 'categoryPattern', 'eventPattern']) {
    const value = path(template, pattern);
    if (value !== undefined && value !== '*') {
      problems.push(
        `${where}: upstream ${pattern} must be '*' (the app handles every hub, category and event), found ${sourceOf(value)}.`,
      );
    }
  }

  const origins = path(service.body, 'properties', 'cors', 'allowedOrigins');
  const resolvedOrigins = Array.isArray(origins) ? origins.map((origin) => resolve(signalR, origin)) : [];
  if (!resolvedOrigins.includes(APP_ORIGIN)) {
    problems.push(`${where}: cors.allowedOrigins must include the app's origin ${APP_ORIGIN}.`);
  }

  const skuName = path(service.body, 'sku', 'name');
  const skuParam = skuName instanceof BicepExpression ? signalR.params.get(skuName.source) : undefined;
  if (!skuParam) {
    problems.push(`${where}: sku.name must be a parameter (Standard_S1 by default, Free_F1 for a try-out).`);
  } else if (skuParam.defaultValue !== 'Standard_S1' || !skuParam.allowed?.includes('Free_F1')) {
    problems.push(
      `${signalR.file}:${skuParam.line}: param ${skuParam.name} must default to 'Standard_S1' and allow 'Free_F1'.`,
    );
  }
  return problems;
}

/**
 * The two auth modes: param `auth` ('identity' default, 'key'); `var identityAuth = auth == 'identity'`;
 * `disableLocalAuth: identityAuth` (identity mode: Microsoft Entra ID only); a user-assigned identity on the
 * service; the upstream template's `auth` is `identityAuth ? upstreamAuth : { type: 'None' }` with
 * `upstreamAuth` = ManagedIdentity for the `upstreamAudience` parameter.
 */
function checkSignalRAuthModes(signalR: BicepFile, service: BicepResource, where: string): string[] {
  const problems: string[] = [];
  const auth = signalR.params.get('auth');
  if (auth?.defaultValue !== 'identity' || JSON.stringify(auth.allowed) !== '["identity","key"]') {
    problems.push(
      `${signalR.file}: param auth must allow 'identity' and 'key' and default to 'identity' (keyless by default).`,
    );
  }
  const mode = sourceOf(signalR.variables.get('identityAuth')).replace(/\s+/g, '');
  if (mode !== "auth=='identity'") {
    problems.push(`${signalR.file}: declare \`var identityAuth = auth == 'identity'\` (found \`${mode}\`).`);
  }
  const disableLocalAuth = path(service.body, 'properties', 'disableLocalAuth');
  if (sourceOf(disableLocalAuth) !== 'identityAuth') {
    problems.push(
      `${where}: disableLocalAuth must be \`identityAuth\`: true in identity mode (no access keys; the policy "Azure SignalR Service should have local authentication methods disabled"), false in key mode (found ${sourceOf(disableLocalAuth)}).`,
    );
  }
  if (path(service.body, 'identity', 'type') !== 'UserAssigned') {
    problems.push(
      `${where}: SignalR needs its own user-assigned identity to get upstream tokens (identity.type 'UserAssigned').`,
    );
  }
  const templates = path(service.body, 'properties', 'upstream', 'templates');
  const template = Array.isArray(templates) ? templates[0] : undefined;
  const authSource = sourceOf(path(template, 'auth')).replace(/\s+/g, '');
  if (!authSource.startsWith('identityAuth?upstreamAuth:')) {
    problems.push(
      `${where}: the upstream template's auth must be \`identityAuth ? upstreamAuth : { type: 'None' }\` (found \`${authSource}\`).`,
    );
  }
  const upstreamAuth = signalR.variables.get('upstreamAuth');
  if (
    path(upstreamAuth, 'type') !== 'ManagedIdentity' ||
    sourceOf(path(upstreamAuth, 'managedIdentity', 'resource')) !== 'upstreamAudience'
  ) {
    problems.push(
      `${signalR.file}: \`var upstreamAuth\` must be { type: 'ManagedIdentity', managedIdentity: { resource: upstreamAudience } } (found ${sourceOf(upstreamAuth)}).`,
    );
  }
  if (!signalR.params.has('upstreamAudience'))
    problems.push(`${signalR.file}: param upstreamAudience is missing.`);
  return problems;
}

/** main.bicep's switch between the two realtime services (`realtimeService == 'webpubsub'`). */
export const REALTIME_SWITCH = 'useWebPubSub';

/**
 * The audience the realtime service requests upstream tokens for is the one the app validates: main passes the
 * deployed service module's `upstreamAudience` output to the app module, which sets it as SIGNALR_UPSTREAM_AUDIENCE;
 * signalr.bicep and webpubsub.bicep output the same parameter their upstreamAuth uses. Also:
 * SIGNALR_UPSTREAM_CALLER_ID is the identity both services run as.
 */
export function checkUpstreamAudienceWiring(
  main: BicepFile,
  signalR: BicepFile,
  app: BicepFile,
  webPubSub?: BicepFile,
): string[] {
  const problems: string[] = [];
  const identitySettings = app.variables.get(SIGNALR_IDENTITY_SETTINGS_VARIABLE);
  if (sourceOf(path(identitySettings, 'SIGNALR_UPSTREAM_AUDIENCE')) !== 'upstreamAudience') {
    problems.push(`${app.file}: SIGNALR_UPSTREAM_AUDIENCE must be the upstreamAudience parameter.`);
  }
  for (const service of [signalR, ...(webPubSub ? [webPubSub] : [])]) {
    const output = sourceOf(service.outputs.get('upstreamAudience')).replace(/\s+/g, '');
    if (output !== "identityAuth?upstreamAudience:''") {
      problems.push(
        `${service.file}: output upstreamAudience must be \`identityAuth ? upstreamAudience : ''\` (found \`${output}\`).`,
      );
    }
  }
  const appModule = main.modules.find((module) => module.path.endsWith('/function-app-settings.bicep'));
  const signalRModule = main.modules.find((module) => module.path.endsWith('signalr.bicep'));
  const webPubSubModule = main.modules.find((module) => module.path.endsWith('webpubsub.bicep'));
  const passed = sourceOf(path(appModule?.body, 'params', 'upstreamAudience'));
  // Either service's module output, whichever is deployed: `useWebPubSub ? (wps.?outputs.x ?? '') : (sigr.?outputs.x ?? '')`.
  const expected = `${REALTIME_SWITCH}?(${webPubSubModule?.symbol ?? 'webPubSub'}.?outputs.upstreamAudience??''):(${signalRModule?.symbol ?? 'signalR'}.?outputs.upstreamAudience??'')`;
  const source = String(sourceOf(main.variables.get(passed)) ?? '').replace(/\s+/g, '');
  if (!signalRModule || !webPubSubModule || source !== expected) {
    problems.push(
      `${main.file}: the app module's upstreamAudience must be a variable \`${expected}\`, the audience the deployed realtime service requests (found ${passed} = ${source}).`,
    );
  }
  for (const module of [signalRModule, webPubSubModule]) {
    if (
      sourceOf(path(module?.body, 'params', 'identityId')) !==
      sourceOf(path(signalRModule?.body, 'params', 'identityId'))
    ) {
      problems.push(
        `${main.file}: module ${module?.symbol} must run as the same identity as SignalR (its principal id is the one caller the app accepts).`,
      );
    }
  }
  const caller = sourceOf(path(appModule?.body, 'params', 'signalRIdentityPrincipalId'));
  const signalRIdentity = sourceOf(path(signalRModule?.body, 'params', 'identityId')).replace(
    /\.outputs\.id$/,
    '',
  );
  if (caller !== `${signalRIdentity}.outputs.principalId`) {
    problems.push(
      `${main.file}: signalRIdentityPrincipalId (SIGNALR_UPSTREAM_CALLER_ID) must be the principal id of the identity SignalR runs as (${signalRIdentity}.outputs.principalId), found ${caller}.`,
    );
  }
  return problems;
}

function checkUpstreamUrl(
  template: string,
  file: BicepFile,
  expected: UpstreamExpectation,
  where: string,
): string[] {
  const problems: string[] = [];
  if (!template.startsWith(`${APP_ORIGIN}/`)) {
    return [
      `${where}: the upstream URL must start with ${APP_ORIGIN}/ (the site's defaultHostName, passed in; secure unique default hostnames make a name-built host wrong), found ${template}.`,
    ];
  }
  if (!file.params.has(APP_HOST_PARAM)) {
    problems.push(
      `${where}: ${APP_HOST_PARAM} must be a parameter (main.bicep passes the site's defaultHostName output).`,
    );
  }
  const url = new URL(template.replace(`\${${APP_HOST_PARAM}}`, 'app.example'));
  const expectedPath = `/${[expected.routePrefix, expected.route].filter((segment) => segment !== '').join('/')}`;
  if (url.pathname !== expectedPath) {
    problems.push(
      `${where}: the upstream URL path is ${url.pathname} but the messages function is served at ${expectedPath} (src/app/routes.ts + host.json routePrefix).`,
    );
  }
  if (url.searchParams.get('event') !== '{event}') {
    problems.push(
      `${where}: the upstream URL must pass the event name as ?event={event}, found ${url.search || 'no query'}.`,
    );
  }
  return problems;
}

/**
 * Checks the Function App module: FC1 Flex Consumption plan, Linux function app tagged
 * `azd-service-name: 'api'`, a user-assigned identity, the deployment container reached with that
 * identity, Node 20, and identity-based host storage.
 */
export function checkFunctionApp(app: BicepFile, settings: BicepFile): string[] {
  const problems: string[] = [];
  const [plan] = resourcesOfType(app, 'Microsoft.Web/serverfarms');
  if (!plan) problems.push(`${app.file}: no Microsoft.Web/serverfarms (the Flex Consumption plan).`);
  else if (path(plan.body, 'sku', 'name') !== 'FC1' || path(plan.body, 'sku', 'tier') !== 'FlexConsumption') {
    problems.push(
      `${app.file}:${plan.line}: the plan's sku must be { name: 'FC1', tier: 'FlexConsumption' }.`,
    );
  }

  const [site] = resourcesOfType(app, 'Microsoft.Web/sites');
  if (!site) return [...problems, `${app.file}: no Microsoft.Web/sites resource.`];
  const where = `${app.file}:${site.line}`;
  if (site.body.kind !== 'functionapp,linux') problems.push(`${where}: kind must be 'functionapp,linux'.`);
  if (!/'azd-service-name'\s*:\s*'api'/.test(sourceOf(site.body.tags))) {
    problems.push(
      `${where}: tags must include 'azd-service-name': 'api' (how azd finds the app to deploy to).`,
    );
  }
  if (path(site.body, 'identity', 'type') !== 'UserAssigned') {
    problems.push(`${where}: identity.type must be 'UserAssigned'.`);
  }
  const config = path(site.body, 'properties', 'functionAppConfig');
  if (path(config, 'runtime', 'name') !== 'node')
    problems.push(`${where}: functionAppConfig.runtime.name must be 'node'.`);
  problems.push(...checkNodeVersion(app, path(config, 'runtime', 'version'), where));
  const siteConfig = path(site.body, 'properties', 'siteConfig');
  for (const name of isObject(siteConfig) ? Object.keys(siteConfig) : []) {
    if (FLEX_CONSUMPTION_FORBIDDEN_SITE_CONFIG.includes(name)) {
      problems.push(
        `${where}: siteConfig.${name} must not be set on Flex Consumption (rejected or ignored there; runtime and scale live in functionAppConfig).`,
      );
    }
  }
  const instances = path(config, 'scaleAndConcurrency', 'maximumInstanceCount');
  const instanceParam = instances instanceof BicepExpression ? app.params.get(instances.source) : undefined;
  if (
    !instanceParam ||
    (instanceParam.minValue ?? 0) < 40 ||
    (instanceParam.maxValue ?? Number.POSITIVE_INFINITY) > 1000
  ) {
    problems.push(
      `${where}: maximumInstanceCount must be a parameter with @minValue(40) and @maxValue(1000), the range Flex Consumption accepts.`,
    );
  }
  if (path(config, 'deployment', 'storage', 'type') !== 'blobContainer') {
    problems.push(`${where}: functionAppConfig.deployment.storage.type must be 'blobContainer'.`);
  }
  if (path(config, 'deployment', 'storage', 'authentication', 'type') !== 'UserAssignedIdentity') {
    problems.push(
      `${where}: the deployment container must be reached with the user-assigned identity (no storage keys).`,
    );
  }
  if (path(config, 'scaleAndConcurrency') === undefined) {
    problems.push(
      `${where}: functionAppConfig.scaleAndConcurrency must set the instance memory and the instance limit.`,
    );
  }
  const hostSettings = settings.variables.get(HOST_SETTINGS_VARIABLE);
  if (path(hostSettings, 'AzureWebJobsStorage__credential') !== 'managedidentity') {
    problems.push(
      `${settings.file}: AzureWebJobsStorage__credential must be 'managedidentity' (identity-based host storage).`,
    );
  }
  return problems;
}

/** The runtime version must be a parameter whose default and every allowed value is Node 22 or later. */
function checkNodeVersion(app: BicepFile, value: BicepValue | undefined, where: string): string[] {
  const param = value instanceof BicepExpression ? app.params.get(value.source) : undefined;
  const versions = param ? [param.defaultValue, ...(param.allowed ?? [])] : [value];
  const unsupported = versions.filter(
    (v) => typeof v !== 'string' || Number.parseInt(v, 10) < FLEX_MIN_NODE_MAJOR || !/^\d+$/.test(v),
  );
  if (unsupported.length === 0) return [];
  return [
    `${where}: functionAppConfig.runtime.version must be Node ${FLEX_MIN_NODE_MAJOR} or later, default and every allowed value (found ${unsupported.map(sourceOf).join(', ')}).`,
  ];
}

/** Checks the storage module: no shared keys, no public blobs, TLS 1.2, and the two containers. */
export function checkStorage(storage: BicepFile): string[] {
  const problems: string[] = [];
  const [account] = resourcesOfType(storage, 'Microsoft.Storage/storageAccounts').filter((r) => !r.existing);
  if (!account) return [`${storage.file}: no Microsoft.Storage/storageAccounts resource.`];
  const where = `${storage.file}:${account.line}`;
  const properties = account.body.properties;
  if (path(properties, 'allowSharedKeyAccess') !== false) {
    problems.push(
      `${where}: allowSharedKeyAccess must be false (every client uses Microsoft Entra ID, no account keys).`,
    );
  }
  if (path(properties, 'allowBlobPublicAccess') !== false)
    problems.push(`${where}: allowBlobPublicAccess must be false.`);
  if (path(properties, 'minimumTlsVersion') !== 'TLS1_2')
    problems.push(`${where}: minimumTlsVersion must be 'TLS1_2'.`);
  const containers = resourcesOfType(storage, 'Microsoft.Storage/storageAccounts/blobServices/containers');
  for (const param of ['deploymentContainerName', 'historyContainerName']) {
    if (!containers.some((container) => sourceOf(container.body.name) === param)) {
      problems.push(`${storage.file}: a blob container named by the ${param} parameter is missing.`);
    }
  }
  return problems;
}

/** A role the app identity (or the deploying user) must hold, and on what. */
export interface RequiredRole {
  readonly role: keyof typeof ROLE_IDS;
  /** The principal id parameter, e.g. `appPrincipalId`. */
  readonly principal: string;
  /** The resource type the assignment is scoped to. */
  readonly scopeType: string;
}

/** What the deployment needs: the host's storage, the history container, attachments' SAS, telemetry, and the user's access. */
export const REQUIRED_ROLES: readonly RequiredRole[] = [
  {
    role: 'storageBlobDataOwner',
    principal: 'appPrincipalId',
    scopeType: 'Microsoft.Storage/storageAccounts',
  },
  {
    role: 'storageBlobDataContributor',
    principal: 'appPrincipalId',
    scopeType: 'Microsoft.Storage/storageAccounts/blobServices/containers',
  },
  // Attachments: the user-delegation key that signs upload and read SAS URLs (the account has no shared keys).
  {
    role: 'storageBlobDelegator',
    principal: 'appPrincipalId',
    scopeType: 'Microsoft.Storage/storageAccounts',
  },
  {
    role: 'monitoringMetricsPublisher',
    principal: 'appPrincipalId',
    scopeType: 'Microsoft.Insights/components',
  },
  {
    role: 'signalRServiceOwner',
    principal: 'appPrincipalId',
    scopeType: 'Microsoft.SignalRService/signalR',
  },
  {
    role: 'webPubSubServiceOwner',
    principal: 'appPrincipalId',
    scopeType: 'Microsoft.SignalRService/webPubSub',
  },
  {
    role: 'storageBlobDataContributor',
    principal: 'userPrincipalId',
    scopeType: 'Microsoft.Storage/storageAccounts',
  },
  {
    role: 'monitoringMetricsPublisher',
    principal: 'userPrincipalId',
    scopeType: 'Microsoft.Insights/components',
  },
];

/** Checks that the roles module assigns every {@link REQUIRED_ROLES} entry (role id, principal and scope). */
export function checkRoleAssignments(
  roles: BicepFile,
  required: readonly RequiredRole[] = REQUIRED_ROLES,
): string[] {
  const typeOfSymbol = new Map(roles.resources.map((resource) => [resource.symbol, resource.type]));
  const assignments = resourcesOfType(roles, 'Microsoft.Authorization/roleAssignments').map((assignment) => {
    const roleDefinition = path(assignment.body, 'properties', 'roleDefinitionId');
    const roleArgument = roleDefinition instanceof BicepExpression ? roleDefinition.args?.[1] : undefined;
    return {
      roleId: roleArgument === undefined ? undefined : resolve(roles, roleArgument),
      principal: sourceOf(path(assignment.body, 'properties', 'principalId')),
      scopeType: typeOfSymbol.get(sourceOf(assignment.body.scope)),
      conditional: assignment.condition !== undefined,
    };
  });
  const problems: string[] = [];
  for (const need of required) {
    const found = assignments.some(
      (a) =>
        a.roleId === ROLE_IDS[need.role] &&
        a.principal === need.principal &&
        a.scopeType?.toLowerCase() === need.scopeType.toLowerCase(),
    );
    if (!found) {
      problems.push(
        `${roles.file}: no role assignment gives ${need.principal} the role ${need.role} (${ROLE_IDS[need.role]}) on a ${need.scopeType}.`,
      );
    }
  }
  for (const assignment of assignments) {
    if (assignment.principal === 'userPrincipalId' && !assignment.conditional) {
      problems.push(
        `${roles.file}: role assignments for userPrincipalId must be conditional on it being set (if (!empty(userPrincipalId))).`,
      );
    }
  }
  return problems;
}

/** True when `tags` is an object literal with azd-env-name, or union(..., {azd-env-name}) (extra tags merged). */
function tagsCarryEnvName(main: BicepFile, tags: BicepValue): boolean {
  const value = resolve(main, tags);
  if (isObject(value)) return 'azd-env-name' in value;
  if (value instanceof BicepExpression && value.callee === 'union') {
    const last = value.args?.at(-1);
    return isObject(last) && 'azd-env-name' in last;
  }
  return false;
}

/** The outputs azd and the user rely on. */
export const REQUIRED_OUTPUTS: readonly string[] = [
  'AZURE_LOCATION',
  'AZURE_TENANT_ID',
  'AZURE_RESOURCE_GROUP',
  'ENTRA_CLIENT_ID',
  'SERVICE_API_NAME',
  'CHAT_URL',
];

/**
 * Checks main.bicep: subscription scope, resource group `rg-<environmentName>` tagged `azd-env-name`, the site's
 * `defaultHostName` output handed to every module that writes the app's URL ({@link HOST_READERS}), and the outputs.
 */
export function checkMain(main: BicepFile, abbreviations: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  if (main.targetScope !== 'subscription') problems.push(`${main.file}: targetScope must be 'subscription'.`);
  const [group] = resourcesOfType(main, 'Microsoft.Resources/resourceGroups');
  const groupName = group ? resolve(main, group.body.name ?? null) : undefined;
  const prefix = abbreviations.resourcesResourceGroups;
  if (
    typeof groupName !== 'string' ||
    groupName.replace(`\${abbrs.resourcesResourceGroups}`, prefix ?? '') !== `rg-\${environmentName}`
  ) {
    problems.push(
      `${main.file}: the resource group must be named rg-\${environmentName} (found ${sourceOf(groupName)}).`,
    );
  }
  if (!tagsCarryEnvName(main, group?.body.tags ?? null)) {
    problems.push(`${main.file}: the resource group must be tagged azd-env-name.`);
  }
  const app = main.modules.find((module) => module.path.endsWith('/function-app.bicep'));
  const appName = sourceOf(path(app?.body, 'params', 'name'));
  if (!app || !main.variables.has(appName)) {
    problems.push(`${main.file}: function-app.bicep's name must be a variable (found ${appName}).`);
  }
  const host = `${app?.symbol ?? 'app'}.outputs.defaultHostName`;
  for (const module of main.modules.filter((m) => HOST_READERS.some((file) => m.path.endsWith(`/${file}`)))) {
    const passed = sourceOf(path(module.body, 'params', APP_HOST_PARAM));
    if (passed !== host) {
      problems.push(
        `${main.file}: module ${module.symbol} must get ${APP_HOST_PARAM}: ${host} (the site's real host; with secure unique default hostnames a name-built one is wrong), found ${passed}.`,
      );
    }
  }
  for (const output of REQUIRED_OUTPUTS) {
    if (!main.outputs.has(output)) problems.push(`${main.file}: output ${output} is missing.`);
  }
  const chatUrl = main.outputs.get('CHAT_URL');
  if (chatUrl !== undefined && !/^'https:\/\/.*\/api\/home(\$\{\w+\})?'$/.test(sourceOf(chatUrl))) {
    problems.push(`${main.file}: CHAT_URL must be https://<app host>/api/home, found ${sourceOf(chatUrl)}.`);
  }
  return problems;
}

/**
 * Checks each `module` of `main` against the module file it names: every parameter passed is declared,
 * and every declared parameter without a default is passed (what `az bicep build` would reject, offline).
 */
export function checkModuleParameters(main: BicepFile, modules: ReadonlyMap<string, BicepFile>): string[] {
  const problems: string[] = [];
  for (const module of main.modules) {
    const target = modules.get(module.path);
    if (!target) {
      problems.push(
        `${main.file}:${module.line}: module ${module.symbol} names ${module.path}, which was not read.`,
      );
      continue;
    }
    const passed = path(module.body, 'params');
    const names = isObject(passed) ? Object.keys(passed) : [];
    for (const name of names) {
      if (!target.params.has(name)) {
        problems.push(
          `${main.file}:${module.line}: module ${module.symbol} passes ${name}, which ${module.path} does not declare.`,
        );
      }
    }
    for (const param of target.params.values()) {
      if (param.defaultValue === undefined && !names.includes(param.name)) {
        problems.push(
          `${main.file}:${module.line}: module ${module.symbol} does not pass ${param.name}, which ${module.path} requires.`,
        );
      }
    }
  }
  return problems;
}

/** Checks that every `<module>.outputs.<name>` that `mainSource` reads is an output of that module. */
export function checkModuleOutputs(
  mainSource: string,
  main: BicepFile,
  modules: ReadonlyMap<string, BicepFile>,
): string[] {
  const problems: string[] = [];
  const bySymbol = new Map(main.modules.map((module) => [module.symbol, module]));
  for (const match of mainSource.matchAll(/\b(\w+)\.outputs\.(\w+)/g)) {
    const [reference, symbol = '', output = ''] = match;
    const module = bySymbol.get(symbol);
    const target = module ? modules.get(module.path) : undefined;
    if (module && target && !target.outputs.has(output)) {
      problems.push(`${main.file}: ${reference} reads an output that ${module.path} does not declare.`);
    }
  }
  return problems;
}

/** The path App Service Authentication must leave open for the upstream, and why the others are closed. */
export interface EasyAuthExpectation {
  /** `/<routePrefix>/<route>` of the messages function. */
  readonly upstreamPath: string;
}

/** Documented name that makes App Service Authentication use a managed identity instead of a client secret. */
export const MI_CLIENT_ASSERTION_SETTING = 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID';

/**
 * entra mode: an `authsettingsV2` config on the site, deployed only when chatAuth == 'entra', requiring
 * authentication and redirecting browsers to sign-in (keeping the address's fragment through it), excluding the
 * upstream path, with the Entra provider using the managed identity as its credential (clientSecretSettingName =
 * OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID, set in easyAuthSettings to the app identity's client id).
 */
export function checkEasyAuth(app: BicepFile, expected: EasyAuthExpectation): string[] {
  const problems: string[] = [];
  const config = resourcesOfType(app, 'Microsoft.Web/sites/config').find(
    (r) => r.body.name === 'authsettingsV2',
  );
  if (!config)
    return [
      `${app.file}: no \`config\` resource named 'authsettingsV2' (App Service Authentication) on the site.`,
    ];
  const where = `${app.file}:${config.line}`;
  if (config.condition?.replace(/\s+/g, '') !== "(chatAuth=='entra')") {
    problems.push(
      `${where}: authsettingsV2 must be deployed if (chatAuth == 'entra') (found ${config.condition ?? 'unconditional'}).`,
    );
  }
  const chatAuth = app.params.get('chatAuth');
  if (!chatAuth || JSON.stringify(chatAuth.allowed) !== '["entra","none"]') {
    problems.push(`${app.file}: param chatAuth must allow 'entra' and 'none'.`);
  }
  const properties = config.body.properties;
  if (path(properties, 'platform', 'enabled') !== true)
    problems.push(`${where}: platform.enabled must be true.`);
  const validation = path(properties, 'globalValidation');
  if (path(validation, 'requireAuthentication') !== true) {
    problems.push(`${where}: globalValidation.requireAuthentication must be true.`);
  }
  if (path(validation, 'unauthenticatedClientAction') !== 'RedirectToLoginPage') {
    problems.push(
      `${where}: unauthenticated browsers must be sent to sign-in (unauthenticatedClientAction 'RedirectToLoginPage').`,
    );
  }
  if (path(properties, 'login', 'preserveUrlFragmentsForLogins') !== true) {
    problems.push(
      `${where}: login.preserveUrlFragmentsForLogins must be true, so a link to a conversation (/#group:team) opens it after sign-in.`,
    );
  }
  const excluded = resolve(app, path(validation, 'excludedPaths') ?? null);
  const paths = Array.isArray(excluded) ? excluded.map((p) => resolve(app, p)) : [];
  if (!paths.includes(expected.upstreamPath)) {
    problems.push(
      `${where}: excludedPaths must contain the upstream path ${expected.upstreamPath} (src/app/routes.ts + host.json routePrefix), found ${sourceOf(excluded)}.`,
    );
  }
  const extra = paths.filter((p) => p !== expected.upstreamPath);
  if (extra.length > 0) {
    problems.push(
      `${where}: excludedPaths opens ${extra.map(sourceOf).join(', ')} without sign-in; only the upstream may be excluded.`,
    );
  }
  const registration = path(properties, 'identityProviders', 'azureActiveDirectory', 'registration');
  if (path(registration, 'clientSecretSettingName') !== MI_CLIENT_ASSERTION_SETTING) {
    problems.push(
      `${where}: the Entra provider's clientSecretSettingName must be '${MI_CLIENT_ASSERTION_SETTING}' (managed identity instead of a secret).`,
    );
  }
  if (sourceOf(path(registration, 'clientId')) !== 'entraClientId') {
    problems.push(`${where}: the Entra provider's clientId must be the entraClientId parameter.`);
  }
  const easyAuthSettings = app.variables.get(EASY_AUTH_SETTINGS_VARIABLE);
  if (sourceOf(path(easyAuthSettings, MI_CLIENT_ASSERTION_SETTING)) !== 'identityClientId') {
    problems.push(
      `${app.file}: \`${EASY_AUTH_SETTINGS_VARIABLE}\` must set ${MI_CLIENT_ASSERTION_SETTING} to identityClientId (the managed identity's client id, not the registration's).`,
    );
  }
  return problems;
}

/** Patterns of a client secret or password credential in Bicep source (the registration must have none). */
const CLIENT_SECRET_PATTERNS: readonly RegExp[] = [
  /\bpasswordCredentials\b/,
  /\bkeyCredentials\b/,
  /\baddPassword\b/,
  /\bclientSecret\s*:/,
  /MICROSOFT_PROVIDER_AUTHENTICATION_SECRET/,
];

/** No file may create or set a client secret (Easy Auth uses the managed identity's federated credential). */
export function checkNoClientSecret(sources: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, text] of sources) {
    text.split('\n').forEach((line, index) => {
      const code = line.replace(/\/\/.*$/, '');
      for (const pattern of CLIENT_SECRET_PATTERNS) {
        if (pattern.test(code))
          problems.push(
            `${file}:${index + 1}: a client secret or password credential (${pattern.source}): use the federated credential instead.`,
          );
      }
    });
  }
  return problems;
}

/** The registry reference of the GA Microsoft Graph v1.0 Bicep types (br:mcr.microsoft.com/...:<semver>). */
const GRAPH_V1_REFERENCE = /^br:mcr\.microsoft\.com\/bicep\/extensions\/microsoftgraph\/v1\.0:\d+\.\d+\.\d+$/;

/**
 * bicepconfig.json declares the `microsoftGraphV1` extension alias with a pinned Graph v1.0 types version;
 * the registration module uses it and creates the app with a federated credential that trusts the app's
 * managed identity (audience api://AzureADTokenExchange, subject its principal id).
 */
export function checkGraphRegistration(bicepConfig: unknown, registration: BicepFile): string[] {
  const problems: string[] = [];
  const reference = (bicepConfig as { extensions?: Record<string, unknown> } | undefined)?.extensions
    ?.microsoftGraphV1;
  if (typeof reference !== 'string' || !GRAPH_V1_REFERENCE.test(reference)) {
    problems.push(
      `infra/bicepconfig.json: extensions.microsoftGraphV1 must be 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:<version>' (found ${JSON.stringify(reference)}).`,
    );
  }
  if (!registration.extensions.some((extension) => extension.reference === 'microsoftGraphV1')) {
    problems.push(
      `${registration.file}: declare \`extension microsoftGraphV1\` (the alias in bicepconfig.json).`,
    );
  }
  const [application] = resourcesOfType(registration, 'Microsoft.Graph/applications');
  if (application?.apiVersion !== 'v1.0') {
    problems.push(`${registration.file}: no Microsoft.Graph/applications@v1.0 resource.`);
  }
  const [credential] = resourcesOfType(
    registration,
    'Microsoft.Graph/applications/federatedIdentityCredentials',
  );
  const audiences = resolve(registration, path(credential?.body, 'audiences') ?? null);
  if (
    !credential ||
    !Array.isArray(audiences) ||
    resolve(registration, audiences[0] ?? null) !== 'api://AzureADTokenExchange'
  ) {
    problems.push(
      `${registration.file}: the registration needs a federatedIdentityCredentials child with audiences ['api://AzureADTokenExchange'].`,
    );
  }
  if (credential && sourceOf(credential.body.subject) !== 'appIdentityPrincipalId') {
    problems.push(
      `${registration.file}: the federated credential's subject must be the app identity's principal id (appIdentityPrincipalId).`,
    );
  }
  if (resourcesOfType(registration, 'Microsoft.Graph/servicePrincipals').length === 0) {
    problems.push(
      `${registration.file}: create the registration's service principal (Microsoft.Graph/servicePrincipals).`,
    );
  }
  return problems;
}

/** Environment names azd fills in itself while provisioning, with why the pipeline need not pass them. */
export const AZD_SUPPLIED_VARIABLES: Readonly<Record<string, string>> = {
  AZURE_PRINCIPAL_ID: 'azd sets it to the object id of the principal it is logged in as.',
};

/** `${NAME}` / `${NAME=default}` references of a main.parameters.json, by parameter. */
export function parameterVariables(parametersJson: string): Map<string, string[]> {
  const parsed = JSON.parse(parametersJson) as { parameters: Record<string, { value?: unknown }> };
  const references = new Map<string, string[]>();
  for (const [name, { value }] of Object.entries(parsed.parameters)) {
    const names = [
      ...JSON.stringify(value ?? null).matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:=[^}]*)?\}/g),
    ].map((m) => m[1] ?? '');
    references.set(name, names);
  }
  return references;
}

/** The `pipeline.variables` list of azure.yaml (what `azd pipeline config` copies to repository variables). */
export function pipelineVariables(azureYaml: string): string[] {
  const block = /^pipeline:\n((?:[ \t]+.*\n?)*)/m.exec(azureYaml)?.[1] ?? '';
  const list = /^[ \t]+variables:\n((?:[ \t]+-[ \t]+.*\n?)*)/m.exec(block)?.[1] ?? '';
  return [...list.matchAll(/-[ \t]+([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? '');
}

/**
 * Every environment variable main.parameters.json reads must reach `azd provision` in the pipeline: set in
 * azure-dev.yml's env from the repository variable of the same name (`NAME: ${{ vars.NAME }}`) or a fixed
 * value, and, when it comes from a repository variable that azd does not create itself, listed in azure.yaml
 * `pipeline.variables` so `azd pipeline config` creates it. Otherwise each push resets it to the default.
 */
export function checkPipelineReachesParameters(
  parametersJson: string,
  azureYaml: string,
  workflow: string,
): string[] {
  const problems: string[] = [];
  const listed = pipelineVariables(azureYaml);
  const createdByAzd = [
    'AZURE_ENV_NAME',
    'AZURE_LOCATION',
    'AZURE_SUBSCRIPTION_ID',
    'AZURE_CLIENT_ID',
    'AZURE_TENANT_ID',
  ];
  for (const [parameter, names] of parameterVariables(parametersJson)) {
    for (const name of names) {
      if (name in AZD_SUPPLIED_VARIABLES) continue;
      const fromVars = new RegExp(`^\\s+${name}: \\$\\{\\{ vars\\.${name} \\}\\}\\s*$`, 'm').test(workflow);
      const fixed = new RegExp(`^\\s+${name}: [^$\\s].*$`, 'm').test(workflow);
      if (!fromVars && !fixed) {
        problems.push(
          `.github/workflows/azure-dev.yml: parameter ${parameter} reads \${${name}}, which the deploy job's env does not set (add \`${name}: \${{ vars.${name} }}\`).`,
        );
      }
      if (fromVars && !createdByAzd.includes(name) && !listed.includes(name)) {
        problems.push(
          `azure.yaml: list ${name} under pipeline.variables so \`azd pipeline config\` creates the repository variable parameter ${parameter} reads.`,
        );
      }
    }
  }
  return problems;
}

/**
 * The API version each resource type is declared with, in every file, with where the version was checked. A type
 * not listed here, or at another version, is reported: a version changes only with its table entry.
 */
export const API_VERSIONS: Readonly<Record<string, string>> = {
  // Azure/bicep-types-az generated/webpubsub/microsoft.signalrservice: 2024-03-01 is the newest stable version (later
  // ones, through 2025-12-01-preview, are previews); azure-rest-api-specs specification/webpubsub/resource-manager/
  // Microsoft.SignalRService/stable/2024-03-01/webpubsub.json.
  'Microsoft.SignalRService/webPubSub': '2024-03-01',
  'Microsoft.SignalRService/webPubSub/hubs': '2024-03-01',
  'Microsoft.SignalRService/webPubSub/sharedPrivateLinkResources': '2024-03-01',
  // The same spec family (specification/signalr/...): 2024-03-01 stable, as SignalR's module already used.
  'Microsoft.SignalRService/signalR': '2024-03-01',
  'Microsoft.SignalRService/signalR/sharedPrivateLinkResources': '2024-03-01',
};

/** Checks every resource of a type in `versions` against its version. */
export function checkApiVersions(
  files: readonly BicepFile[],
  versions: Readonly<Record<string, string>> = API_VERSIONS,
): string[] {
  const problems: string[] = [];
  for (const file of files) {
    for (const resource of file.resources) {
      const expected = versions[resource.type];
      if (expected !== undefined && resource.apiVersion !== expected) {
        problems.push(
          `${file.file}:${resource.line}: ${resource.type}@${resource.apiVersion} must be @${expected} (API_VERSIONS in test/infra/contract.ts says where it was checked).`,
        );
      }
    }
  }
  return problems;
}

/** The system events the chat's handlers take: the blocking connect, and the connected and disconnected notifications. */
export const WEBPUBSUB_SYSTEM_EVENTS: readonly string[] = ['connect', 'connected', 'disconnected'];

/**
 * Checks the Web PubSub module: kind WebPubSub, the same auth modes as SignalR (disableLocalAuth in identity mode, a
 * user-assigned identity, ManagedIdentity event handler auth for `upstreamAudience`), one hub named by the `hubName`
 * parameter whose one event handler calls `https://${functionAppHostName}/<prefix>/<route>` for every
 * user event and the three system events, anonymous connections denied, and the SKU a parameter like SignalR's.
 */
export function checkWebPubSub(webPubSub: BicepFile, expected: UpstreamExpectation): string[] {
  const problems: string[] = [];
  const [service] = resourcesOfType(webPubSub, 'Microsoft.SignalRService/webPubSub').filter(
    (r) => !r.existing,
  );
  if (!service) return [`${webPubSub.file}: no Microsoft.SignalRService/webPubSub resource.`];
  const where = `${webPubSub.file}:${service.line}`;
  if (service.body.kind !== 'WebPubSub')
    problems.push(`${where}: kind must be 'WebPubSub' (found ${sourceOf(service.body.kind)}).`);

  const auth = webPubSub.params.get('auth');
  if (auth?.defaultValue !== 'identity' || JSON.stringify(auth.allowed) !== '["identity","key"]') {
    problems.push(`${webPubSub.file}: param auth must allow 'identity' and 'key' and default to 'identity'.`);
  }
  if (sourceOf(webPubSub.variables.get('identityAuth')).replace(/\s+/g, '') !== "auth=='identity'") {
    problems.push(`${webPubSub.file}: declare \`var identityAuth = auth == 'identity'\`.`);
  }
  if (sourceOf(path(service.body, 'properties', 'disableLocalAuth')) !== 'identityAuth') {
    problems.push(
      `${where}: disableLocalAuth must be \`identityAuth\`: true in identity mode (no access keys), false in key mode.`,
    );
  }
  if (path(service.body, 'identity', 'type') !== 'UserAssigned') {
    problems.push(
      `${where}: Web PubSub needs its own user-assigned identity to get event handler tokens (identity.type 'UserAssigned').`,
    );
  }

  const hubs = resourcesOfType(webPubSub, 'Microsoft.SignalRService/webPubSub/hubs');
  const [hub] = hubs;
  if (hubs.length !== 1 || !hub)
    return [...problems, `${webPubSub.file}: declare exactly one webPubSub/hubs resource.`];
  const hubWhere = `${webPubSub.file}:${hub.line}`;
  if (sourceOf(hub.body.name) !== 'hubName' || !webPubSub.params.has('hubName')) {
    problems.push(
      `${hubWhere}: the hub's name must be the hubName parameter (CHAT_HUB_NAME, the hub the app uses).`,
    );
  }
  if (sourceOf(hub.body.parent) !== service.symbol) {
    problems.push(`${hubWhere}: the hub's parent must be ${service.symbol}.`);
  }
  if (path(hub.body, 'properties', 'anonymousConnectPolicy') !== 'deny') {
    problems.push(
      `${hubWhere}: anonymousConnectPolicy must be 'deny' (clients connect with negotiate's token).`,
    );
  }
  const handlers = path(hub.body, 'properties', 'eventHandlers');
  const handler = Array.isArray(handlers) && handlers.length === 1 ? handlers[0] : undefined;
  if (handler === undefined)
    return [...problems, `${hubWhere}: the hub needs exactly one event handler (the app).`];
  const urlTemplate = resolve(webPubSub, path(handler, 'urlTemplate') ?? null);
  if (typeof urlTemplate !== 'string') {
    problems.push(`${hubWhere}: the event handler's urlTemplate must be a string built from the app's host.`);
  } else {
    problems.push(...checkUpstreamUrl(urlTemplate, webPubSub, expected, hubWhere));
  }
  if (path(handler, 'userEventPattern') !== '*') {
    problems.push(`${hubWhere}: userEventPattern must be '*' (the app handles every user event).`);
  }
  const events = resolve(webPubSub, path(handler, 'systemEvents') ?? null);
  const listed = Array.isArray(events) ? events.map((event) => resolve(webPubSub, event)) : [];
  if (JSON.stringify([...listed].sort()) !== JSON.stringify([...WEBPUBSUB_SYSTEM_EVENTS].sort())) {
    problems.push(
      `${hubWhere}: systemEvents must be ${WEBPUBSUB_SYSTEM_EVENTS.join(', ')} (found ${sourceOf(events)}).`,
    );
  }
  const authSource = sourceOf(path(handler, 'auth')).replace(/\s+/g, '');
  if (!authSource.startsWith('identityAuth?upstreamAuth:')) {
    problems.push(
      `${hubWhere}: the event handler's auth must be \`identityAuth ? upstreamAuth : { type: 'None' }\` (found \`${authSource}\`).`,
    );
  }
  const upstreamAuth = webPubSub.variables.get('upstreamAuth');
  if (
    path(upstreamAuth, 'type') !== 'ManagedIdentity' ||
    sourceOf(path(upstreamAuth, 'managedIdentity', 'resource')) !== 'upstreamAudience'
  ) {
    problems.push(
      `${webPubSub.file}: \`var upstreamAuth\` must be { type: 'ManagedIdentity', managedIdentity: { resource: upstreamAudience } } (found ${sourceOf(upstreamAuth)}).`,
    );
  }

  const skuName = path(service.body, 'sku', 'name');
  const skuParam = skuName instanceof BicepExpression ? webPubSub.params.get(skuName.source) : undefined;
  if (
    skuParam?.defaultValue !== 'Standard_S1' ||
    JSON.stringify(skuParam.allowed) !== '["Free_F1","Standard_S1","Premium_P1"]'
  ) {
    problems.push(
      `${where}: sku.name must be a parameter that defaults to 'Standard_S1' and allows Free_F1, Standard_S1 and Premium_P1, as SignalR's.`,
    );
  }
  return problems;
}
