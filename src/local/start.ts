/**
 * `npm start`: the whole chat on a laptop. Starts Azurite, the local SignalR service and the Functions app
 * (`func start`, else the built-in host), in keyless mode (`SIGNALR_AUTH=identity`) with a local identity
 * endpoint too, then prints the URL; Ctrl-C or SIGTERM stops everything it started (docs/architecture.md, "The
 * local stack").
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';
import { type AuthMode, authMode } from '../app/identity.js';
import { appRoot } from '../app/static-files.js';
import { startTelemetry } from '../app/telemetry.js';
import { SETTINGS } from '../lib/settings.js';
import { startAzurite } from './azurite.js';
import { allowPageOrigins } from './blob-cors.js';
import {
  azuriteBlobEndpoint,
  azuriteConnectionString,
  devSignalRConnectionString,
  devWebPubSubConnectionString,
} from './dev-constants.js';
import { startFunctionsHost } from './functions-host/host.js';
import { readInstanceCount, startInstances } from './functions-host/instances.js';
import { readSettingsFile } from './functions-host/settings.js';
import { startIdentityEndpoint } from './identity/index.js';
import { identityAppSettings, identityConnectionString, identityServiceOptions } from './identity-wiring.js';
import { readLogLevel } from './log-level.js';
import { readRetentionRules, startRetentionSweeper } from './retention.js';
import { stopProcess } from './stop-process.js';

/** The ports and where each comes from. */
export const PORT_SETTINGS = [
  { variable: 'FUNCTIONS_PORT', default: 7071, what: 'the Functions app' },
  { variable: 'SIGNALR_PORT', default: 8080, what: 'the local SignalR service' },
  { variable: 'BLOB_PORT', default: 10000, what: 'Azurite (Blob)' },
] as const;
/** The data folder (Azurite's files), relative to the app root unless absolute. */
export const DEFAULT_LOCAL_DATA_DIR = '.local-data';
/** How long each part may take to come up. */
export const STARTUP_TIMEOUT_MS = 60_000;
/** How often the launcher checks that the process that started it (npm) is still there. */
export const PARENT_CHECK_INTERVAL_MS = 1_000;

/** The identity endpoint's port in identity mode (App Service's own managed identity endpoint uses 8081 too). */
export const IDENTITY_PORT_SETTING = {
  variable: 'IDENTITY_PORT',
  default: 8081,
  what: 'the local identity endpoint',
} as const;

/** `SIGNALR_AUTH` of `npm start`: `identity` or `key` (the default). */
export function readAuthMode(env: NodeJS.ProcessEnv = process.env): 'identity' | 'key' {
  const raw = (env.SIGNALR_AUTH ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'key') return 'key';
  if (raw === 'identity') return 'identity';
  throw new Error(`SIGNALR_AUTH=${env.SIGNALR_AUTH} is not a mode: use identity or key`);
}

