/**
 * REST messages framed once per hub protocol for all their recipients, not once per recipient
 * (docs/local-service.md, "The SignalR wing").
 */
import type { HubCodec } from '../../../lib/signalr/hub-codec.js';
import { HubMessageType, type HubProtocolName } from '../../../lib/signalr/hub-protocol.js';
import type { OutboundMessage } from '../connections.js';

type InvocationOutbound = Extract<OutboundMessage, { kind: 'invocation' }>;

const frames = new WeakMap<InvocationOutbound, Partial<Record<HubProtocolName, Buffer>>>();

/** The Invocation frame of `message` in `codec`'s protocol: written on first use, then shared. */
export function invocationFrame(message: InvocationOutbound, codec: HubCodec): Buffer {
  let byProtocol = frames.get(message);
  if (byProtocol === undefined) {
    byProtocol = {};
    frames.set(message, byProtocol);
  }
  let frame = byProtocol[codec.name];
  if (frame === undefined) {
    frame = codec.write({
      type: HubMessageType.Invocation,
      target: message.target,
      arguments: message.arguments,
    });
    byProtocol[codec.name] = frame;
  }
  return frame;
}
