/**
 * Invocations the service sends to a client and whose Completion answers a REST call (`…/connections/{id}/:invoke`
 * of the 2024-12-01 REST API, ASP.NET Core's client results) (docs/local-service.md, "The REST API").
 */
import { randomUUID } from 'node:crypto';
import {
  type CompletionMessage,
  type HubMessage,
  HubMessageType,
} from '../../../lib/signalr/hub-protocol.js';

/** How a client invocation ended: the client's result, the client's error, or no answer. */
export type ClientResult =
  | { readonly kind: 'result'; readonly result: unknown }
  | { readonly kind: 'error'; readonly error: string }
  | { readonly kind: 'gone'; readonly reason: string };

interface Waiting {
  readonly settle: (result: ClientResult) => void;
  readonly timer: NodeJS.Timeout;
}

/** The client invocations of one connection that wait for their Completion. */
export class ClientResults {
  readonly #waiting = new Map<string, Waiting>();

  /**
   * A new invocation id and the promise of its answer, which ends as `gone` after `timeoutMs` (the option
   * named in `timeoutName`) or when the connection ends.
   */
  start(timeoutMs: number, timeoutName: string): { invocationId: string; answer: Promise<ClientResult> } {
    const invocationId = randomUUID();
    const answer = new Promise<ClientResult>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(invocationId);
        resolve({
          kind: 'gone',
          reason: `The client did not answer within ${timeoutMs} ms (${timeoutName})`,
        });
      }, timeoutMs);
      timer.unref();
      this.#waiting.set(invocationId, { settle: resolve, timer });
    });
    return { invocationId, answer };
  }

  /** A Completion from the client: true when it answers an invocation of the service (then it is consumed). */
  complete(message: CompletionMessage): boolean {
    const waiting = this.#waiting.get(message.invocationId);
    if (!waiting) return false;
    this.#waiting.delete(message.invocationId);
    clearTimeout(waiting.timer);
    waiting.settle(
      typeof message.error === 'string'
        ? { kind: 'error', error: message.error }
        : { kind: 'result', result: message.result ?? null },
    );
    return true;
  }

  /** Ends every waiting invocation: the connection is gone. */
  endAll(reason: string): void {
    for (const [id, waiting] of this.#waiting) {
      clearTimeout(waiting.timer);
      waiting.settle({ kind: 'gone', reason });
      this.#waiting.delete(id);
    }
  }
}

/** A connection that can be invoked (the SignalR session). */
export interface Invokable {
  readonly results: ClientResults;
  writeMessage(message: HubMessage): void;
}

/**
 * Invokes `target` on the client and waits for its Completion; `gone` when the client does not answer within
 * `timeoutMs` (`clientInvocationTimeoutMs`) or leaves first.
 */
export function invokeClient(
  connection: Invokable,
  target: string,
  args: readonly unknown[],
  timeoutMs: number,
): Promise<ClientResult> {
  const { invocationId, answer } = connection.results.start(timeoutMs, 'clientInvocationTimeoutMs');
  connection.writeMessage({ type: HubMessageType.Invocation, target, arguments: args, invocationId });
  return answer;
}
