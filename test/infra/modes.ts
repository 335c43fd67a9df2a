/**
 * Contract checks on what a deployment mode would create (bicep-eval.ts evaluates the templates for a set of
 * parameters): nothing public in network isolation beyond what the chat needs, no key-based auth anywhere, the
 * registration's token version matching the issuer Easy Auth and the app validate, extra tags on every resource,
 * and no Microsoft Graph resource when ENTRA_CLIENT_ID is known. Each check returns problems, empty when it holds.
 */
import { at, type DeployedResource, type Evaluated } from './bicep-eval.js';

/** The `properties` object of a deployed resource. */
function props(resource: DeployedResource): Evaluated | undefined {
  return resource.body.properties;
}

function where(resource: DeployedResource): string {
  return `${resource.file}:${resource.resource.line} (${resource.resource.type})`;
}

/**
 * How each resource type that can have a public endpoint must look in isolation mode, and why anything stays
 * public. A type with a public endpoint that is not in this table fails the check until someone classifies it.
 */
export const ISOLATION_RULES: Readonly<Record<string, (resource: DeployedResource) => string | undefined>> = {
  'Microsoft.Storage/storageAccounts': (r) =>
    at(props(r), 'publicNetworkAccess') === 'Disabled' &&
    at(props(r), 'networkAcls', 'defaultAction') === 'Deny'
      ? undefined
      : 'Storage must have publicNetworkAccess Disabled and networkAcls.defaultAction Deny.',
  // Browsers connect from the internet (that is what the chat is); everything else goes private.
  'Microsoft.SignalRService/signalR': (r) => onlyClientsPublic(r, 'SignalR'),
  'Microsoft.SignalRService/webPubSub': (r) => onlyClientsPublic(r, 'Web PubSub'),
  // The page, negotiate and `azd deploy` need the app's endpoint; its outbound calls must go through the VNet.
  'Microsoft.Web/sites': (r) => {
    const subnet = at(props(r), 'virtualNetworkSubnetId');
    return subnet === undefined || subnet === null || subnet === ''
      ? 'The Function App must join the VNet (virtualNetworkSubnetId).'
      : undefined;
  },
  // Ingestion stays public but Entra-only: a private one needs an Azure Monitor Private Link Scope.
  'Microsoft.Insights/components': (r) =>
    at(props(r), 'DisableLocalAuth') === true ||
    at(props(r), 'publicNetworkAccessForIngestion') === 'Disabled'
      ? undefined
      : 'Application Insights ingestion must be private or Entra-only (DisableLocalAuth).',
  'Microsoft.OperationalInsights/workspaces': (r) =>
    at(props(r), 'features', 'disableLocalAuth') === true ||
    at(props(r), 'publicNetworkAccessForIngestion') === 'Disabled'
      ? undefined
      : 'Log Analytics ingestion must be private or Entra-only (features.disableLocalAuth).',
};

/**
 * SignalR and Web PubSub (the same network ACL shape): public network access off, or only client connections public
 * (networkACLs.publicNetwork allows ClientConnection alone and denies RESTAPI, ServerConnection and Trace).
 */
function onlyClientsPublic(r: DeployedResource, service: string): string | undefined {
  const allow = at(props(r), 'networkACLs', 'publicNetwork', 'allow');
  const deny = at(props(r), 'networkACLs', 'publicNetwork', 'deny');
  const allowed = Array.isArray(allow) ? allow : [];
  const denied = Array.isArray(deny) ? deny : [];
  if (at(props(r), 'publicNetworkAccess') === 'Disabled') return undefined;
  return JSON.stringify(allowed) === JSON.stringify(['ClientConnection']) &&
    ['RESTAPI', 'ServerConnection', 'Trace'].every((kind) => denied.includes(kind))
    ? undefined
    : `${service} may keep only ClientConnection public (networkACLs.publicNetwork allow [ClientConnection], deny RESTAPI, ServerConnection, Trace).`;
}

/** Types that have no endpoint of their own to expose (or whose exposure is their parent's: a Web PubSub hub). */
const NO_ENDPOINT =
  /^Microsoft\.(Authorization|ManagedIdentity|Network|Resources|Graph|Insights\/(diagnosticSettings|workbooks))|\/(config|containers|blobServices|managementPolicies|sharedPrivateLinkResources)$|^Microsoft\.Web\/serverfarms$|^Microsoft\.SignalRService\/webPubSub\/hubs$/;

