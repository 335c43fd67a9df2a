import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billedMessages, billedUnits, growthExponent } from '../../bench/billing.js';
import { type BlobCounter, startBlobCounter } from '../../bench/blob-counter.js';
import { blobClass, SIGNALR } from '../../bench/capacity/prices.js';
import { ASSUMPTIONS, type Inputs, model } from '../../bench/capacity.js';
import { bucketName } from '../../src/lib/chat/command-quota.js';
import { type RunningAzurite, startAzurite } from '../../src/local/azurite.js';

describe('billing arithmetic (Azure SignalR: 2 KB units per outbound message, Pings free)', () => {
  it('counts a message of b bytes as ceil(b / 2048) units', () => {
    expect(billedUnits(1)).toBe(1);
    expect(billedUnits(2048)).toBe(1);
    expect(billedUnits(2049)).toBe(2);
    // Microsoft's worked example: a 4 KB message counts twice.
    expect(billedUnits(4096)).toBe(2);
  });

  it('splits a JSON hub-protocol frame into its records, separator included, and leaves Pings out', () => {
    const frame = Buffer.from(
      '{"type":1,"target":"a","arguments":[]}\x1e{"type":6}\x1e{ "type": 6 }\x1e{"type":3}\x1e',
    );
    expect(billedMessages(frame, false, 'signalr')).toEqual([39, 11]);
  });

  it('counts a raw or binary frame as one message of its length', () => {
    expect(billedMessages(Buffer.from('{"type":"presence"}'), false, 'raw')).toEqual([19]);
    expect(billedMessages(Buffer.from([1, 2, 0x1e, 4]), true, 'signalr')).toEqual([4]);
  });

  it('gives growth exponent 1 for a cost linear in the room and 2 for a quadratic one', () => {
    expect(growthExponent(100, 100, 2000, 2000)).toBeCloseTo(1, 10);
    expect(growthExponent(100, 100 ** 2, 500, 500 ** 2)).toBeCloseTo(2, 10);
    expect(growthExponent(100, 0, 500, 10)).toBeNull();
    expect(growthExponent(500, 1, 100, 2)).toBeNull();
  });
});

describe('capacity model', () => {
  const inputs: Inputs = {
    source: 'test',
    run: { date: '2026-11-29', mode: 'full', commit: 'test' },
    joinSize: 100,
    joinUnitsToOthers: 100,
    joinUnitsToJoiner: 1,
    joinBlobByOperation: { PUT: 1, 'GET ?restype=container&comp=list': 2 },
    joinCpuMs: 10,
    exponent: { units: 1, blobs: 0, cpu: 0 },
    messageUnitsPerReceiver: 1,
    messageBlobByOperation: { 'PUT ?comp=appendblock': 1 },
    messageCpuMs: 2,
  };

  it('sizes SignalR by connections and counts messages, joins and Blob transactions per day', () => {
    const row = model(10_000, inputs);
    expect(row.signalrUnits).toBe(10);
    expect(row.messagesPerDay).toBe(10_000 * ASSUMPTIONS.messagesPerUserPerHour * 24);
    expect(row.joinsPerDay).toBe(10_000 * ASSUMPTIONS.joinsPerUserPerDay);
    const deliveries =
      row.messagesPerDay *
      (ASSUMPTIONS.roomShare * 10_000 + (1 - ASSUMPTIONS.roomShare) * ASSUMPTIONS.groupAudience);
    // Joins into a room of 10 000 cost 100× the units measured in a room of 100 (exponent 1).
    const joinUnits = row.joinsPerDay * (100 * 100 + 1);
    expect(row.billedMessagesPerDay).toBeCloseTo(deliveries + row.messagesPerDay + joinUnits, 3);
    expect(row.blobByClass.write).toBe(row.messagesPerDay + row.joinsPerDay);
    expect(row.blobByClass.list).toBe(2 * row.joinsPerDay);
  });

  it('carries a per-join cost that grows with the square of the room to larger rooms', () => {
    const linear = model(10_000, inputs);
    const quadratic = model(10_000, { ...inputs, exponent: { ...inputs.exponent, units: 2 } });
    const joinUnits = (row: typeof linear) =>
      row.billedMessagesPerDay -
      row.messagesPerDay *
        (1 + ASSUMPTIONS.roomShare * 10_000 + (1 - ASSUMPTIONS.roomShare) * ASSUMPTIONS.groupAudience);
    expect(joinUnits(quadratic) / joinUnits(linear)).toBeGreaterThan(90);
  });

  it('needs a second SignalR instance past 100 units', () => {
    expect(model(100_000, inputs).signalrInstances).toBe(1);
    expect(model(100_001, inputs).signalrInstances).toBe(2);
    expect(SIGNALR.connectionsPerUnit.value).toBe(1000);
  });

  it('maps Blob operations to their billing classes', () => {
    expect(blobClass('PUT ?comp=appendblock')).toBe('write');
    expect(blobClass('PUT')).toBe('write');
    expect(blobClass('GET ?restype=container&comp=list')).toBe('list');
    expect(blobClass('GET')).toBe('read');
    expect(blobClass('HEAD')).toBe('other');
    expect(blobClass('DELETE')).toBe('free');
  });
});

