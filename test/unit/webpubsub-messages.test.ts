import { describe, expect, it } from 'vitest';
import {
  ackMessage,
  ClientMessageError,
  connectedMessage,
  dataField,
  dataTypeOfContentType,
  parseClientMessage,
} from '../../src/local/service/webpubsub/messages.js';

describe("the JSON subprotocols' messages", () => {
  // The examples of Learn's "Azure Web PubSub supported JSON WebSocket subprotocol" and "Create reliable
  // WebSocket clients".
  it('reads the examples Learn gives for each client message', () => {
    expect(parseClientMessage('{"type":"joinGroup","group":"group1","ackId":1}')).toEqual({
      type: 'joinGroup',
      group: 'group1',
      ackId: 1,
    });
    expect(parseClientMessage('{"type":"leaveGroup","group":"group1"}')).toEqual({
      type: 'leaveGroup',
      group: 'group1',
    });
    const text = parseClientMessage(
      '{"type":"sendToGroup","group":"group1","dataType":"text","data":"text data","ackId":1}',
    );
    expect(text).toMatchObject({ type: 'sendToGroup', noEcho: false, dataType: 'text', ackId: 1 });
    expect(text.type === 'sendToGroup' && text.data.toString()).toBe('text data');
    const json = parseClientMessage(
      '{"type":"event","event":"event1","dataType":"json","data":{"hello":"world"},"ackId":2}',
    );
    expect(json.type === 'event' && json.data.toString()).toBe('{"hello":"world"}');
    const binary = parseClientMessage(
      '{"type":"sendToGroup","group":"g","noEcho":true,"dataType":"binary","data":"AQID"}',
    );
    expect(binary.type === 'sendToGroup' && [...binary.data]).toEqual([1, 2, 3]);
    expect(binary).toMatchObject({ noEcho: true });
    expect(parseClientMessage('{"type":"sequenceAck","sequenceId":1}')).toEqual({
      type: 'sequenceAck',
      sequenceId: 1,
    });
  });

  it('refuses what it cannot read, keeping the ack id so the client gets an InvalidRequest ack', () => {
    expect(() => parseClientMessage('not json')).toThrow(ClientMessageError);
    expect(() => parseClientMessage('[]')).toThrow('must be a JSON object');
    const error = (() => {
      try {
        parseClientMessage('{"type":"joinGroup","ackId":7}');
      } catch (e) {
        return e as ClientMessageError;
      }
      return undefined;
    })();
    expect(error?.ackId).toBe(7);
    expect(error?.message).toContain('"group"');
    expect(() => parseClientMessage('{"type":"event","event":"e","dataType":"xml","data":""}')).toThrow(
      'dataType',
    );
    expect(() => parseClientMessage('{"type":"joinGroup","group":"g","ackId":-1}')).toThrow('ackId');
    expect(() => parseClientMessage('{"type":"shout"}')).toThrow('Unknown message type');
  });

  it("writes Learn's ack, connected and data shapes", () => {
    expect(JSON.parse(ackMessage(1))).toEqual({ type: 'ack', ackId: 1, success: true });
    expect(
      JSON.parse(ackMessage(1, { name: 'Duplicate', message: 'Message with ack-id: 1 has been processed' })),
    ).toEqual({
      type: 'ack',
      ackId: 1,
      success: false,
      error: { name: 'Duplicate', message: 'Message with ack-id: 1 has been processed' },
    });
    expect(JSON.parse(connectedMessage('c1', 'u1', 'tok'))).toEqual({
      type: 'system',
      event: 'connected',
      userId: 'u1',
      connectionId: 'c1',
      reconnectionToken: 'tok',
    });
    expect(dataField('binary', Buffer.from([1, 2, 3]))).toBe('AQID');
    expect(dataField('json', Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect(dataField('text', Buffer.from('hi'))).toBe('hi');
    expect(dataTypeOfContentType('application/json; charset=utf-8')).toBe('json');
    expect(dataTypeOfContentType('text/plain')).toBe('text');
    expect(dataTypeOfContentType('application/octet-stream')).toBe('binary');
  });
});
