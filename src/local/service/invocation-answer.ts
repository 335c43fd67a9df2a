/**
 * What the client receives when the upstream has answered one of its invocations, as Azure SignalR does it
 * (the emulator in Azure/azure-signalr, `src/Microsoft.Azure.SignalR.Emulator/HubEmulator/HttpServerlessMessageHandler.cs`):
 *
 * - 200 with a body: the body, verbatim. It must be a complete framed hub message in the caller's protocol
 *   (the Functions SignalR extension answers with a framed Completion); anything else breaks the client.
 * - 200 without a body, or 204: an empty Completion.
 * - any other status (201 and 202 too): a Completion error `Invocation failed, status code N`.
 * - no answer (unreachable, timed out): the emulator turns every exception into a synthetic 500, so the
 *   error is `Invocation failed, status code 500`.
 * - a body over the service's limit: `Invocation failed, response too large.`
 */
import type { CompletionMessage } from '../../lib/signalr/hub-protocol.js';
import type { UpstreamOutcome } from './upstream.js';

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
    message: { type: 3, invocationId, error: text },
  });
  switch (outcome.kind) {
    case 'response':
      if (outcome.status === 200 && outcome.body.length > 0) return { kind: 'verbatim', body: outcome.body };
      if (outcome.status === 200 || outcome.status === 204) {
        return { kind: 'completion', message: { type: 3, invocationId } };
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
