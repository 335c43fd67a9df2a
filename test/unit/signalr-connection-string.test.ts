import { describe, expect, it } from 'vitest';
import {
  ConnectionStringError,
  connectionInfoFromParts,
  HubClient,
  hubClientFromSettings,
  parseConnectionString,
  signalRConfigFromSettings,
} from '../../src/lib/signalr/index.js';
import { DEV_ACCESS_KEY as KEY } from '../../src/local/dev-constants.js';

const SECONDARY = 'ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvuts';

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('parseConnectionString', () => {
  it('reads the key form', () => {
    expect(parseConnectionString(`Endpoint=http://localhost:8080;AccessKey=${KEY};Version=1.0;`)).toEqual({
      endpoint: 'http://localhost:8080',
      credential: { kind: 'key', accessKey: KEY },
    });
  });

  it('applies Port= and drops a trailing slash; keys are case-insensitive, the last ; optional', () => {
    expect(
      parseConnectionString(`endpoint=https://x.service.signalr.net/;accesskey=${KEY};Port=8443`),
    ).toEqual({
      endpoint: 'https://x.service.signalr.net:8443',
      credential: { kind: 'key', accessKey: KEY },
    });
  });

  it('keeps a key that contains "=" intact', () => {
    const key = 'abc/def+ghi==';
    expect(
      parseConnectionString(`Endpoint=https://x.service.signalr.net;AccessKey=${key};Version=1.0;`),
    ).toEqual({
      endpoint: 'https://x.service.signalr.net',
      credential: { kind: 'key', accessKey: key },
    });
  });

  it('reads the identity form with and without ClientId', () => {
    expect(
      parseConnectionString(
        'Endpoint=https://x.service.signalr.net;AuthType=azure.msi;ClientId=abc-123;Version=1.0;',
      ),
    ).toEqual({
      endpoint: 'https://x.service.signalr.net',
      credential: { kind: 'identity', clientId: 'abc-123' },
    });
    expect(
      parseConnectionString('Endpoint=https://x.service.signalr.net;AuthType=azure.msi;Version=1.0;'),
    ).toEqual({
      endpoint: 'https://x.service.signalr.net',
      credential: { kind: 'identity' },
    });
  });

  it('names what is missing and never repeats the key', () => {
    const noEndpoint = errorOf(() => parseConnectionString(`AccessKey=${KEY};Version=1.0;`));
    expect(noEndpoint).toBeInstanceOf(ConnectionStringError);
    expect(noEndpoint.message).toContain('Endpoint');
    expect(noEndpoint.message).not.toContain(KEY);

    const noKey = errorOf(() => parseConnectionString('Endpoint=http://localhost:8080;Version=1.0;'));
    expect(noKey.message).toContain('AccessKey');

    for (const bad of [
      `Endpoint=localhost:8080;AccessKey=${KEY};`,
      `Endpoint=http://localhost:8080;AccessKey=${KEY};Version=2.0;`,
      `Endpoint=http://localhost:8080;AccessKey=${KEY};Port=99999;`,
      `Endpoint=http://localhost:8080;${KEY};`,
    ]) {
      const error = errorOf(() => parseConnectionString(bad));
      expect(error).toBeInstanceOf(ConnectionStringError);
      expect(error.message).not.toContain(KEY);
    }
  });
});

describe("connectionInfoFromParts (the 2020 sample's settings)", () => {
  it('builds key-mode info and names the missing setting', () => {
    expect(connectionInfoFromParts('http://localhost:8080/', KEY)).toEqual({
      endpoint: 'http://localhost:8080',
      credential: { kind: 'key', accessKey: KEY },
    });
    expect(errorOf(() => connectionInfoFromParts(undefined, KEY)).message).toContain('AzureSignalREndpoint');
    expect(errorOf(() => connectionInfoFromParts('http://localhost:8080', undefined)).message).toContain(
      'AzureSignalRAccessKey',
    );
  });
});

