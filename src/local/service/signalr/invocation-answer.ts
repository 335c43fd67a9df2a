/**
 * What the client receives when the upstream has answered one of its invocations, as Azure SignalR does it
 * (docs/local-service.md, "The SignalR wing").
 */
import { type CompletionMessage, HubMessageType } from '../../../lib/signalr/hub-protocol.js';
import type { UpstreamOutcome } from '../upstream/call.js';

/** Either bytes to write to the client as they are, or a Completion to frame in the client's protocol. */
export type InvocationAnswer =
  | { readonly kind: 'verbatim'; readonly body: Buffer }
  | { readonly kind: 'completion'; readonly message: CompletionMessage };

/** The answer to invocation `invocationId` of `target` once the upstream call ended with `outcome`. */
export function invocationAnswer(
  invocationId: string,
  target: string,
  outcome: UpstreamOutcome,
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
      // Not an Azure text: Azure needs an upstream for the hub to accept invocations at all.
      return error(`Invocation failed, no upstream template matches the invocation '${target}'`);
  }
}
