/**
 * Keyless mode end to end on the local stack: the app reaches the local service with `@azure/identity`'s real
 * `ManagedIdentityCredential` (App Service protocol, against the local identity endpoint), negotiates client
 * tokens with `:generateToken`, and accepts upstream calls only with the service's Entra bearer token.
 */
import { generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { resetChatServices } from '../../src/app/services.js';
import { hubClientFromSettings } from '../../src/lib/signalr/index.js';
import { createRestToken } from '../../src/lib/signalr/tokens.js';
import { DEV_ACCESS_KEY } from '../../src/local/dev-constants.js';
import {
  DEV_APP_IDENTITY,
  DEV_SIGNALR_IDENTITY,
  type LocalIdentity,
  type MintOptions,
} from '../../src/local/identity/index.js';
import { DEV_UPSTREAM_AUDIENCE } from '../../src/local/identity-wiring.js';
import { welcomeOf } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const fixture = useChatStack({ identity: true });
const { connect } = fixture;

/** The identity endpoint of the stack. */
const idp = () => {
  const identity = fixture.stack.identity;
  if (!identity) throw new Error('the stack runs without identity');
  return identity;
};

/** An upstream `sendMessage` invocation as the service sends it, with the given Authorization header. */
async function forgedSendMessage(text: string, authorization: string | undefined): Promise<Response> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'X-ASRS-Hub': 'chat',
    'X-ASRS-Category': 'messages',
    'X-ASRS-Event': 'sendMessage',
    'X-ASRS-Connection-Id': 'forged-connection',
    'X-ASRS-User-Id': 'mallory',
  };
  if (authorization !== undefined) headers.Authorization = authorization;
  return fetch(`${fixture.stack.functionsUrl}/api/messages?event=sendMessage`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ type: 1, target: 'sendMessage', arguments: [{ text }] }),
  });
}

/** The room's history as a newcomer sees it. */
async function roomHistory(newcomer: string): Promise<unknown[]> {
  const client = await connect(newcomer, 'signalr');
  const texts = welcomeOf(client).history.messages.map((m) => m.text);
  await client.close();
  return texts;
}

const signalr = (options?: MintOptions) => idp().mint(DEV_SIGNALR_IDENTITY, DEV_UPSTREAM_AUDIENCE, options);

describe('identity mode: the app and the service', () => {
  it('calls the REST API with a managed identity token from the identity endpoint', async () => {
    resetChatServices();
    const client = hubClientFromSettings(process.env);
    // The real ManagedIdentityCredential (App Service source) gets the token: a REST call goes through.
    await client.sendToAll({ target: 'ping', arguments: [] });
    expect(await client.userExists('nobody-here')).toBe(false);
  });

  it('negotiates a client token with :generateToken and chats through upstream calls with bearer tokens', async () => {
    const ann = await connect('ann', 'signalr');
    expect(welcomeOf(ann)).toMatchObject({ user: 'ann' });
    const bob = await connect('bob', 'signalr');
    await ann.send('sendMessage', { text: 'keyless hello' });
    const atBob = await bob.waitFor((e) => e.type === 'message');
    expect(atBob.payload).toMatchObject({ from: 'ann', text: 'keyless hello' });
    // Every upstream call carried a token and no signature was needed: none was refused.
    expect(fixture.stack.logs.filter((line) => line.includes('upstream call rejected'))).toEqual([]);
  });

  it('refuses access-key tokens on the REST API, as Azure does with local auth disabled', async () => {
    // The 2022-06-01 form: its errors are JSON with a code (v1's are plain text).
    const url = `${fixture.stack.serviceUrl}/api/hubs/chat/:send`;
    const keyToken = await createRestToken(DEV_ACCESS_KEY, url);
    const response = await fetch(`${url}?api-version=2022-06-01`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${keyToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ target: 'x', arguments: [] }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { code: string }).code).toBe('local-auth-disabled');
  });

  it('refuses an Entra token for another audience on the REST API', async () => {
    const url = `${fixture.stack.serviceUrl}/api/hubs/chat/:send?api-version=2022-06-01`;
    const token = await idp().mint(DEV_APP_IDENTITY, 'https://storage.azure.com');
    const response = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ target: 'x', arguments: [] }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { message: string }).message).toContain('https://signalr.azure.com');
  });
});

