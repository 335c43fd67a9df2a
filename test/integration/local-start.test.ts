/**
 * `npm start` = `npm run build && node dist/src/local/start.js`, run as a child process: the built launcher, or a
 * fresh compile when `dist/` is stale (see compiled.ts). Ports are free ones chosen for the test; the data folder
 * is a temporary one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectChat, isMessage, welcomeOf } from '../support/chat-clients.js';
import { compiledCommand, ROOT } from '../support/compiled.js';
import { signIn } from '../support/sign-in.js';

let launcher: string;
const dataDir = mkdtempSync(join(tmpdir(), 'npm-start-'));
const children: ChildProcess[] = [];

beforeAll(async () => {
  launcher = await compiledCommand(['src/local/start.ts', 'src/local/service/cli.ts'], ['src']);
}, 180_000);

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
});

/** Ports nothing listens on right now (each briefly bound by the OS's choice, then released). */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    servers.push(server);
  }
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  return ports;
}

function isListening(port: number): Promise<boolean> {
  return new Promise((answer) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      answer(true);
    });
    socket.once('error', () => answer(false));
  });
}

/** The direct children of a process (Linux /proc; empty elsewhere). */
function childPids(pid: number): number[] {
  if (!existsSync('/proc')) return [];
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after the last ')'.
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [launcher], {
    cwd: ROOT,
    env: { ...process.env, LOCAL_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  lines.on('line', (line) => {
    output += `${line}\n`;
  });
  /** Resolves with the first line that matches (the test's timeout bounds the wait). */
  const lineMatching = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((found, failed) => {
      const check = (line: string) => {
        const match = pattern.exec(line);
        if (match) {
          lines.off('line', check);
          found(match);
        }
      };
      lines.on('line', check);
      child.once('exit', (code) => failed(new Error(`npm start exited (${code}):\n${output}`)));
    });
  return { child, lineMatching, output: () => output };
}

describe('npm start', () => {
  it('serves the chat, keeps history in LOCAL_DATA_DIR across restarts, and stops every child on SIGTERM or SIGINT', async () => {
    const [functionsPort, signalrPort, blobPort] = (await freePorts(3)) as [number, number, number];
    const env = {
      FUNCTIONS_PORT: String(functionsPort),
      SIGNALR_PORT: String(signalrPort),
      BLOB_PORT: String(blobPort),
    };
    const home = `http://localhost:${functionsPort}/api/home?name=<you>`;

    const first = start(env);
    const ready = await first.lineMatching(/^Chat ready: (\S+)$/);
    expect(ready[1]).toBe(home);
    const page = await fetch(`http://localhost:${functionsPort}/api/home?name=ann`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script id="chat-config" type="application/json">{"user":"ann"');
    const negotiated = await fetch(`http://localhost:${functionsPort}/api/negotiate?name=ann`, {
      method: 'POST',
    });
    expect(((await negotiated.json()) as { url: string }).url).toBe(
      `http://localhost:${signalrPort}/client/?hub=chat`,
    );
    const ann = await connectChat(`http://localhost:${functionsPort}`, 'ann', 'signalr');
    await ann.send('sendMessage', { text: 'kept on disk' });
    await ann.waitFor(isMessage('kept on disk'));
    await ann.close();

    const started = childPids(first.child.pid as number);
    // Azurite and the local service (the built-in host runs inside the launcher).
    if (existsSync('/proc')) expect(started.length).toBeGreaterThanOrEqual(2);
    first.child.kill('SIGTERM');
    const [code] = await once(first.child, 'exit');
    expect(code).toBe(0);
    for (const pid of started) expect(isAlive(pid), `child ${pid}`).toBe(false);
    for (const port of [functionsPort, signalrPort, blobPort]) expect(await isListening(port)).toBe(false);

    // Started again on the same data folder, the room still has the message.
    const second = start(env);
    await second.lineMatching(/^Chat ready:/);
    const bob = await connectChat(`http://localhost:${functionsPort}`, 'bob', 'webpubsub');
    expect(welcomeOf(bob).history.messages.map((m) => m.text)).toEqual(['kept on disk']);
    const cleo = await connectChat(`http://localhost:${functionsPort}`, 'cleo', 'signalr');
    // Ctrl-C (SIGINT) stops it as SIGTERM does, and quietly with pages still connected: the service stops
    // before the app, so their disconnects reach an app that is still there.
    const again = childPids(second.child.pid as number);
    second.child.kill('SIGINT');
    expect((await once(second.child, 'exit'))[0]).toBe(0);
    for (const pid of again) expect(isAlive(pid), `child ${pid}`).toBe(false);
    await bob.close();
    await cleo.close();
    const stopping = second.output().slice(second.output().indexOf('Stopping…'));
    expect(stopping).not.toMatch(/ECONNREFUSED|unreachable|error/i);
  }, 120_000);

  it('runs the keyless mode with SIGNALR_AUTH=identity: the app reaches the service with its managed identity', async () => {
    const [functionsPort, signalrPort, blobPort, identityPort] = (await freePorts(4)) as [
      number,
      number,
      number,
      number,
    ];
    const run = start({
      FUNCTIONS_PORT: String(functionsPort),
      SIGNALR_PORT: String(signalrPort),
      BLOB_PORT: String(blobPort),
      IDENTITY_PORT: String(identityPort),
      SIGNALR_AUTH: 'identity',
    });
    await run.lineMatching(/^Chat ready \(identity mode\):/);
    // The service takes no access-key token now (local auth disabled): a REST call with the dev key is refused.
    const refused = await fetch(`http://127.0.0.1:${signalrPort}/api/v1/hubs/chat`, {
      method: 'POST',
      headers: { Authorization: 'Bearer e30.e30.e30' },
    });
    expect(refused.status).toBe(401);
    // Yet the chat works: negotiate got a token through :generateToken, upstream calls carried bearer tokens.
    const ann = await connectChat(`http://localhost:${functionsPort}`, 'ann', 'signalr');
    const bob = await connectChat(`http://localhost:${functionsPort}`, 'bob', 'signalr');
    await ann.send('sendMessage', { text: 'no keys here' });
    await bob.waitFor(isMessage('no keys here'));
    await ann.close();
    await bob.close();
    expect(run.output()).not.toContain('upstream call rejected');
    run.child.kill('SIGTERM');
    expect((await once(run.child, 'exit'))[0]).toBe(0);
    expect(await isListening(identityPort)).toBe(false);
  }, 120_000);

  it('prints the trace of every upstream event with OTEL_TRACES_EXPORTER=console', async () => {
    const [functionsPort, signalrPort, blobPort] = (await freePorts(3)) as [number, number, number];
    const run = start({
      FUNCTIONS_PORT: String(functionsPort),
      SIGNALR_PORT: String(signalrPort),
      BLOB_PORT: String(blobPort),
      OTEL_TRACES_EXPORTER: 'console',
    });
    await run.lineMatching(/^Chat ready:/);
    expect(run.output()).toContain('OTEL_TRACES_EXPORTER=console: every upstream event prints its trace');
    const ann = await connectChat(`http://localhost:${functionsPort}`, 'ann', 'signalr');
    const root = run.lineMatching(
      /^\[trace (\w{8})\] upstream invocation 200 [\d.]+ ms chat\.command=sendMessage$/,
    );
    await ann.send('sendMessage', { text: 'traced on the console' });
    await ann.waitFor(isMessage('traced on the console'));
    const [, traceId] = await root;
    // The root is printed first, then its children in the order they started.
    const tree = await vi.waitFor(() => {
      const lines = run
        .output()
        .split('\n')
        .filter((line) => line.startsWith(`[trace ${traceId}]`));
      if (lines.length < 4) throw new Error(`the trace so far: ${lines.join('\n')}`);
      return lines;
    });
    expect(tree.map((line) => line.replace(/ [\d.]+ ms/, ' <ms>'))).toEqual([
      `[trace ${traceId}] upstream invocation 200 <ms> chat.command=sendMessage`,
      `[trace ${traceId}]   upstream verify <ms>`,
      `[trace ${traceId}]   history append <ms> chat.conversation.kind=room chat.message.duplicate=false`,
      `[trace ${traceId}]   fanout sendToAll <ms> chat.fanout.dialects=signalr,websocket`,
    ]);
    expect(run.output()).not.toContain('traced on the console');
    await ann.close();
    run.child.kill('SIGTERM');
    expect((await once(run.child, 'exit'))[0]).toBe(0);
  }, 120_000);

  it('refuses a busy port with an error that names the port and its variable, and starts nothing', async () => {
    const busy = createServer();
    await new Promise<void>((done) => busy.listen(0, '127.0.0.1', done));
    const port = (busy.address() as { port: number }).port;
    try {
      const [functionsPort, blobPort] = (await freePorts(2)) as [number, number];
      const run = start({
        FUNCTIONS_PORT: String(functionsPort),
        SIGNALR_PORT: String(port),
        BLOB_PORT: String(blobPort),
      });
      const [code] = await once(run.child, 'exit');
      expect(code).toBe(1);
      expect(run.output()).toContain(
        `Port ${port} (SIGNALR_PORT, for the local SignalR service) is already in use: stop what uses it, or set SIGNALR_PORT to a free port`,
      );
      expect(await isListening(blobPort)).toBe(false);
    } finally {
      await new Promise((done) => busy.close(done));
    }
  });

  // The stand-in is a shell script.
  it.skipIf(process.platform === 'win32')(
    'runs func start when Azure Functions Core Tools is on PATH, with the settings pointed at the chosen ports',
    async () => {
      // A stand-in for Core Tools: answers --version, and for `start --port N` serves the app with the built-in host
      // (which, like func, keeps environment variables over local.settings.json Values).
      const bin = mkdtempSync(join(tmpdir(), 'fake-func-'));
      const host = join(dirname(launcher), 'functions-host', 'host.js');
      writeFileSync(
        join(bin, 'func'),
        [
          '#!/bin/sh',
          'if [ "$1" = "--version" ]; then echo 4.0.0; exit 0; fi',
          `exec "${process.execPath}" --input-type=module -e "const { startFunctionsHost } = await import(process.argv[1]); await startFunctionsHost({ port: Number(process.argv[2]) });" "${host}" "$3"`,
          '',
        ].join('\n'),
      );
      chmodSync(join(bin, 'func'), 0o755);
      try {
        const [functionsPort, signalrPort, blobPort] = (await freePorts(3)) as [number, number, number];
        const run = start({
          FUNCTIONS_PORT: String(functionsPort),
          SIGNALR_PORT: String(signalrPort),
          BLOB_PORT: String(blobPort),
          PATH: `${bin}:${process.env.PATH ?? ''}`,
        });
        await run.lineMatching(/^Chat ready:/);
        expect(run.output()).toContain('Azure Functions Core Tools found: running func start');
        const ann = await connectChat(`http://localhost:${functionsPort}`, 'ann', 'webpubsub');
        expect(welcomeOf(ann).user).toBe('ann');
        await ann.close();
        const started = childPids(run.child.pid as number);
        if (existsSync('/proc')) expect(started.length).toBeGreaterThanOrEqual(3);
        run.child.kill('SIGTERM');
        expect((await once(run.child, 'exit'))[0]).toBe(0);
        for (const pid of started) expect(isAlive(pid), `child ${pid}`).toBe(false);
        expect(await isListening(functionsPort)).toBe(false);
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    },
    120_000,
  );

  it('signs people in with CHAT_AUTH=entra, on the built-in host that stands in for App Service Authentication', async () => {
    const [functionsPort, signalrPort, blobPort] = (await freePorts(3)) as [number, number, number];
    const run = start({
      FUNCTIONS_PORT: String(functionsPort),
      SIGNALR_PORT: String(signalrPort),
      BLOB_PORT: String(blobPort),
      CHAT_AUTH: 'entra',
    });
    const ready = await run.lineMatching(/^Chat ready: (\S+)$/);
    expect(ready[1]).toBe(`http://localhost:${functionsPort}/api/home`);
    expect(run.output()).toContain('CHAT_AUTH=entra: using the built-in Functions host');
    const base = `http://localhost:${functionsPort}`;
    const page = await fetch(`${base}/api/home?name=ann`, { redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toMatch(/^\/\.auth\/login\/aad\?post_login_redirect_uri=/);
    const ann = await signIn(base, 'Ann', 'ann');
    const client = await connectChat(base, 'bob', 'webpubsub', { headers: { cookie: ann.cookie } });
    expect(welcomeOf(client).user).toBe(ann.userId);
    await client.close();
    run.child.kill('SIGTERM');
    expect((await once(run.child, 'exit'))[0]).toBe(0);
  }, 120_000);
});