/** Every deployed resource that could be reached publicly beyond what {@link ISOLATION_RULES} allows. */
export function checkIsolation(resources: readonly DeployedResource[]): string[] {
  const problems: string[] = [];
  for (const resource of resources) {
    const rule = ISOLATION_RULES[resource.resource.type];
    if (rule) {
      const problem = rule(resource);
      if (problem) problems.push(`${where(resource)}: ${problem}`);
    } else if (!NO_ENDPOINT.test(resource.resource.type)) {
      problems.push(
        `${where(resource)}: a resource type isolation mode does not know; add its rule to ISOLATION_RULES (test/infra/modes.ts).`,
      );
    }
  }
  return problems;
}

/** Key-based auth switched off everywhere it exists (the SignalR and Web PubSub rules apply in identity mode). */
export function checkKeyless(
  resources: readonly DeployedResource[],
  signalRAuth: 'identity' | 'key',
): string[] {
  const problems: string[] = [];
  for (const r of resources) {
    const p = props(r);
    const fail = (what: string) => problems.push(`${where(r)}: ${what}`);
    switch (r.resource.type) {
      case 'Microsoft.Storage/storageAccounts':
        if (at(p, 'allowSharedKeyAccess') !== false) fail('allowSharedKeyAccess must be false.');
        break;
      case 'Microsoft.Insights/components':
        if (at(p, 'DisableLocalAuth') !== true) fail('DisableLocalAuth must be true.');
        break;
      case 'Microsoft.OperationalInsights/workspaces':
        if (at(p, 'features', 'disableLocalAuth') !== true) fail('features.disableLocalAuth must be true.');
        break;
      case 'Microsoft.SignalRService/signalR':
      case 'Microsoft.SignalRService/webPubSub':
        if (signalRAuth === 'identity' && at(p, 'disableLocalAuth') !== true) {
          fail('disableLocalAuth must be true in identity mode.');
        }
        break;
    }
  }
  return problems;
}

/** Every tracked resource (one with a location) carries `expected` among its tags. */
export function checkTags(
  resources: readonly DeployedResource[],
  expected: Readonly<Record<string, string>>,
): string[] {
  const problems: string[] = [];
  for (const r of resources) {
    if (r.body.location === undefined) continue;
    const tags = r.body.tags;
    for (const [key, value] of Object.entries(expected)) {
      if (at(tags, key) !== value) {
        problems.push(
          `${where(r)}: tag ${key} must be ${JSON.stringify(value)}, found ${JSON.stringify(at(tags, key))}.`,
        );
      }
    }
  }
  return problems;
}

/** Graph resources a deployment would write. */
export function graphWrites(resources: readonly DeployedResource[]): DeployedResource[] {
  return resources.filter((r) => r.resource.type.startsWith('Microsoft.Graph/'));
}

/** The issuer Entra puts in access tokens of a version: v2 `…/<tenant>/v2.0`, v1 `https://sts.windows.net/<tenant>/`. */
export function issuerForTokenVersion(
  version: Evaluated | undefined,
  loginEndpoint: string,
  tenantId: string,
): string {
  return version === 2 ? `${loginEndpoint}${tenantId}/v2.0` : `https://sts.windows.net/${tenantId}/`;
}

/**
 * The upstream auth of whichever realtime service is deployed: SignalR's first upstream template, or the first event
 * handler of a Web PubSub hub. Undefined when neither is deployed.
 */
export function upstreamAuthOf(resources: readonly DeployedResource[]): Evaluated | undefined {
  const signalR = resources.find((r) => r.resource.type === 'Microsoft.SignalRService/signalR');
  if (signalR) return at(signalR.body, 'properties', 'upstream', 'templates', 0, 'auth');
  const hub = resources.find((r) => r.resource.type === 'Microsoft.SignalRService/webPubSub/hubs');
  return hub ? at(hub.body, 'properties', 'eventHandlers', 0, 'auth') : undefined;
}

/**
 * The upstream bearer gets through: the registration's access token version gives the issuer Easy Auth validates
 * (openIdIssuer) and the app validates (SIGNALR_UPSTREAM_ISSUER); the audience the realtime service (SignalR's
 * upstream or Web PubSub's event handler) requests is the client id Easy Auth accepts (allowedAudiences, when set,
 * includes it) and the one the app validates (SIGNALR_UPSTREAM_AUDIENCE).
 */