describe('signalRConfigFromSettings', () => {
  it('reads the connection string, the default hub and primary + secondary keys', () => {
    const config = signalRConfigFromSettings({
      AzureSignalRConnectionString: `Endpoint=http://localhost:8080;AccessKey=${KEY};Version=1.0;`,
      AzureSignalRSecondaryAccessKey: SECONDARY,
    });
    expect(config).toEqual({
      auth: 'key',
      upstreamToken: undefined,
      connection: { endpoint: 'http://localhost:8080', credential: { kind: 'key', accessKey: KEY } },
      hub: 'chat',
      accessKeys: [KEY, SECONDARY],
    });
  });

  it('takes the auth mode from SIGNALR_AUTH, else from the connection string, and reads the upstream token policy', () => {
    const identity = 'Endpoint=https://x.service.signalr.net;AuthType=azure.msi;ClientId=abc;Version=1.0;';
    const policy = {
      SIGNALR_UPSTREAM_AUDIENCE: 'aud-1',
      SIGNALR_UPSTREAM_ISSUER: 'https://sts.windows.net/t/',
      SIGNALR_UPSTREAM_OPENID_CONFIGURATION:
        'https://login.microsoftonline.com/t/.well-known/openid-configuration',
      SIGNALR_UPSTREAM_CALLER_ID: 'oid-1',
    };
    expect(signalRConfigFromSettings({ AzureSignalRConnectionString: identity })).toMatchObject({
      auth: 'identity',
      upstreamToken: undefined,
    });
    expect(
      signalRConfigFromSettings({
        AzureSignalRConnectionString: identity,
        SIGNALR_AUTH: 'identity',
        ...policy,
      }).upstreamToken,
    ).toEqual({
      audience: 'aud-1',
      issuer: 'https://sts.windows.net/t/',
      openIdConfiguration: 'https://login.microsoftonline.com/t/.well-known/openid-configuration',
      callerId: 'oid-1',
    });
    const keyString = `Endpoint=http://localhost:8080;AccessKey=${KEY};Version=1.0;`;
    expect(
      signalRConfigFromSettings({ AzureSignalRConnectionString: keyString, ...policy }).upstreamToken,
    ).toBe(undefined);
    expect(
      errorOf(() =>
        signalRConfigFromSettings({ AzureSignalRConnectionString: keyString, SIGNALR_AUTH: 'identity' }),
      ),
    ).toMatchObject({ code: 'connection-setting-invalid' });
    const invalid = errorOf(() =>
      signalRConfigFromSettings({ AzureSignalRConnectionString: identity, SIGNALR_AUTH: 'sometimes' }),
    );
    expect(invalid.message).toContain('must be "identity" or "key"');
  });

  it("accepts the 2020 sample's AzureSignalREndpoint + AzureSignalRAccessKey and CHAT_HUB_NAME", () => {
    const config = signalRConfigFromSettings({
      AzureSignalREndpoint: 'http://localhost:8080',
      AzureSignalRAccessKey: KEY,
      CHAT_HUB_NAME: 'lobby',
    });
    expect(config.connection.credential).toEqual({ kind: 'key', accessKey: KEY });
    expect(config.hub).toBe('lobby');
    expect(config.accessKeys).toEqual([KEY]);
  });

  it('in identity mode verifies signatures only with keys set separately', () => {
    const identity = 'Endpoint=https://x.service.signalr.net;AuthType=azure.msi;Version=1.0;';
    expect(signalRConfigFromSettings({ AzureSignalRConnectionString: identity }).accessKeys).toEqual([]);
    expect(
      signalRConfigFromSettings({ AzureSignalRConnectionString: identity, AzureSignalRAccessKey: KEY })
        .accessKeys,
    ).toEqual([KEY]);
  });

  it('names both ways to configure the service when nothing is set', () => {
    const error = errorOf(() => signalRConfigFromSettings({}));
    expect(error).toBeInstanceOf(ConnectionStringError);
    expect(error.message).toContain('AzureSignalRConnectionString');
    expect(error.message).toContain('AzureSignalREndpoint');
  });

  it("names the missing half of the 2020 sample's settings without echoing the key", () => {
    const error = errorOf(() => signalRConfigFromSettings({ AzureSignalRAccessKey: KEY }));
    expect(error.message).toContain('AzureSignalREndpoint');
    expect(error.message).not.toContain(KEY);
  });
});

describe('hubClientFromSettings', () => {
  it('builds a client for the configured hub', () => {
    const client = hubClientFromSettings({
      AzureSignalRConnectionString: `Endpoint=http://localhost:8080;AccessKey=${KEY};Version=1.0;`,
    });
    expect(client).toBeInstanceOf(HubClient);
    expect(client.baseUrl).toBe('http://localhost:8080/api/v1/hubs/chat');
  });

  it('rejects a hub name Azure would refuse', () => {
    const error = errorOf(() =>
      hubClientFromSettings({
        AzureSignalRConnectionString: `Endpoint=http://localhost:8080;AccessKey=${KEY};Version=1.0;`,
        CHAT_HUB_NAME: '1-chat',
      }),
    );
    expect(error.message).toContain('Hub name');
  });
});
