/**
 * What a MessagePack hub message may declare before it is decoded (src/lib/signalr/messagepack-bounds.ts):
 * hostile vectors are refused by what they declare, and valid MessagePack of every format still decodes.
 */
import { ExtData } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { HubMessageType, HubProtocolError } from '../../src/lib/signalr/hub-protocol.js';
import {
  DEFAULT_MAX_MESSAGEPACK_DEPTH,
  parseMessagePackMessages,
  withLengthPrefix,
} from '../../src/lib/signalr/messagepack.js';

function refusal(bytes: Uint8Array, options: { maxDepth?: number } = {}): string {
  try {
    parseMessagePackMessages(bytes, options);
  } catch (error) {
    if (error instanceof HubProtocolError && error.code === 'invalid-message') return error.message;
    throw error;
  }
  throw new Error('expected the message to be refused');
}

const framed = (payload: readonly number[]) => withLengthPrefix(Uint8Array.from(payload));

/** `[1, {}, nil, "m", [argument]]`: an Invocation of `m` with one argument (fixarray 5, fixmap 0, nil, fixstr). */
const invocationOf = (argument: readonly number[]) =>
  framed([0x95, 0x01, 0x80, 0xc0, 0xa1, 0x6d, 0x91, ...argument]);

/** `[3, {}, "1", 3, result]`: a Completion with a result. */
const completionOf = (result: readonly number[]) => framed([0x95, 0x03, 0x80, 0xa1, 0x31, 0x03, ...result]);

/** `levels` fixarrays of one element each, around `inner`: `[[[…inner…]]]`. */
const nested = (levels: number, inner: readonly number[]) => [
  ...new Array<number>(levels).fill(0x91),
  ...inner,
];

function argumentOf(bytes: Uint8Array, options: { maxDepth?: number } = {}): unknown {
  const [message] = parseMessagePackMessages(bytes, options);
  if (message?.type !== HubMessageType.Invocation) throw new Error('expected an Invocation');
  return message.arguments[0];
}

function depthOf(value: unknown): number {
  let depth = 0;
  for (let v = value; Array.isArray(v) && v.length > 0; v = v[0]) depth++;
  return depth;
}

describe('a MessagePack message that declares more than it holds', () => {
  it('refuses 8 000 nested array32 headers declaring 99 999 elements each (40 KB) at the first header', () => {
    const header = [0xdd, 0x00, 0x01, 0x86, 0x9f]; // array32, 99 999 elements
    const payload = new Array<number[]>(8000).fill(header).flat();
    expect(refusal(framed(payload))).toBe(
      'Invalid MessagePack hub message: the array at byte 0 declares 99999 elements but only 39995 bytes follow (an element takes at least one)',
    );
  });

  it('refuses an array, map, str, bin or ext anywhere in the message that declares more than follows it', () => {
    const cases: [number[], string][] = [
      [[0xdc, 0xff, 0xff, 0x01], 'the array at byte 7 declares 65535 elements but only 1 bytes follow'],
      [
        [0xdd, 0xff, 0xff, 0xff, 0xff],
        'the array at byte 7 declares 4294967295 elements but only 0 bytes follow',
      ],
      [[0xde, 0x00, 0x02, 0xa1, 0x61, 0x01], 'the map at byte 7 declares 2 entries but only 3 bytes follow'],
      [
        [0xdf, 0x80, 0x00, 0x00, 0x00],
        'the map at byte 7 declares 2147483648 entries but only 0 bytes follow',
      ],
      [[0xd9, 0x05, 0x61, 0x62], 'the string at byte 7 declares 5 bytes but only 2 follow'],
      [[0xdb, 0xff, 0xff, 0xff, 0xff], 'the string at byte 7 declares 4294967295 bytes but only 0 follow'],
      [[0xc6, 0x00, 0x01, 0x00, 0x00, 0x01], 'the binary at byte 7 declares 65536 bytes but only 1 follow'],
      [[0xc7, 0x05, 0x01, 0x01, 0x02], 'the extension at byte 7 declares 5 bytes but only 2 follow'],
      [[0xd8, 0x01, 0x01, 0x02, 0x03], 'the extension at byte 7 declares 16 bytes but only 3 follow'],
    ];
    for (const [argument, reason] of cases) {
      expect(refusal(invocationOf(argument)), reason).toContain(reason);
    }
  });

  it('refuses nested headers that each fit what follows them but together declare more than the message holds', () => {
    // 100 array16 headers, each declaring as many elements as bytes follow it: every header passes on its own.
    const headers: number[] = [];
    for (let i = 99; i >= 0; i--) headers.push(0xdc, 0x00, i * 3);
    expect(refusal(invocationOf(headers))).toMatch(
      /^Invalid MessagePack hub message: it ends while its arrays and maps still declare \d+ more values$/,
    );
  });

  it('refuses a head cut off by the end of the message, 0xc1 and an empty message', () => {
    expect(refusal(invocationOf([0xcd, 0x01]))).toContain(
      'the value at byte 7 needs 3 bytes but only 2 are left',
    );
    expect(refusal(invocationOf([0xc1]))).toContain('byte 7 is 0xc1, which is no MessagePack type');
    expect(refusal(framed([]))).toContain('the message is empty');
  });
});

