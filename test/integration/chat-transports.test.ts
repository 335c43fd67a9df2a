/**
 * The chat through the app and the local service with the official `@microsoft/signalr` client forced onto each
 * transport: send, receive and invoke, then the service process is killed (SIGKILL: no close frame, no Close
 * message, no disconnect) and started again on its port, and the client's automatic reconnect brings it back.
 * The service runs as its own process here (`npm run service`'s CLI), so the kill is a real one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { HttpTransportType } from '@microsoft/signalr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetChatServices } from '../../src/app/services.js';
import { type RunningAzurite, startAzurite } from '../../src/local/azurite.js';
import { devSignalRConnectionString } from '../../src/local/dev-constants.js';
import { type RunningFunctionsHost, startFunctionsHost } from '../../src/local/functions-host/host.js';
import { type ChatClient, connectChat, isMessage } from '../support/chat-clients.js';
import { compiledCommand } from '../support/compiled.js';

const RECONNECT_DELAYS = [0, 250, 500, 1000, 2000, 4000];

let cli = '';
let blob: RunningAzurite | undefined;
let functions: RunningFunctionsHost | undefined;
let service: { child: ChildProcess; port: number } | undefined;
const clients: ChatClient[] = [];

/** Starts the service CLI on `port` (0: a free one) and resolves once it listens. */
async function startServiceProcess(
  port: number,
  upstream: string,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [cli, '--port', String(port), '--upstream', upstream], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.resume();
  const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
  for await (const line of lines) {
    const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
    if (match) {
      child.stdout?.resume();
      return { child, port: Number(match[1]) };
    }
  }
  throw new Error(`the service exited (${child.exitCode}) before listening`);
}

async function killService(): Promise<void> {
  const child = service?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

beforeAll(async () => {
  cli = await compiledCommand(['src/local/service/cli.ts'], ['src/local/service', 'src/lib']);
  blob = await startAzurite();
  const env: Record<string, string> = {
    CHAT_HISTORY_STORAGE: blob.connectionString,
    AzureWebJobsStorage: blob.connectionString,
    CHAT_DIALECTS: 'signalr',
    AzureSignalRConnectionString: '',
  };
  functions = await startFunctionsHost({ port: 0, env, log: () => {} });
  service = await startServiceProcess(0, `${functions.url}/api/messages?event={event}`);
  env.AzureSignalRConnectionString = devSignalRConnectionString(`http://127.0.0.1:${service.port}`);
  process.env.AzureSignalRConnectionString = env.AzureSignalRConnectionString;
  resetChatServices();
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await killService();
  await functions?.close();
  await blob?.stop();
  resetChatServices();
});

const TRANSPORTS = [
  ['WebSockets', HttpTransportType.WebSockets],
  ['ServerSentEvents', HttpTransportType.ServerSentEvents],
  ['LongPolling', HttpTransportType.LongPolling],
] as const;

describe('the chat over each transport', () => {
  for (const [name, transport] of TRANSPORTS) {
    it(`chats over ${name}, and reconnects after the service is killed without a close`, async () => {
      const url = functions?.url ?? '';
      const connect = async (user: string) => {
        const client = await connectChat(url, user, 'signalr', {
          transport,
          reconnectDelays: RECONNECT_DELAYS,
        });
        clients.push(client);
        return client;
      };
      const ann = await connect(`ann ${name}`);
      const bob = await connect(`bob ${name}`);
      await ann.send('sendMessage', { text: `hello over ${name}` });
      await bob.waitFor(isMessage(`hello over ${name}`));
      await ann.waitFor(isMessage(`hello over ${name}`));
      const page = (await ann.invoke('loadHistory', { conversation: 'room', limit: 1 })) as {
        messages: { text: string }[];
      };
      expect(page.messages.map((m) => m.text)).toEqual([`hello over ${name}`]);

      const [annFrom, bobFrom] = [ann.events.length, bob.events.length];
      await killService();
      service = await startServiceProcess(service?.port ?? 0, `${url}/api/messages?event={event}`);
      // A new connection on the new service: the app welcomes it again, with the history.
      const welcome = await ann.waitFor((e) => e.type === 'welcome', annFrom);
      expect(JSON.stringify(welcome.payload)).toContain(`hello over ${name}`);
      await bob.waitFor((e) => e.type === 'welcome', bobFrom);
      await ann.send('sendMessage', { text: `after the kill over ${name}` });
      await bob.waitFor(isMessage(`after the kill over ${name}`));
    });
  }
});
