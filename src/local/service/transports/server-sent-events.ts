/**
 * Server-Sent Events, as ASP.NET Core's `ServerSentEventsServerTransport` speaks it; the events of one turn
 * leave in one socket write (docs/local-service.md, "Transports").
 */
import type { ServerResponse } from 'node:http';
import { CloseCode } from '../errors.js';
import { flushAtEndOfTurn, type TurnFlushable } from './end-of-turn.js';
import { HttpTransport, NO_CACHE_HEADERS } from './http-transport.js';

/** One message as an event: `data: <line>\r\n` per line, then `\r\n` (ServerSentEventsMessageFormatter). */
export function formatEvent(message: string): string {
  let event = '';
  for (const line of message.split('\n')) {
    event += `data: ${line.endsWith('\r') ? line.slice(0, -1) : line}\r\n`;
  }
  return `${event}\r\n`;
}

export class ServerSentEventsTransport extends HttpTransport implements TurnFlushable {
  readonly kind = 'ServerSentEvents' as const;
  readonly inherentKeepAlive = false;
  #serverClose: { code: number; reason: string } | undefined;
  /** Corked for this turn, and listed for the end-of-turn flush. */
  #corked = false;
  readonly #res: ServerResponse;

  constructor(res: ServerResponse, headers: Readonly<Record<string, string>>) {
    super();
    this.#res = res;
    res.writeHead(200, {
      ...headers,
      ...NO_CACHE_HEADERS,
      'Content-Type': 'text/event-stream',
      'Content-Encoding': 'identity',
    });
    res.write(':\r\n'); // flushes the headers, so the client's EventSource opens
    // Written out after the service ended the stream ('finish'), or cut ('close'), whichever comes first.
    res.on('finish', () => {
      if (this.#serverClose) this.end(this.#serverClose.code, this.#serverClose.reason);
    });
    res.on('close', () => {
      const server = this.#serverClose;
      // The stream ended without the service ending it: this is how the client leaves (it cannot say goodbye
      // otherwise), so it is a normal close, as for ASP.NET Core, even when the client simply vanished.
      this.end(server?.code ?? CloseCode.Normal, server?.reason ?? '');
    });
  }

  get open(): boolean {
    return !this.ended && this.#serverClose === undefined && !this.#res.destroyed;
  }

  get bufferedAmount(): number {
    return this.#res.writableLength;
  }

  send(data: string | Buffer, _binary: boolean, done?: () => void): void {
    if (!this.open) {
      done?.();
      return;
    }
    const text = typeof data === 'string' ? data : data.toString('utf8');
    if (!this.#corked) {
      this.#corked = true;
      this.#res.cork();
      flushAtEndOfTurn(this);
    }
    this.#res.write(formatEvent(text), () => done?.());
  }

  flushTurn(): void {
    this.#uncork();
  }

  #uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#res.uncork();
  }

  close(code: number, reason: string): void {
    if (this.#serverClose || this.ended) return;
    this.#serverClose = { code, reason };
    this.#uncork(); // what was sent goes out before the end
    this.#res.end();
  }

  terminate(): void {
    this.#serverClose ??= { code: CloseCode.Abnormal, reason: '' };
    this.#res.destroy();
  }
}
