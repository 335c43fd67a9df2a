/**
 * What one MessagePack hub message may declare, checked before it is decoded, so that decoding it costs memory
 * and time linear in its bytes whatever its headers claim.
 *
 * `@msgpack/msgpack` (2.8, and 3.1 alike) allocates `new Array(size)` as soon as it reads an array header and
 * keeps every level alive while it descends: 8 000 nested `array32` headers declaring 99 999 elements each (a
 * 40 KB message) ask for 800 million slots. So every message is walked here first, without allocating, and
 * refused unless it holds all it declares, within a nesting bound. The rules are MessagePack-CSharp's for
 * untrusted data, with which ASP.NET Core SignalR's `MessagePackHubProtocol` (and so Azure SignalR) reads a
 * client's messages (`MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData)`):
 *
 * - an array may declare no more elements than bytes follow its header, a map no more entries than half of
 *   them, a str, bin or ext no more bytes than follow (`MessagePackReader.ReadArrayHeader`, `ReadMapHeader`);
 * - arrays and maps nest at most {@link DEFAULT_MAX_MESSAGEPACK_DEPTH} (500) deep within one value
 *   (`MessagePackSecurity.UntrustedData.MaximumObjectGraphDepth`). As there, the depth is counted within each
 *   argument, Completion result or stream item: the message's own array and an Invocation's arguments array,
 *   which ASP.NET Core reads by hand, do not count, nor does an empty array (it takes no depth step).
 *
 * The whole value is walked, so its element counts add up to at most its length in bytes: what the decoder then
 * allocates is linear in the message.
 */

import { HubMessageType, HubProtocolError } from './hub-protocol.js';

/**
 * Default nesting bound: MessagePack-CSharp's `MessagePackSecurity.UntrustedData.MaximumObjectGraphDepth`
 * (src/MessagePack/MessagePackSecurity.cs), which ASP.NET Core SignalR applies to hub message arguments.
 */
export const DEFAULT_MAX_MESSAGEPACK_DEPTH = 500;

/** The hub message types whose element 4 is the arguments array (`[type, headers, id, target, arguments]`). */
const WITH_ARGUMENTS: ReadonlySet<number> = new Set([
  HubMessageType.Invocation,
  HubMessageType.StreamInvocation,
]);
const ARGUMENTS_INDEX = 4;

type HeadKind = 'scalar' | 'string' | 'binary' | 'extension' | 'array' | 'map';

/** One value's head: its kind, the bytes of its header, and what the header declares (elements or bytes). */
interface Head {
  readonly kind: HeadKind;
  readonly header: number;
  readonly declared: number;
}

/**
 * Checks one hub message (the MessagePack value without its length prefix) against the rules above. Throws a
 * {@link HubProtocolError} (`invalid-message`) that names the offending byte and what it declared.
 */
export function checkMessagePackBounds(message: Uint8Array, maxDepth = DEFAULT_MAX_MESSAGEPACK_DEPTH): void {
  const end = message.byteLength;
  if (end === 0) throw refused('the message is empty; it must be a MessagePack array');
  const view = new DataView(message.buffer, message.byteOffset, end);
  // The open arrays and maps, innermost last: values still to read in each, and whether it counts as depth.
  const left: number[] = [];
  const counts: boolean[] = [];
  let depth = 0;
  let pos = 0;
  let index = -1; // of the value being read in the message's own array
  let messageType: number | undefined;
  do {
    if (pos >= end) {
      const missing = left.reduce((sum, n) => sum + n, 0);
      throw refused(`it ends while its arrays and maps still declare ${missing} more values`);
    }
    const parent = left.length - 1;
    if (parent >= 0) left[parent] = (left[parent] as number) - 1;
    if (parent === 0) index++;
    const at = pos;
    const head = readHead(message, view, at);
    const after = at + head.header;
    const room = end - after;
    switch (head.kind) {
      case 'scalar':
        if (parent === 0 && index === 0) messageType = integerAt(message, view, at);
        pos = after;
        break;
      case 'string':
      case 'binary':
      case 'extension':
        if (head.declared > room) {
          throw refused(
            `the ${head.kind} at byte ${at} declares ${head.declared} bytes but only ${room} follow`,
          );
        }
        pos = after + head.declared;
        break;
      case 'array':
      case 'map': {
        const values = head.kind === 'map' ? head.declared * 2 : head.declared;
        if (values > room) {
          throw refused(
            head.kind === 'map'
              ? `the map at byte ${at} declares ${head.declared} entries but only ${room} bytes follow (an entry takes at least two)`
              : `the array at byte ${at} declares ${head.declared} elements but only ${room} bytes follow (an element takes at least one)`,
          );
        }
        const isArguments =
          parent === 0 &&
          index === ARGUMENTS_INDEX &&
          head.kind === 'array' &&
          messageType !== undefined &&
          WITH_ARGUMENTS.has(messageType);
        // ASP.NET Core takes a depth step for every map and every non-empty array inside a value.
        const counted = parent >= 0 && !isArguments && (head.kind === 'map' || values > 0);
        if (counted && depth >= maxDepth) {
          throw refused(
            `the ${head.kind} at byte ${at} nests more than ${maxDepth} arrays and maps deep in one value (maxMessagePackDepth)`,
          );
        }
        pos = after;
        if (values > 0) {
          left.push(values);
          counts.push(counted);
          if (counted) depth++;
        }
        break;
      }
    }
    while (left.length > 0 && left[left.length - 1] === 0) {
      left.pop();
      if (counts.pop()) depth--;
    }
  } while (left.length > 0);
}