/** IDENTITY_PORT, or its default. */
export function readIdentityPort(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[IDENTITY_PORT_SETTING.variable];
  const port = raw === undefined || raw === '' ? IDENTITY_PORT_SETTING.default : Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${IDENTITY_PORT_SETTING.variable}=${raw} is not a port: give a number from 1 to 65535`);
  }
  return port;
}

type Ports = Record<(typeof PORT_SETTINGS)[number]['variable'], number>;

/** Reads the ports; a value that is not a port is an error naming the variable. */
export function readPorts(env: NodeJS.ProcessEnv = process.env): Ports {
  const ports = {} as Ports;
  for (const setting of PORT_SETTINGS) {
    const raw = env[setting.variable];
    const port = raw === undefined || raw === '' ? setting.default : Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`${setting.variable}=${raw} is not a port: give a number from 1 to 65535`);
    }
    ports[setting.variable] = port;
  }
  return ports;
}

/** Resolves when nothing listens on `port` (127.0.0.1), else rejects with the port and its variable. */
async function checkFree(port: number, variable: string, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `Port ${port} (${variable}, for ${what}) is already in use: stop what uses it, or set ${variable} to a free port`,
            )
          : error,
      );
    });
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

/**
 * The Functions app's settings: local.settings.json `Values` with the SignalR, Web PubSub and storage connection
 * strings pointed at the chosen ports (both services are the one local service), and Web PubSub on unless
 * REALTIME_SERVICE says otherwise.
 */
export function functionsEnvironment(ports: Ports, values: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) if (typeof value === 'string') env[name] = value;
  const azurite = azuriteConnectionString(azuriteBlobEndpoint(ports.BLOB_PORT));
  const pointStorage = (value: string | undefined) =>
    value === undefined || /UseDevelopmentStorage=true/i.test(value)
      ? azurite
      : value.replace(/(BlobEndpoint=https?:\/\/[^;:/]+)(:\d+)?/i, `$1:${ports.BLOB_PORT}`);
  env.AzureWebJobsStorage = pointStorage(env.AzureWebJobsStorage);
  env.CHAT_HISTORY_STORAGE = pointStorage(env.CHAT_HISTORY_STORAGE);
  const signalR = env.AzureSignalRConnectionString ?? devSignalRConnectionString();
  const toServicePort = (value: string) =>
    value.replace(/(Endpoint=https?:\/\/[^;:/]+)(:\d+)?/i, `$1:${ports.SIGNALR_PORT}`);
  env.AzureSignalRConnectionString = toServicePort(signalR);
  // The same service carries Azure Web PubSub's protocol (its Web PubSub wing): the websocket dialect goes over it,
  // so the page chats over SignalR by default and over Web PubSub with ?service=webpubsub, in one room, and the
  // chat delivers through both services' REST APIs (see fanout.ts).
  env.REALTIME_SERVICE ??= 'webpubsub';
  const webPubSub = env.REALTIME_SERVICE.trim().toLowerCase() === 'webpubsub';
  env.CHAT_DIALECTS ??= webPubSub ? 'signalr,websocket' : 'signalr';
  if (webPubSub) {
    env.WebPubSubConnectionString = toServicePort(
      env.WebPubSubConnectionString ?? devWebPubSubConnectionString(),
    );
  }
  return env;
}

/** Starts a child and resolves once a line of its output matches `ready`; its output is echoed with a prefix. */
function startChild(
  label: string,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; ready: RegExp; echo: boolean },
): Promise<ChildProcess> {
  const child = spawn(command, args, {
    cwd: appRoot(),
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let ready = false;
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label} did not start within ${STARTUP_TIMEOUT_MS} ms:\n${buffered.slice(-2000)}`));
    }, STARTUP_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (!ready) {
        buffered += text;
        if (options.ready.test(buffered)) {
          ready = true;
          clearTimeout(timer);
          resolve(child);
        }
      }
      if (options.echo) {
        // The service prefixes its own lines ([signalr-local]); pass them through as they are.
        for (const line of text.split('\n')) if (line.trim() !== '') console.log(line);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${label} could not be started: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      if (!ready) {
        clearTimeout(timer);
        reject(
          new Error(
            `${label} exited before it was ready (code ${code}, signal ${signal}):\n${buffered.slice(-2000)}`,
          ),
        );
      }
    });
  });
}