describe('how deep arrays and maps may nest', () => {
  it('is 500 by default, as MessagePack-CSharp allows untrusted data', () => {
    expect(DEFAULT_MAX_MESSAGEPACK_DEPTH).toBe(500);
  });

  it('takes 500 levels in one argument (the message array and the arguments array do not count) and refuses 501', () => {
    expect(depthOf(argumentOf(invocationOf(nested(500, [0x2a]))))).toBe(500);
    expect(refusal(invocationOf(nested(501, [0x2a])))).toBe(
      'Invalid MessagePack hub message: the array at byte 507 nests more than 500 arrays and maps deep in one value (maxMessagePackDepth)',
    );
  });

  it('counts maps, even empty ones, but not an empty array, which takes no depth step in MessagePack-CSharp', () => {
    expect(depthOf(argumentOf(invocationOf(nested(500, [0x90]))))).toBe(500);
    expect(refusal(invocationOf(nested(500, [0x80])))).toContain('the map at byte 507 nests more than 500');
    expect(refusal(invocationOf(nested(499, [0x81, 0xa1, 0x6b, 0x91, 0x01])))).toContain(
      'the array at byte 509 nests more than 500',
    );
  });

  it('counts a Completion result from its own level', () => {
    const [taken] = parseMessagePackMessages(completionOf(nested(500, [0x2a])));
    expect(depthOf((taken as { result: unknown }).result)).toBe(500);
    expect(refusal(completionOf(nested(501, [0x2a])))).toContain('nests more than 500');
  });

  it('follows the maxDepth option', () => {
    expect(argumentOf(invocationOf(nested(2, [0x2a])), { maxDepth: 2 })).toEqual([[42]]);
    expect(refusal(invocationOf(nested(3, [0x2a])), { maxDepth: 2 })).toContain('nests more than 2 arrays');
  });

  it('refuses a chunk when any of its messages nests too deep', () => {
    const good = invocationOf([0x2a]);
    const bytes = Uint8Array.from([...good, ...invocationOf(nested(501, [0x2a]))]);
    expect(refusal(bytes)).toContain('nests more than 500');
  });
});

