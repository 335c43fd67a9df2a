import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { azuriteArgs } from '../../src/local/azurite.js';
import {
  DEFAULT_LOCAL_DATA_DIR,
  functionsEnvironment,
  readAuthMode,
  readIdentityPort,
  readPorts,
  readyLine,
} from '../../src/local/start.js';

describe('npm start configuration', () => {
  it('reads the ports from FUNCTIONS_PORT, SIGNALR_PORT and BLOB_PORT with their defaults', () => {
    expect(readPorts({})).toEqual({ FUNCTIONS_PORT: 7071, SIGNALR_PORT: 8080, BLOB_PORT: 10000 });
    expect(readPorts({ FUNCTIONS_PORT: '17071', BLOB_PORT: '20000' })).toEqual({
      FUNCTIONS_PORT: 17071,
      SIGNALR_PORT: 8080,
      BLOB_PORT: 20000,
    });
  });

  it('refuses a value that is not a port, naming the variable', () => {
    expect(() => readPorts({ SIGNALR_PORT: 'abc' })).toThrow('SIGNALR_PORT=abc is not a port');
    expect(() => readPorts({ BLOB_PORT: '70000' })).toThrow('BLOB_PORT=70000');
  });

  it('points the connection strings of local.settings.json at the chosen ports', () => {
    const env = functionsEnvironment(
      { FUNCTIONS_PORT: 17071, SIGNALR_PORT: 18080, BLOB_PORT: 20000 },
      {
        FUNCTIONS_WORKER_RUNTIME: 'node',
        AzureWebJobsStorage: 'UseDevelopmentStorage=true',
        AzureSignalRConnectionString: 'Endpoint=http://localhost:8080;AccessKey=KEY;Version=1.0;',
        CHAT_HISTORY_STORAGE:
          'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=K;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;',
      },
    );
    expect(env.FUNCTIONS_WORKER_RUNTIME).toBe('node');
    expect(env.AzureSignalRConnectionString).toBe(
      'Endpoint=http://localhost:18080;AccessKey=KEY;Version=1.0;',
    );
    expect(env.CHAT_HISTORY_STORAGE).toContain('BlobEndpoint=http://127.0.0.1:20000/devstoreaccount1;');
    expect(env.AzureWebJobsStorage).toContain('BlobEndpoint=http://127.0.0.1:20000/devstoreaccount1;');
    expect(env.CHAT_DIALECTS).toBe('signalr,websocket');
    // Web PubSub is the same local service: on by default, its connection string on the service's port.
    expect(env.REALTIME_SERVICE).toBe('webpubsub');
    expect(env.WebPubSubConnectionString).toMatch(/^Endpoint=http:\/\/localhost:18080;AccessKey=/);
  });

  it('keeps Web PubSub off when REALTIME_SERVICE=signalr, and moves a given Web PubSub string to the port', () => {
    const ports = { FUNCTIONS_PORT: 17071, SIGNALR_PORT: 18080, BLOB_PORT: 20000 };
    const off = functionsEnvironment(ports, { REALTIME_SERVICE: 'signalr' });
    expect(off.REALTIME_SERVICE).toBe('signalr');
    expect(off.WebPubSubConnectionString).toBeUndefined();
    const on = functionsEnvironment(ports, {
      WebPubSubConnectionString: 'Endpoint=http://localhost:8080;AccessKey=KEY;Version=1.0;',
    });
    expect(on.WebPubSubConnectionString).toBe('Endpoint=http://localhost:18080;AccessKey=KEY;Version=1.0;');
  });

  it('runs azurite-blob on disk with --skipApiVersionCheck and --disableTelemetry', () => {
    const args = azuriteArgs({ port: 20000, location: '/data/azurite' });
    expect(args[0]).toMatch(/azurite[\\/]dist[\\/]src[\\/]blob[\\/]main\.js$/);
    expect(args.slice(1).join(' ')).toBe(
      '--blobHost 127.0.0.1 --blobPort 20000 --location /data/azurite --skipApiVersionCheck --disableTelemetry --silent',
    );
  });

  it('keeps its data in a git-ignored folder by default', () => {
    const ignored = readFileSync(new URL('../../.gitignore', import.meta.url), 'utf8').split('\n');
    expect(ignored).toContain(`${DEFAULT_LOCAL_DATA_DIR}/`);
  });

  it('is what npm start runs, after a build', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe('npm run build && node dist/src/local/start.js');
  });

  it('says where the chat is and how one gets in, in each sign-in mode', () => {
    expect(readyLine(7071, 'none')).toMatch(
      /^Chat ready: http:\/\/localhost:7071\/api\/home\?name=<you>\n.*not verified/,
    );
    expect(readyLine(7071, 'entra')).toMatch(
      /^Chat ready: http:\/\/localhost:7071\/api\/home\n.*sign-in page/,
    );
    expect(readyLine(7071, 'entra', 'identity')).toMatch(/^Chat ready \(identity mode\): http/);
  });
});

describe('npm start identity mode settings', () => {
  it('reads SIGNALR_AUTH (key by default) and IDENTITY_PORT (8081 by default)', () => {
    expect(readAuthMode({})).toBe('key');
    expect(readAuthMode({ SIGNALR_AUTH: 'Identity' })).toBe('identity');
    expect(() => readAuthMode({ SIGNALR_AUTH: 'keyless' })).toThrow('SIGNALR_AUTH=keyless is not a mode');
    expect(readIdentityPort({})).toBe(8081);
    expect(readIdentityPort({ IDENTITY_PORT: '18081' })).toBe(18081);
    expect(() => readIdentityPort({ IDENTITY_PORT: '0' })).toThrow('IDENTITY_PORT=0 is not a port');
  });
});
