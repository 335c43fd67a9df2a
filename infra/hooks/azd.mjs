// What the azd hooks share: tokens from azd's own sign-in (no Azure CLI needed) and JWT claims.
import { execFileSync } from 'node:child_process';

/**
 * An access token for `scope` from the principal azd is logged in as: `azd auth token` (a hidden command;
 * Azure/azure-dev cli/azd/cmd/auth_token.go: repeatable --scope, --tenant-id, JSON `{ token, expiresOn }`).
 */
export function azdToken(scope) {
  const tenant = process.env.AZURE_TENANT_ID ? ['--tenant-id', process.env.AZURE_TENANT_ID] : [];
  const out = execFileSync('azd', ['auth', 'token', '--scope', scope, ...tenant, '--output', 'json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    shell: process.platform === 'win32',
  });
  return JSON.parse(out).token;
}

/** The payload of a JWT, unverified: only to read what the caller's own token says about it. */
export function jwtClaims(token) {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}

/** true for `true`, `1`, `yes` (any case): how azd variables spell a switch. */
export function isOn(value) {
  return /^(true|1|yes)$/i.test((value ?? '').trim());
}
