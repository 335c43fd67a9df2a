// azd preprovision hook: before anything is created, say what this deployment will write to Microsoft Entra ID
// and whether the signed-in principal may, so nobody fails at the registration after other resources exist.

import { azdToken, isOn, jwtClaims } from './azd.mjs';
import { ADMIN_PATH, checkGraphRights, plannedGraphWrites } from './entra-rights.mjs';

const writes = plannedGraphWrites(process.env);
if (writes.kind === 'none') {
  console.log('Entra ID: no Microsoft Graph write (ENTRA_CLIENT_ID is set, or no registration is needed).');
  process.exit(0);
}
if (writes.kind === 'credential') {
  console.log(
    `Entra ID: adds only the federated credential, and after provisioning the sign-in redirect URI, to ${process.env.ENTRA_APP_UNIQUE_NAME}; you must be an owner of that registration.`,
  );
  process.exit(0);
}

let claims;
let allowedToCreateApps;
try {
  const token = azdToken('https://graph.microsoft.com/.default');
  claims = jwtClaims(token);
  const response = await fetch('https://graph.microsoft.com/v1.0/policies/authorizationPolicy', {
    headers: { authorization: `Bearer ${token}` },
  });
  if (response.ok) {
    const policy = await response.json();
    allowedToCreateApps = policy.defaultUserRolePermissions?.allowedToCreateApps;
  }
} catch (error) {
  console.warn(`Entra ID: could not check your rights beforehand (${error.message}); provisioning goes on.`);
  process.exit(0);
}

const problems = checkGraphRights(writes, claims, allowedToCreateApps);
if (problems.length === 0) {
  console.log('Entra ID: you may create the app registration this deployment needs.');
  process.exit(0);
}
for (const problem of problems) console.error(`Entra ID: ${problem}`);
for (const line of ADMIN_PATH) console.error(line);
if (isOn(process.env.ENTRA_PRECHECK_WARN_ONLY)) process.exit(0);
process.exit(1);