/** Reads the head of the value at `at`; throws when the head itself is cut off or is no MessagePack type. */
function readHead(bytes: Uint8Array, view: DataView, at: number): Head {
  const code = bytes[at] as number;
  // Fixed formats of the spec (msgpack/msgpack spec.md, "Overview"): the type and its size in the first byte.
  if (code <= 0x7f || code >= 0xe0 || code === 0xc0 || code === 0xc2 || code === 0xc3) {
    return { kind: 'scalar', header: 1, declared: 0 };
  }
  if (code <= 0x8f) return { kind: 'map', header: 1, declared: code & 0x0f };
  if (code <= 0x9f) return { kind: 'array', header: 1, declared: code & 0x0f };
  if (code <= 0xbf) return { kind: 'string', header: 1, declared: code & 0x1f };
  const sized = (kind: HeadKind, lengthBytes: 1 | 2 | 4, typeByte = 0): Head => {
    const header = 1 + lengthBytes + typeByte;
    available(bytes, at, header);
    const declared =
      lengthBytes === 1
        ? view.getUint8(at + 1)
        : lengthBytes === 2
          ? view.getUint16(at + 1)
          : view.getUint32(at + 1);
    return { kind, header, declared };
  };
  const fixed = (size: number): Head => {
    available(bytes, at, size);
    return { kind: 'scalar', header: size, declared: 0 };
  };
  const fixext = (size: number): Head => {
    available(bytes, at, 2);
    return { kind: 'extension', header: 2, declared: size };
  };
  switch (code) {
    case 0xc4:
      return sized('binary', 1);
    case 0xc5:
      return sized('binary', 2);
    case 0xc6:
      return sized('binary', 4);
    case 0xc7:
      return sized('extension', 1, 1);
    case 0xc8:
      return sized('extension', 2, 1);
    case 0xc9:
      return sized('extension', 4, 1);
    case 0xca: // float 32
    case 0xce: // uint 32
    case 0xd2: // int 32
      return fixed(5);
    case 0xcb: // float 64
    case 0xcf: // uint 64
    case 0xd3: // int 64
      return fixed(9);
    case 0xcc: // uint 8
    case 0xd0: // int 8
      return fixed(2);
    case 0xcd: // uint 16
    case 0xd1: // int 16
      return fixed(3);
    case 0xd4:
      return fixext(1);
    case 0xd5:
      return fixext(2);
    case 0xd6:
      return fixext(4);
    case 0xd7:
      return fixext(8);
    case 0xd8:
      return fixext(16);
    case 0xd9:
      return sized('string', 1);
    case 0xda:
      return sized('string', 2);
    case 0xdb:
      return sized('string', 4);
    case 0xdc:
      return sized('array', 2);
    case 0xdd:
      return sized('array', 4);
    case 0xde:
      return sized('map', 2);
    case 0xdf:
      return sized('map', 4);
    default: // 0xc1, which the spec reserves as "never used"
      throw refused(`byte ${at} is 0x${code.toString(16)}, which is no MessagePack type`);
  }
}

function available(bytes: Uint8Array, at: number, size: number): void {
  if (at + size > bytes.byteLength) {
    throw refused(`the value at byte ${at} needs ${size} bytes but only ${bytes.byteLength - at} are left`);
  }
}

/** The integer at `at`, if the value there is one (any of the int formats); the message type is read so. */
function integerAt(bytes: Uint8Array, view: DataView, at: number): number | undefined {
  const code = bytes[at] as number;
  if (code <= 0x7f) return code;
  if (code >= 0xe0) return code - 0x100;
  switch (code) {
    case 0xcc:
      return view.getUint8(at + 1);
    case 0xcd:
      return view.getUint16(at + 1);
    case 0xce:
      return view.getUint32(at + 1);
    case 0xcf:
      return Number(view.getBigUint64(at + 1));
    case 0xd0:
      return view.getInt8(at + 1);
    case 0xd1:
      return view.getInt16(at + 1);
    case 0xd2:
      return view.getInt32(at + 1);
    case 0xd3:
      return Number(view.getBigInt64(at + 1));
    default:
      return undefined;
  }
}

function refused(detail: string): HubProtocolError {
  return new HubProtocolError('invalid-message', `Invalid MessagePack hub message: ${detail}`);
}
