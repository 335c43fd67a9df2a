/**
 * REST messages framed once per hub protocol for all their recipients: a broadcast or group send reaches
 * many connections, and serialising it per connection would repeat the same work once per recipient. The
 * frames live as long as the message object does (the registry hands the same object to every recipient).
 */
import type { HubCodec } from '../../lib/signalr/hub-codec.js';
import type { HubProtocolName } from '../../lib/signalr/hub-protocol.js';
import type { OutboundMessage } from './connections.js';

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
    frame = codec.write({ type: 1, target: message.target, arguments: message.arguments });
    byProtocol[codec.name] = frame;
  }
  return frame;
}
