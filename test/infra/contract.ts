/**
 * The contract between the code and `infra/`: the app settings the code reads (src/lib/settings.ts) are the
 * ones Bicep sets, the SignalR upstream points at the messages function's route, and the resources have the
 * shapes the deployment relies on. Each check returns a list of problems (empty = fine), each saying what to
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
  AzureWebJobsStorage__queueServiceUri: 'Host storage, queue endpoint.',
  AzureWebJobsStorage__tableServiceUri: 'Host storage, table endpoint.',
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'Where the host sends telemetry.',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING:
    'Telemetry is sent with the identity (App Insights local auth is off).',
};

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
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
} as const;

/** Names of the Bicep variables in the app module that hold the app settings. */
export const APP_SETTINGS_VARIABLE = 'appSettings';
export const HOST_SETTINGS_VARIABLE = 'hostSettings';

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

/** An app setting value Azure needs, and why. */
export interface AzureSettingValue {
  readonly value: string;
  readonly why: string;
}

/** Values Azure needs where the catalogue's default suits only the local stack. */
export const AZURE_SETTING_VALUES: Readonly<Record<string, AzureSettingValue>> = {
  CHAT_DIALECTS: {
    value: 'signalr',
    why: 'Azure SignalR has no raw-WebSocket REST API (/ws/api/v1); the default also delivers to the websocket dialect',
  },
};

/**
 * Checks the app module's settings against the catalogue: every `required` setting is set in
 * `appSettings`, every `appSettings` name is in the catalogue, the {@link AZURE_SETTING_VALUES} are set
 * to their Azure value, every `hostSettings` name is documented in {@link HOST_SETTINGS}, none is one
 * Flex Consumption forbids, and the site applies both objects.
 */