export function checkUpstreamToken(
  resources: readonly DeployedResource[],
  loginEndpoint: string,
  tenantId: string,
): string[] {
  const problems: string[] = [];
  const find = (type: string, test: (r: DeployedResource) => boolean = () => true) =>
    resources.find((r) => r.resource.type === type && test(r));
  const registration = find('Microsoft.Graph/applications');
  const settings = at(
    find('Microsoft.Web/sites/config', (r) => r.body.name === 'appsettings')?.body,
    'properties',
  );
  const easyAuth = at(
    find('Microsoft.Web/sites/config', (r) => r.body.name === 'authsettingsV2')?.body,
    'properties',
  );
  const version = at(registration?.body, 'api', 'requestedAccessTokenVersion');
  if (registration && version !== 2 && version !== 1) {
    problems.push(
      `${where(registration)}: api.requestedAccessTokenVersion must be 1 or 2, found ${String(version)}.`,
    );
  }
  const issuer = issuerForTokenVersion(registration ? version : 2, loginEndpoint, tenantId);
  const easyAuthIssuer = at(
    easyAuth,
    'identityProviders',
    'azureActiveDirectory',
    'registration',
    'openIdIssuer',
  );
  if (easyAuth !== undefined && easyAuthIssuer !== issuer) {
    problems.push(
      `Easy Auth validates issuer ${String(easyAuthIssuer)}, but the registration's tokens carry ${issuer}.`,
    );
  }
  const appIssuer = at(settings, 'SIGNALR_UPSTREAM_ISSUER');
  if (appIssuer !== undefined && appIssuer !== issuer) {
    problems.push(
      `The app validates issuer ${String(appIssuer)}, but the registration's tokens carry ${issuer}.`,
    );
  }
  const upstream = upstreamAuthOf(resources);
  if (at(upstream, 'type') === 'ManagedIdentity') {
    const resource = at(upstream, 'managedIdentity', 'resource');
    const appAudience = at(settings, 'SIGNALR_UPSTREAM_AUDIENCE');
    if (appAudience !== resource) {
      problems.push(
        `The realtime service requests tokens for ${String(resource)}, the app validates the audience ${String(appAudience)}.`,
      );
    }
    const clientId = at(easyAuth, 'identityProviders', 'azureActiveDirectory', 'registration', 'clientId');
    const audiences = at(
      easyAuth,
      'identityProviders',
      'azureActiveDirectory',
      'validation',
      'allowedAudiences',
    );
    if (easyAuth !== undefined && resource !== clientId) {
      problems.push(
        `The realtime service requests tokens for ${String(resource)}, Easy Auth's client id is ${String(clientId)}.`,
      );
    }
    if (Array.isArray(audiences) && !audiences.includes(resource as Evaluated)) {
      problems.push(
        `Easy Auth's allowedAudiences ${JSON.stringify(audiences)} leave out ${String(resource)}.`,
      );
    }
    if (resource === '' || resource === undefined || resource === null) {
      problems.push(
        "The realtime service's upstream token resource must be the registration's client id, found none.",
      );
    }
  }
  return problems;
}

/**
 * The parameter values azd hands main.bicep: each `${NAME}` / `${NAME=default}` of main.parameters.json filled
 * from `env` (unset or empty takes the default), an empty result left out (the template's default applies), and
 * the text converted to the parameter's type (bool, int, object), as azd does for a Bicep template.
 */
export function azdParameters(
  parametersJson: string,
  env: Readonly<Record<string, string>>,
  types: ReadonlyMap<string, string>,
): Record<string, Evaluated> {
  const parsed = JSON.parse(parametersJson) as { parameters: Record<string, { value?: unknown }> };
  const values: Record<string, Evaluated> = {};
  for (const [name, { value }] of Object.entries(parsed.parameters)) {
    if (typeof value !== 'string') continue;
    const text = value.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:=([^}]*\}?))?\}/g,
      (_all, variable: string, fallback?: string) => {
        const set = env[variable];
        return set === undefined || set === '' ? (fallback ?? '') : set;
      },
    );
    if (text === '') continue;
    const type = types.get(name);
    values[name] =
      type === 'bool'
        ? text === 'true'
        : type === 'int'
          ? Number(text)
          : type === 'object'
            ? (JSON.parse(text) as Evaluated)
            : text;
  }
  return values;
}

/**
 * The environment the deploy workflow gives `azd provision`: each `NAME: ${{ vars.NAME }}` from `repositoryVariables`
 * (an unset repository variable is an empty string in GitHub Actions), each fixed `NAME: value` as written.
 */
export function workflowEnvironment(
  workflow: string,
  repositoryVariables: Readonly<Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  const block = /^ {4}env:\n((?: {6}.*\n|\s*#.*\n)*)/m.exec(workflow)?.[1] ?? '';
  for (const line of block.split('\n')) {
    const match = /^ {6}([A-Z_][A-Z0-9_]*): (.*)$/.exec(line);
    if (!match?.[1] || match[2] === undefined) continue;
    const fromVars = /^\$\{\{ vars\.([A-Z_][A-Z0-9_]*) \}\}$/.exec(match[2].trim());
    env[match[1]] = fromVars?.[1]
      ? (repositoryVariables[fromVars[1]] ?? '')
      : match[2].trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}