// Valid encodings of every format: kawanet/msgpack-test-suite (dist/msgpack-test-suite.json, the vectors
// msgpack-javascript tests itself with), and for application extension types the msgpack spec's ext formats
// (msgpack/msgpack spec.md, "ext format family").
const hex = (text: string) => text.split('-').map((byte) => Number.parseInt(byte, 16));
const VALID: [unknown, string[]][] = [
  [null, ['c0']],
  [false, ['c2']],
  [true, ['c3']],
  [new Uint8Array([0x00, 0xff]), ['c4-02-00-ff', 'c5-00-02-00-ff', 'c6-00-00-00-02-00-ff']],
  [
    1,
    ['01', 'cc-01', 'cd-00-01', 'ce-00-00-00-01', 'cf-00-00-00-00-00-00-00-01', 'd0-01', 'd1-00-01'].concat([
      'd2-00-00-00-01',
      'd3-00-00-00-00-00-00-00-01',
      'ca-3f-80-00-00',
      'cb-3f-f0-00-00-00-00-00-00',
    ]),
  ],
  [4294967295, ['ce-ff-ff-ff-ff', 'cf-00-00-00-00-ff-ff-ff-ff', 'd3-00-00-00-00-ff-ff-ff-ff']],
  [4294967296, ['cf-00-00-00-01-00-00-00-00', 'd3-00-00-00-01-00-00-00-00', 'cb-41-f0-00-00-00-00-00-00']],
  [-32, ['e0', 'd0-e0', 'd1-ff-e0', 'd2-ff-ff-ff-e0', 'd3-ff-ff-ff-ff-ff-ff-ff-e0', 'ca-c2-00-00-00']],
  [-2147483648, ['d2-80-00-00-00', 'd3-ff-ff-ff-ff-80-00-00-00', 'cb-c1-e0-00-00-00-00-00-00']],
  [-0.5, ['ca-bf-00-00-00', 'cb-bf-e0-00-00-00-00-00-00']],
  ['', ['a0', 'd9-00', 'da-00-00', 'db-00-00-00-00']],
  ['a', ['a1-61', 'd9-01-61', 'da-00-01-61', 'db-00-00-00-01-61']],
  ['🍺', ['a4-f0-9f-8d-ba', 'd9-04-f0-9f-8d-ba']],
  [[], ['90', 'dc-00-00', 'dd-00-00-00-00']],
  [
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
    [
      'dc-00-10-01-02-03-04-05-06-07-08-09-0a-0b-0c-0d-0e-0f-10',
      'dd-00-00-00-10-01-02-03-04-05-06-07-08-09-0a-0b-0c-0d-0e-0f-10',
    ],
  ],
  [{}, ['80', 'de-00-00', 'df-00-00-00-00']],
  [{ a: 'A' }, ['81-a1-61-a1-41', 'de-00-01-a1-61-a1-41', 'df-00-00-00-01-a1-61-a1-41']],
  [[[]], ['91-90', 'dc-00-01-dc-00-00', 'dd-00-00-00-01-dd-00-00-00-00']],
  [{ a: {} }, ['81-a1-61-80', 'de-00-01-a1-61-de-00-00', 'df-00-00-00-01-a1-61-df-00-00-00-00']],
  [new Date(1514862245000), ['d6-ff-5a-4a-f6-a5']],
  [new Date(1514862245678), ['d7-ff-a1-dc-d7-c8-5a-4a-f6-a5']],
  [new Date(-1000), ['c7-0c-ff-00-00-00-00-ff-ff-ff-ff-ff-ff-ff-ff']],
  [new ExtData(1, new Uint8Array([0x2a])), ['d4-01-2a']],
  [new ExtData(1, new Uint8Array(16).fill(7)), [`d8-01-${new Array(16).fill('07').join('-')}`]],
  [
    new ExtData(5, new Uint8Array([1, 2, 3])),
    ['c7-03-05-01-02-03', 'c8-00-03-05-01-02-03', 'c9-00-00-00-03-05-01-02-03'],
  ],
];

describe('valid MessagePack', () => {
  it('decodes every format and length variant of the test suite and the spec as an argument', () => {
    for (const [value, encodings] of VALID) {
      for (const encoding of encodings) {
        expect(argumentOf(invocationOf(hex(encoding))), encoding).toEqual(value);
      }
    }
  });

  it('decodes a message exactly as large as it declares: 1 000 one-byte elements in an array16', () => {
    const elements = new Array<number>(1000).fill(0x01);
    expect(argumentOf(invocationOf([0xdc, 0x03, 0xe8, ...elements]))).toEqual(new Array(1000).fill(1));
  });
});