export function checkAppSettings(
  app: BicepFile,
  catalogue: readonly SettingSpec[],
  azureValues: Readonly<Record<string, AzureSettingValue>> = AZURE_SETTING_VALUES,
): string[] {
  const problems: string[] = [];
  const appSettings = objectVariable(app, APP_SETTINGS_VARIABLE, problems);
  const hostSettings = objectVariable(app, HOST_SETTINGS_VARIABLE, problems);
  if (!appSettings || !hostSettings) return problems;

  const known = new Map(catalogue.map((spec) => [spec.name, spec]));
  for (const spec of catalogue) {
    if (!spec.required) continue;
    const value = appSettings[spec.name];
    if (value === undefined) {
      problems.push(
        `${app.file}: the code requires the app setting ${spec.name} (src/lib/settings.ts) but \`${APP_SETTINGS_VARIABLE}\` does not set it: ${spec.description}`,
      );
    } else if (value === '' || value === null) {
      problems.push(`${app.file}: the required app setting ${spec.name} is set to an empty value.`);
    }
  }
  for (const name of Object.keys(appSettings)) {
    if (!known.has(name)) {
      problems.push(
        `${app.file}: \`${APP_SETTINGS_VARIABLE}\` sets ${name}, which the code never reads: add it to src/lib/settings.ts or remove it.`,
      );
    }
  }
  for (const [name, { value, why }] of Object.entries(azureValues)) {
    if (known.has(name) && appSettings[name] !== value) {
      problems.push(
        `${app.file}: set ${name} to '${value}' in \`${APP_SETTINGS_VARIABLE}\` (found ${sourceOf(appSettings[name])}): ${why}.`,
      );
    }
  }
  for (const name of Object.keys(hostSettings)) {
    if (!(name in HOST_SETTINGS)) {
      problems.push(
        `${app.file}: \`${HOST_SETTINGS_VARIABLE}\` sets ${name}, which is not a documented host setting (HOST_SETTINGS in test/infra/contract.ts); app settings belong in \`${APP_SETTINGS_VARIABLE}\`.`,
      );
    }
  }
  for (const name of [...Object.keys(appSettings), ...Object.keys(hostSettings)]) {
    if (FLEX_CONSUMPTION_FORBIDDEN_SETTINGS.includes(name)) {
      problems.push(
        `${app.file}: ${name} must not be set on Flex Consumption (runtime and storage come from functionAppConfig and identity settings).`,
      );
    }
  }

  const applied = resourcesOfType(app, 'Microsoft.Web/sites/config').find(
    (r) => r.body.name === 'appsettings',
  );
  const properties = applied?.body.properties;
  const appliedSource = sourceOf(properties).replace(/\s+/g, '');
  if (!applied) {
    problems.push(
      `${app.file}: no \`config\` resource named 'appsettings' on the site: the settings are never applied.`,
    );
  } else if (appliedSource !== `union(${HOST_SETTINGS_VARIABLE},${APP_SETTINGS_VARIABLE})`) {
    problems.push(
      `${app.file}: the site's appsettings must be \`union(${HOST_SETTINGS_VARIABLE}, ${APP_SETTINGS_VARIABLE})\`, found \`${sourceOf(properties)}\`.`,
    );
  }

  const connection = appSettings.AzureSignalRConnectionString;
  if (connection !== undefined && !sourceOf(connection).includes('listKeys()')) {
    problems.push(
      `${app.file}: AzureSignalRConnectionString must come from the SignalR resource's listKeys() (found \`${sourceOf(connection)}\`).`,
    );
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

/** The route the upstream must call, as the Functions host serves it: `/<routePrefix>/<route>`. */
export interface UpstreamExpectation {
  /** The messages function's route, e.g. `messages`. */
  readonly route: string;
  /** host.json `extensions.http.routePrefix` (default `api`). */
  readonly routePrefix: string;
}

/**
 * Checks the SignalR module: kind SignalR, Serverless mode, one upstream template for every hub, category
 * and event whose URL is `https://${functionAppName}.azurewebsites.net/<prefix>/<route>?event={event}` built
 * from the name parameter (no reference to the site, so no dependency cycle), CORS for that origin, local
 * auth on, and the SKU a parameter that allows Free_F1 (default) and Standard_S1.
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
  if (path(service.body, 'properties', 'disableLocalAuth') !== false) {
    problems.push(
      `${where}: disableLocalAuth must be false: the app signs with the access key and verifies X-ASRS-Signature with it.`,
    );
  }

  const templates = path(service.body, 'properties', 'upstream', 'templates');
  const template = Array.isArray(templates) ? templates[0] : undefined;
  const urlTemplate =
    template === undefined ? undefined : resolve(signalR, path(template, 'urlTemplate') ?? null);
  if (typeof urlTemplate !== 'string') {
    problems.push(
      `${where}: properties.upstream.templates[0].urlTemplate must be a string built from the app name.`,
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
  if (!resolvedOrigins.includes(`https://\${functionAppName}.azurewebsites.net`)) {
    problems.push(
      `${where}: cors.allowedOrigins must include the app's origin https://\${functionAppName}.azurewebsites.net.`,
    );
  }

  const skuName = path(service.body, 'sku', 'name');
  const skuParam = skuName instanceof BicepExpression ? signalR.params.get(skuName.source) : undefined;
  if (!skuParam) {
    problems.push(`${where}: sku.name must be a parameter (Free_F1 by default, Standard_S1 for real use).`);
  } else if (skuParam.defaultValue !== 'Free_F1' || !skuParam.allowed?.includes('Standard_S1')) {
    problems.push(
      `${signalR.file}:${skuParam.line}: param ${skuParam.name} must default to 'Free_F1' and allow 'Standard_S1'.`,
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
  const origin = `https://\${functionAppName}.azurewebsites.net`;
  if (!template.startsWith(origin)) {
    return [
      `${where}: the upstream URL must start with ${origin} (built from the name parameter), found ${template}.`,
    ];
  }
  if (!file.params.has('functionAppName')) {
    problems.push(
      `${where}: functionAppName must be a parameter (a string, not a reference to the site: no dependency cycle).`,
    );
  }
  const url = new URL(template.replace(`\${functionAppName}`, 'app'));
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
export function checkFunctionApp(app: BicepFile): string[] {
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
  const version = resolveParam(app, path(config, 'runtime', 'version'));
  if (version !== '20')
    problems.push(
      `${where}: functionAppConfig.runtime.version must default to '20' (found ${sourceOf(version)}).`,
    );
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
  const hostSettings = app.variables.get(HOST_SETTINGS_VARIABLE);
  if (path(hostSettings, 'AzureWebJobsStorage__credential') !== 'managedidentity') {
    problems.push(
      `${app.file}: AzureWebJobsStorage__credential must be 'managedidentity' (identity-based host storage).`,
    );
  }
  return problems;
}

function resolveParam(file: BicepFile, value: BicepValue | undefined): BicepValue | undefined {
  if (value instanceof BicepExpression && value.kind === 'identifier') {
    return file.params.get(value.source)?.defaultValue ?? value;
  }
  return value;
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

/** What the deployment needs: the host's storage, the history container, telemetry, and the user's access. */
export const REQUIRED_ROLES: readonly RequiredRole[] = [
  {
    role: 'storageBlobDataOwner',
    principal: 'appPrincipalId',
    scopeType: 'Microsoft.Storage/storageAccounts',
  },
  {
    role: 'storageQueueDataContributor',
    principal: 'appPrincipalId',
    scopeType: 'Microsoft.Storage/storageAccounts',
  },
  {
    role: 'storageTableDataContributor',
    principal: 'appPrincipalId',
    scopeType: 'Microsoft.Storage/storageAccounts',
  },
  {
    role: 'storageBlobDataContributor',
    principal: 'appPrincipalId',
    scopeType: 'Microsoft.Storage/storageAccounts/blobServices/containers',
  },
  {
    role: 'monitoringMetricsPublisher',
    principal: 'appPrincipalId',
    scopeType: 'Microsoft.Insights/components',
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

/** The outputs azd and the user rely on. */
export const REQUIRED_OUTPUTS: readonly string[] = [
  'AZURE_LOCATION',
  'AZURE_TENANT_ID',
  'RESOURCE_GROUP',
  'SERVICE_API_NAME',
  'CHAT_URL',
];

/**
 * Checks main.bicep: subscription scope, resource group `rg-<environmentName>` tagged `azd-env-name`, the
 * same function app name handed to SignalR (for the upstream URL) and to the app module, and the outputs.
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
  if (
    !isObject(resolve(main, group?.body.tags ?? null)) ||
    !('azd-env-name' in (resolve(main, group?.body.tags ?? null) as BicepObject))
  ) {
    problems.push(`${main.file}: the resource group must be tagged azd-env-name.`);
  }
  const signalR = main.modules.find((module) => module.path.endsWith('signalr.bicep'));
  const app = main.modules.find((module) => module.path.endsWith('function-app.bicep'));
  const upstreamName = sourceOf(path(signalR?.body, 'params', 'functionAppName'));
  const appName = sourceOf(path(app?.body, 'params', 'name'));
  if (!signalR || !app || upstreamName !== appName || !main.variables.has(appName)) {
    problems.push(
      `${main.file}: pass the same variable as signalr.bicep's functionAppName and function-app.bicep's name (found ${upstreamName} and ${appName}), computed from strings only so there is no dependency cycle.`,
    );
  }
  for (const output of REQUIRED_OUTPUTS) {
    if (!main.outputs.has(output)) problems.push(`${main.file}: output ${output} is missing.`);
  }
  const chatUrl = main.outputs.get('CHAT_URL');
  if (chatUrl !== undefined && !/^'https:\/\/.*\/api\/home'$/.test(sourceOf(chatUrl))) {
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