describe('identity mode: upstream calls', () => {
  it("accepts a call with the service's own token (the control for the refusals below)", async () => {
    const response = await forgedSendMessage('control message', `Bearer ${await signalr()}`);
    expect(response.status).toBeGreaterThanOrEqual(200);
    expect(response.status).toBeLessThan(300);
    expect(await roomHistory('carl')).toContain('control message');
  });

  const stranger: LocalIdentity = {
    clientId: '44444444-4444-4444-8444-444444444444',
    objectId: '44444444-4444-4444-8444-0000000000d4',
    name: 'stranger',
  };

  const cases: Array<{ name: string; code: string; authorization: () => Promise<string | undefined> }> = [
    { name: 'no Authorization header', code: 'missing-bearer-token', authorization: async () => undefined },
    {
      name: 'an expired token',
      code: 'bearer-token-expired',
      authorization: async () => `Bearer ${await signalr({ ttlSeconds: -3600 })}`,
    },
    {
      name: 'a token without exp',
      code: 'bearer-token-malformed',
      authorization: async () => `Bearer ${await signalr({ claims: { exp: undefined } })}`,
    },
    {
      name: 'a token not valid yet (nbf an hour ahead)',
      code: 'bearer-token-malformed',
      authorization: async () =>
        `Bearer ${await signalr({ claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } })}`,
    },
    {
      name: 'a token for another audience',
      code: 'bearer-token-audience',
      authorization: async () =>
        `Bearer ${await idp().mint(DEV_SIGNALR_IDENTITY, 'https://signalr.azure.com')}`,
    },
    {
      name: 'a token of another issuer',
      code: 'bearer-token-issuer',
      authorization: async () =>
        `Bearer ${await signalr({ claims: { iss: 'https://sts.windows.net/99999999-9999-4999-8999-999999999999/' } })}`,
    },
    {
      name: "a token of another caller (the app's own identity)",
      code: 'bearer-token-caller',
      authorization: async () => `Bearer ${await idp().mint(DEV_APP_IDENTITY, DEV_UPSTREAM_AUDIENCE)}`,
    },
    {
      name: 'a token of an identity the tenant does not know as SignalR',
      code: 'bearer-token-caller',
      authorization: async () => `Bearer ${await idp().mint(stranger, DEV_UPSTREAM_AUDIENCE)}`,
    },
    {
      name: 'a token signed with a key the tenant does not publish',
      code: 'bearer-token-signature',
      authorization: async () => {
        const genuine = await signalr();
        const [header, payload] = genuine.split('.');
        const { privateKey } = await generateKeyPair('RS256');
        const forged = await new SignJWT(JSON.parse(Buffer.from(payload as string, 'base64url').toString()))
          .setProtectedHeader(JSON.parse(Buffer.from(header as string, 'base64url').toString()))
          .sign(privateKey);
        return `Bearer ${forged}`;
      },
    },
    {
      name: 'an HS256 token signed with the development access key',
      code: 'bearer-token-signature',
      authorization: async () =>
        `Bearer ${await createRestToken(DEV_ACCESS_KEY, `${fixture.stack.functionsUrl}/api/messages`)}`,
    },
  ];

  for (const { name, code, authorization } of cases) {
    it(`refuses ${name} with 401 before any handler runs`, async () => {
      const text = `forged: ${name}`;
      const response = await forgedSendMessage(text, await authorization());
      expect(response.status).toBe(401);
      expect(await response.text()).not.toBe('');
      expect(fixture.stack.logs.some((line) => line.includes(`upstream call rejected: ${code} 401`))).toBe(
        true,
      );
      // No handler ran: the message the call carried was never stored.
      expect(await roomHistory(`dora${cases.findIndex((c) => c.name === name)}`)).not.toContain(text);
    });
  }

  it('never logs a token', () => {
    // Every JWT starts with a base64url `{"` header: eyJ.
    expect(fixture.stack.logs.filter((line) => /eyJ[\w-]{10,}/.test(line))).toEqual([]);
  });
});
