/**
 * What the client receives when the upstream has answered one of its invocations, as Azure SignalR does it
 * (docs/local-service.md, "The SignalR wing").
 */
import { type CompletionMessage, HubMessageType } from '../../../lib/signalr/hub-protocol.js';
import type { UpstreamOutcome } from '../upstream/call.js';

/**
 * Bytes to write to the client as they are, a Completion to frame in the client's protocol, or nothing at all
 * (the invocation is ignored, and the client keeps waiting, as on Azure).
 */
export type InvocationAnswer =
  | { readonly kind: 'verbatim'; readonly body: Buffer }
  | { readonly kind: 'completion'; readonly message: CompletionMessage }
  | { readonly kind: 'ignored'; readonly why: string };

/**
 * The answer to invocation `invocationId` of `target` once the upstream call ended with `outcome`;
 * `upstreamConfigured` is false when the service has no upstream template at all.
 */
export function invocationAnswer(
  invocationId: string,
  target: string,
  outcome: UpstreamOutcome,
  upstreamConfigured = true,
): InvocationAnswer {
  const error = (text: string): InvocationAnswer => ({
    kind: 'completion',
    message: { type: HubMessageType.Completion, invocationId, error: text },
  });
  switch (outcome.kind) {
    case 'response':
      if (outcome.status === 200 && outcome.body.length > 0) return { kind: 'verbatim', body: outcome.body };
      if (outcome.status === 200 || outcome.status === 204) {
        return { kind: 'completion', message: { type: HubMessageType.Completion, invocationId } };
      }
      return error(`Invocation failed, status code ${outcome.status}`);
    case 'unreachable':
    case 'timeout':
      return error('Invocation failed, status code 500');
    case 'too-large':
      return error('Invocation failed, response too large.');
    case 'invalid-call':
    case 'shed':
      return error(`Invocation failed, ${outcome.message}`);
    case 'no-template':
      // Learn's FAQ ("Can I send message from client in serverless mode?"): without upstream endpoints,
      // messages from clients are ignored. With templates that match none, the Completion error is ours.
      if (!upstreamConfigured) return { kind: 'ignored', why: 'no upstream is configured (upstream option)' };
      return error(`Invocation failed, no upstream template matches the invocation '${target}'`);
  }
}