/** Resolves once something answers HTTP on the port. */
async function waitForHttp(url: string, label: string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    try {
      await (await fetch(url)).arrayBuffer();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${label} does not answer at ${url}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** How long `func --version` may take before the built-in host is used instead. */
const FUNC_PROBE_TIMEOUT_MS = 10_000;

function hasFuncOnPath(): boolean {
  // `npm start` puts node_modules/.bin first on PATH, so this finds the optional azure-functions-core-tools when its
  // install could download the binary. The timeout keeps a stalled probe from holding up the start.
  const result = spawnSync('func', ['--version'], {
    stdio: 'ignore',
    shell: process.platform === 'win32',
    timeout: FUNC_PROBE_TIMEOUT_MS,
  });
  return result.status === 0;
}

async function main(): Promise<void> {
  const root = appRoot();
  // Checked first: a mistyped LOG_LEVEL is refused with its values before anything starts.
  readLogLevel();
  const ports = readPorts();
  const mode = readAuthMode();
  const instances = readInstanceCount();
  const identityPort = mode === 'identity' ? readIdentityPort() : undefined;
  for (const setting of PORT_SETTINGS)
    await checkFree(ports[setting.variable], setting.variable, setting.what);
  if (identityPort !== undefined) {
    await checkFree(identityPort, IDENTITY_PORT_SETTING.variable, IDENTITY_PORT_SETTING.what);
  }

  const dataDirSetting = process.env.LOCAL_DATA_DIR || DEFAULT_LOCAL_DATA_DIR;
  const dataDir = isAbsolute(dataDirSetting) ? dataDirSetting : join(root, dataDirSetting);
  const azuriteDir = join(dataDir, 'azurite');
  mkdirSync(azuriteDir, { recursive: true });

  const children: ChildProcess[] = [];
  const closers: (() => Promise<void>)[] = [];
  /** Stopped before the rest: the local service (see stopAll). */
  const firstClosers: (() => Promise<void>)[] = [];
  let stopping = false;
  const stopAll = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    console.log('Stopping…');
    // The service first: its shutdown delivers the `disconnected` event of every page still open to the app,
    // which is still running (so nobody stays "online", and no call meets a closed port); then the Functions
    // app, then storage.
    for (const close of [...firstClosers, ...closers.reverse()]) await close().catch(() => undefined);
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  // `npm start` runs this under `sh -c`, which does not pass a SIGTERM sent to npm on to us: notice that our
  // parent is gone (we were re-parented) and stop too, so no Azurite or service is left behind.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) {
      console.log('The parent process exited');
      void stopAll(0);
    }
  }, PARENT_CHECK_INTERVAL_MS).unref();
  const watch = (label: string, child: ChildProcess, stop = () => stopProcess(child)) => {
    children.push(child);
    closers.push(stop);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      console.error(`${label} stopped unexpectedly (code ${code}, signal ${signal}); stopping everything`);
      void stopAll(1);
    });
  };

  let chatAuth: AuthMode = 'none';
  try {
    const azurite = await startAzurite({
      port: ports.BLOB_PORT,
      location: azuriteDir,
      startTimeoutMs: STARTUP_TIMEOUT_MS,
    });
    watch('Azurite', azurite.child, () => azurite.stop());
    // The page uploads and reads attachments straight from Blob Storage, as in Azure (CORS in storage.bicep).
    await allowPageOrigins(azurite.connectionString, [
      `http://localhost:${ports.FUNCTIONS_PORT}`,
      `http://127.0.0.1:${ports.FUNCTIONS_PORT}`,
    ]);
    // Azurite has no Blob lifecycle management: apply the rules Azure's lifecycle policy applies.
    const blob = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const attachmentsOff = process.env.CHAT_ATTACHMENTS_STORAGE?.trim().toLowerCase() === 'off';
    const sweeper = startRetentionSweeper(
      {
        history: blob.getContainerClient(process.env.CHAT_HISTORY_CONTAINER || 'chat-history'),
        ...(attachmentsOff
          ? {}
          : {
              attachments: blob.getContainerClient(
                process.env.CHAT_ATTACHMENTS_CONTAINER || SETTINGS.attachmentsContainer.default,
              ),
            }),
      },
      readRetentionRules(),
    );
    closers.push(async () => sweeper.stop());

    const upstream = `http://localhost:${ports.FUNCTIONS_PORT}/api/messages?event={event}`;
    const serviceCli = fileURLToPath(new URL('./service/cli.js', import.meta.url));
    const identity =
      identityPort === undefined ? undefined : await startIdentityEndpoint({ port: identityPort });
    if (identity) {
      closers.push(() => identity.close());
      console.log(`Identity mode: the local identity endpoint is ${identity.url}`);
    }
    let serviceArgs = ['--upstream', upstream, '--webpubsub-event-handler', upstream];
    if (identity) {
      // The service's identity options (its IDENTITY_HEADER among them) go through a file only this user reads.
      const settingsFile = join(dataDir, 'signalr-identity.json');
      writeFileSync(settingsFile, JSON.stringify(identityServiceOptions(identity, upstream)), {
        mode: 0o600,
      });
      serviceArgs = ['--settings', settingsFile];
    }
    const service = await startChild(
      'signalr',
      process.execPath,
      [
        serviceCli,
        '--port',
        String(ports.SIGNALR_PORT),
        // The endpoint the app's connection string names (functionsEnvironment points it at this port).
        '--endpoint',
        `http://localhost:${ports.SIGNALR_PORT}`,
        ...serviceArgs,
      ],
      { ready: /listening on http/, echo: true },
    );
    watch('The local SignalR service', service);
    firstClosers.push(closers.pop() as () => Promise<void>);

    const values = readSettingsFile(join(root, 'local.settings.json'))?.Values ?? {};
    const env = functionsEnvironment(ports, values);
    if (identity) {
      Object.assign(env, identityAppSettings(identity));
      env.AzureSignalRConnectionString = identityConnectionString(`http://localhost:${ports.SIGNALR_PORT}`);
      // Keyless Web PubSub needs TLS for its bearer tokens (the SDK sends none over http), and the local service
      // listens on http: in identity mode the chat runs over SignalR alone.
      env.REALTIME_SERVICE = 'signalr';
      env.CHAT_DIALECTS = 'signalr';
      delete env.WebPubSubConnectionString;
      console.log(
        'Identity mode: the chat runs over SignalR only (?service=webpubsub needs SIGNALR_AUTH=key)',
      );
    }
    // As under func start, a variable already set wins over local.settings.json.
    chatAuth = authMode({ CHAT_AUTH: process.env.CHAT_AUTH ?? env.CHAT_AUTH });
    // The built-in host runs in this process, so its telemetry starts here (func start's worker starts its own,
    // src/app/register.ts). Stopped last, after the host, so the traces of its last calls are exported.
    const startBuiltInHost = async () => {
      const telemetry = await startTelemetry({ ...env, ...process.env });
      closers.push(() => telemetry.shutdown());
      if (telemetry.console)
        console.log('OTEL_TRACES_EXPORTER=console: every upstream event prints its trace');
      const host = await startFunctionsHost({ port: ports.FUNCTIONS_PORT, env });
      closers.push(() => host.close());
    };
    env.CHAT_AUTH = chatAuth;
    if (instances > 1) {
      if (chatAuth === 'entra') {
        throw new Error(
          `CHAT_AUTH=entra runs one host: the development sign-in keeps its sessions in the host's memory; drop --instances ${instances} or FUNCTIONS_INSTANCES`,
        );
      }
      // Each host a process of its own (its own caches, batches and limits), behind a round-robin front end on
      // the app's port, which the service's upstream and the page already name.
      const scaled = await startInstances({
        count: instances,
        port: ports.FUNCTIONS_PORT,
        hostScript: fileURLToPath(new URL('./functions-host/process.js', import.meta.url)),
        env,
      });
      closers.push(() => scaled.close());
      console.log(`${instances} built-in Functions hosts behind the front end: ${scaled.hosts.join(', ')}`);
    } else if (chatAuth === 'entra') {
      console.log(
        'CHAT_AUTH=entra: using the built-in Functions host, which stands in for App Service Authentication ' +
          '(sign-in page, session cookie, x-ms-client-principal headers); func start has no such stand-in',
      );
      await startBuiltInHost();
    } else if (hasFuncOnPath()) {
      console.log('Azure Functions Core Tools found: running func start');
      const func = spawn('func', ['start', '--port', String(ports.FUNCTIONS_PORT)], {
        cwd: root,
        env: { ...process.env, ...env },
        stdio: 'inherit',
        shell: process.platform === 'win32',
      });
      watch('func start', func);
      await waitForHttp(`http://127.0.0.1:${ports.FUNCTIONS_PORT}/api/home`, 'func start');
    } else {
      console.log('Azure Functions Core Tools (func) not found: using the built-in Functions host');
      // env already holds every Value (ports adjusted); the file still supplies Host.CORS, as under func start.
      await startBuiltInHost();
    }
  } catch (error) {
    console.error((error as Error).message);
    await stopAll(1);
    return;
  }
  console.log(`\n${readyLine(ports.FUNCTIONS_PORT, chatAuth, mode)}\n`);
}

/** What `npm start` prints once everything runs: where to open the chat, and how one gets in. */
export function readyLine(port: number, chatAuth: AuthMode, signalRAuth: 'identity' | 'key' = 'key'): string {
  const ready = `Chat ready${signalRAuth === 'identity' ? ' (identity mode)' : ''}`;
  return chatAuth === 'entra'
    ? `${ready}: http://localhost:${port}/api/home\nSign in on the development sign-in page it opens (CHAT_AUTH=entra).`
    : `${ready}: http://localhost:${port}/api/home?name=<you>\nNames are not verified (CHAT_AUTH=none); CHAT_AUTH=entra npm start signs people in.`;
}

// Run only as the command (`node dist/src/local/start.js`), not when a test imports the helpers above.
// Node gives a module its real path, so the command's path is resolved too (node_modules may be a symlink).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error((error as Error).message ?? error);
    process.exit(1);
  });
}
