/**
 * Counts Blob transactions: a small HTTP proxy in front of Azurite, in the orchestrator's process, that
 * forwards every request unchanged and counts it by operation (method and `comp`/`restype` query). Each
 * request that reaches Blob Storage is one billed transaction, so the count is what Azure would bill,
 * without depending on Azurite's log format. The app is given the proxy's address in its connection string.
 */
import { Agent, createServer, request, type Server } from 'node:http';
import { LIMITS_PREFIX } from '../src/lib/chat/command-quota.js';
import { listenOnLoopback } from './net.js';

export interface BlobCounter {
  /** A connection string naming the proxy instead of Azurite. */
  connectionString: string;
  /**
   * Requests counted since the last call, by operation, their total, and how many of them Blob Storage
   * refused (status 400 or above: a conditional write that lost, a missing blob; the app's retries follow
   * such answers), and how many were for the per-user command-limit buckets (`_limits/`, the command limit's
   * share rather than the message's); resets the counts.
   */
  take(): { total: number; byOperation: Record<string, number>; failed: number; commandLimit: number };
  close(): Promise<void>;
}

/** The operation a request stands for: `PUT ?comp=appendblock`, `GET` (read), `GET ?restype=container&comp=list`, `HEAD`… */
function operationOf(method: string, url: string): string {
  const query = new URL(url, 'http://x').searchParams;
  const parts = ['restype', 'comp'].flatMap((key) => {
    const value = query.get(key);
    return value ? [`${key}=${value}`] : [];
  });
  return parts.length > 0 ? `${method} ?${parts.join('&')}` : method;
}

/** Starts the counting proxy in front of Azurite's blob endpoint (`http://127.0.0.1:<port>/devstoreaccount1`). */
export async function startBlobCounter(azuriteConnectionString: string): Promise<BlobCounter> {
  const endpoint = /BlobEndpoint=([^;]+)/.exec(azuriteConnectionString)?.[1];
  if (!endpoint) throw new Error('The Azurite connection string names no BlobEndpoint');
  const target = new URL(endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let counts = new Map<string, number>();
  let failed = 0;
  let commandLimit = 0;
  const server: Server = createServer((req, res) => {
    const key = operationOf(req.method ?? 'GET', req.url ?? '/');
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (new URL(req.url ?? '/', 'http://x').pathname.includes(`/${LIMITS_PREFIX}`)) commandLimit += 1;
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
        agent,
      },
      (answer) => {
        if ((answer.statusCode ?? 502) >= 400) failed += 1;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    // Azurite dropped the connection (a reused keep-alive socket it had closed, say): drop the app's too, so
    // the app sees the network error it would see from Blob Storage and retries it, rather than an answer in
    // a shape Blob Storage never gives.
    upstream.on('error', () => {
      failed += 1;
      res.destroy();
    });
    req.pipe(upstream);
  });
  const port = await listenOnLoopback(server);
  const proxied = `http://127.0.0.1:${port}${target.pathname}`;
  return {
    connectionString: azuriteConnectionString.replace(endpoint, proxied),
    take() {
      const byOperation = Object.fromEntries([...counts.entries()].sort((a, b) => b[1] - a[1]));
      const total = [...counts.values()].reduce((sum, n) => sum + n, 0);
      const refused = failed;
      const limits = commandLimit;
      counts = new Map();
      failed = 0;
      commandLimit = 0;
      return { total, byOperation, failed: refused, commandLimit: limits };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
