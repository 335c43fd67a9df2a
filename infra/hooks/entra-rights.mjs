// Which Microsoft Entra rights a deployment needs, and whether the deployer's Graph token shows them. Pure
// functions (test/infra/entra-rights.test.ts), used by preprovision.mjs.

/** Directory role template ids (the same in every tenant). */
export const DIRECTORY_ROLES = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  privilegedRoleAdministrator: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  applicationAdministrator: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
  cloudApplicationAdministrator: '158c047a-c907-4556-b7ef-446551a6b5f7',
  applicationDeveloper: 'cf1c38e5-3621-4004-a7cb-879624dced7c',
};

const ADMIN_ROLES = [
  DIRECTORY_ROLES.globalAdministrator,
  DIRECTORY_ROLES.privilegedRoleAdministrator,
  DIRECTORY_ROLES.applicationAdministrator,
  DIRECTORY_ROLES.cloudApplicationAdministrator,
];

/**
 * What main.bicep will write to Graph for these azd variables: `none` (ENTRA_CLIENT_ID known, or no registration
 * needed), `credential` (an admin-made registration the deployer owns) or `registration`, with the extras.
 */
export function plannedGraphWrites(env) {
  const needsRegistration =
    (env.CHAT_AUTH || 'entra') === 'entra' || (env.SIGNALR_AUTH || 'identity') === 'identity';
  const on = (name) => /^(true|1|yes)$/i.test((env[name] ?? '').trim());
  if (!needsRegistration) return { kind: 'none', consent: false, assignments: false };
  if ((env.ENTRA_CLIENT_ID ?? '').trim() !== '') {
    const credentialOnly =
      (env.ENTRA_APP_UNIQUE_NAME ?? '').trim() !== '' && (env.CHAT_AUTH || 'entra') === 'entra';
    return { kind: credentialOnly ? 'credential' : 'none', consent: false, assignments: false };
  }
  return {
    kind: 'registration',
    consent: on('ENTRA_GRANT_ADMIN_CONSENT'),
    assignments: on('ENTRA_ASSIGNMENT_REQUIRED'),
  };
}

/**
 * Whether the principal behind `claims` (a Microsoft Graph access token's payload) can make `writes`.
 * `allowedToCreateApps`: the tenant's authorizationPolicy.defaultUserRolePermissions.allowedToCreateApps
 * (undefined when it could not be read). Returns the problems, each with what to ask an admin for.
 */
export function checkGraphRights(writes, claims, allowedToCreateApps) {
  if (writes.kind === 'none' || writes.kind === 'credential') return [];
  const problems = [];
  const isApp = claims.idtyp === 'app' || (claims.scp === undefined && Array.isArray(claims.roles));
  if (isApp) {
    const roles = claims.roles ?? [];
    if (!roles.includes('Application.ReadWrite.OwnedBy') && !roles.includes('Application.ReadWrite.All')) {
      problems.push(
        'The pipeline principal has no Graph permission to create the app registration: set the repository variable ENTRA_CLIENT_ID to the client id your first `azd up` created (azd env get-value ENTRA_CLIENT_ID), or have an admin grant it Application.ReadWrite.OwnedBy.',
      );
    }
    if (writes.consent && !roles.includes('DelegatedPermissionGrant.ReadWrite.All')) {
      problems.push(
        'ENTRA_GRANT_ADMIN_CONSENT=true needs the Graph permission DelegatedPermissionGrant.ReadWrite.All.',
      );
    }
    if (writes.assignments && !roles.includes('AppRoleAssignment.ReadWrite.All')) {
      problems.push(
        'ENTRA_ASSIGNMENT_REQUIRED=true needs the Graph permission AppRoleAssignment.ReadWrite.All.',
      );
    }
    return problems;
  }
  const wids = claims.wids ?? [];
  const isAdmin = ADMIN_ROLES.some((role) => wids.includes(role));
  const canCreate =
    isAdmin || wids.includes(DIRECTORY_ROLES.applicationDeveloper) || allowedToCreateApps === true;
  if (!canCreate) {
    problems.push(
      allowedToCreateApps === undefined
        ? 'Could not tell whether you may register applications (no Application Developer or admin role in your token, and the tenant policy was unreadable).'
        : 'Your tenant does not let users register applications, and you hold no role that may (Application Developer, Application Administrator, Cloud Application Administrator).',
    );
  }
  if (writes.consent && !isAdmin) {
    problems.push(
      'ENTRA_GRANT_ADMIN_CONSENT=true needs an admin (Cloud Application Administrator, Application Administrator, Privileged Role Administrator or Global Administrator); leave it false and ask an admin to grant consent afterwards.',
    );
  }
  if (writes.assignments && !isAdmin) {
    problems.push(
      "ENTRA_ASSIGNMENT_REQUIRED=true assigns SignalR's identity an app role, which needs an admin role.",
    );
  }
  return problems;
}

/** What to tell someone whose rights fall short: the one-pass admin path (docs/deploy.md, "Locked-down tenant"). */
export const ADMIN_PATH = [
  'Ask an admin to create the registration once (docs/deploy.md, "Locked-down tenant"):',
  '  az ad app create --display-name "Serverless SignalR chat" --sign-in-audience AzureADMyOrg',
  '  then set its uniqueName, add you as owner and create its service principal (the commands are in docs/deploy.md).',
  'Then, before `azd up`:',
  '  azd env set ENTRA_CLIENT_ID <application (client) id>',
  '  azd env set ENTRA_APP_UNIQUE_NAME <the uniqueName the admin set>',
  "The template then adds only the credential for the app's identity to the registration you own: one pass.",
];