describe('Blob transaction counter', () => {
  let azurite: RunningAzurite;
  let counter: BlobCounter;
  beforeAll(async () => {
    azurite = await startAzurite();
    counter = await startBlobCounter(azurite.connectionString);
  });
  afterAll(async () => {
    await counter?.close();
    await azurite?.stop();
  });

  it('forwards every request to Azurite and counts it by operation', async () => {
    const container = BlobServiceClient.fromConnectionString(counter.connectionString).getContainerClient(
      'counted',
    );
    await container.create();
    const blob = container.getAppendBlobClient('a');
    await blob.create();
    await blob.appendBlock('hello', 5);
    await blob.appendBlock('world', 5);
    const text = (await blob.downloadToBuffer()).toString();
    for await (const _ of container.listBlobsFlat()) {
    }
    expect(text).toBe('helloworld');
    const counted = counter.take();
    expect(counted.byOperation).toEqual({
      'PUT ?comp=appendblock': 2,
      'PUT ?restype=container': 1,
      PUT: 1,
      // downloadToBuffer reads the properties, then the content.
      HEAD: 1,
      GET: 1,
      'GET ?restype=container&comp=list': 1,
    });
    expect(counted.total).toBe(7);
    expect(counted.failed).toBe(0);
    expect(counter.take().total).toBe(0);
  });

  it('counts the requests Blob Storage refuses apart, and resets them with the rest', async () => {
    const container = BlobServiceClient.fromConnectionString(counter.connectionString).getContainerClient(
      'refusals',
    );
    await container.create();
    const blob = container.getBlockBlobClient('once');
    await blob.upload('first', 5);
    // A second create-if-absent is refused (409 BlobAlreadyExists), as a conditional write that lost.
    await expect(blob.upload('again', 5, { conditions: { ifNoneMatch: '*' } })).rejects.toMatchObject({
      statusCode: 409,
    });
    const counted = counter.take();
    expect(counted.total).toBe(3);
    expect(counted.failed).toBe(1);
    expect(counter.take()).toEqual({ total: 0, byOperation: {}, failed: 0, commandLimit: 0 });
  });

  it("counts the command limit's bucket requests apart from the rest (the message path)", async () => {
    const container = BlobServiceClient.fromConnectionString(counter.connectionString).getContainerClient(
      'limits',
    );
    await container.create();
    await container.getBlockBlobClient(bucketName('ann')).upload('{}', 2);
    await container.getAppendBlobClient('room/0000000001.jsonl').create();
    const counted = counter.take();
    expect(counted.total).toBe(3);
    expect(counted.commandLimit).toBe(1);
  });
});
