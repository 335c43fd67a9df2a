/**
 * The operations the 2023-07-01 and 2024-12-01 specs add to the SignalR wing's REST API: `:execute`, client
 * invocations with results (`:invoke`), streams to a connection, and listing a group's connections
 * (docs/local-service.md, "The REST API").
 */
import { HubMessageType } from '../../../../lib/signalr/hub-protocol.js';
import type { OutboundMessage, RegisteredConnection } from '../../connections.js';
import { CloseCode, Rejection } from '../../errors.js';
import { parseFilter } from '../../rest/odata-filter.js';
import { invokeClient } from '../client-results.js';
import { SignalRSession } from '../session.js';
import { type ApiCall, p, payloadOf, property, readJsonBody, readPayload, reason } from './api-call.js';

/** What an operation answers besides its status: a JSON body. */
export interface JsonAnswer {
  readonly json: unknown;
}

/** The live SignalR session of a connection id, if it is one of this hub's. */
function session(call: ApiCall): SignalRSession | undefined {
  const connection = call.registry.connection(p(call, 'connectionId'));
  return connection instanceof SignalRSession ? connection : undefined;
}

/**
 * `POST …/connections/{id}/:invoke` (2024-12-01): the payload goes to the client as an Invocation with an id;
 * its Completion answers 200 `{"result": …}` (ClientInvocationResponse). A Completion error is a 502 carrying
 * the client's text, no answer within `clientInvocationTimeoutMs` a 504; no such connection is the 404.
 */
export async function invoke(call: ApiCall): Promise<JsonAnswer | false> {
  const message = await readPayload(call);
  const target = session(call);
  if (!target || message.kind !== 'invocation') return false;
  const answer = await invokeClient(
    target,
    message.target,
    message.arguments,
    call.ctx.options.clientInvocationTimeoutMs,
  );
  if (answer.kind === 'error') {
    throw new Rejection('client-invocation-failed', `The client answered with an error: ${answer.error}`);
  }
  if (answer.kind === 'gone') throw new Rejection('client-invocation-timeout', answer.reason);
  return { json: { result: answer.result } };
}

/**
 * `POST …/connections/{id}/streams/{streamId}/:send?completed=` (2024-12-01): the JSON body is one item of the
 * stream (a StreamItem with the stream id as its invocation id); `completed=true` ends the stream after it.
 */
export async function sendStreamItem(call: ApiCall): Promise<true> {
  const item = await readJsonBody(call, 'send the stream item as JSON', 'The stream item is required');
  const completed = call.url.searchParams.get('completed');
  if (completed !== null && completed !== 'true' && completed !== 'false') {
    throw new Rejection('invalid-request', `completed must be true or false, not "${completed}"`);
  }
  const invocationId = p(call, 'streamId');
  const target = session(call);
  target?.writeMessage({ type: HubMessageType.StreamItem, invocationId, item });
  if (completed === 'true') target?.writeMessage({ type: HubMessageType.Completion, invocationId });
  return true;
}

/** `POST …/streams/{streamId}/:complete?reason=` (2024-12-01): the stream's Completion, an error when `reason` is given. */
export function completeStream(call: ApiCall): true {
  const why = reason(call);
  session(call)?.writeMessage({
    type: HubMessageType.Completion,
    invocationId: p(call, 'streamId'),
    ...(why ? { error: why } : {}),
  });
  return true;
}

/** The page size of `ListConnectionsInGroup`: the spec's default and maximum. */
const MAX_PAGE_SIZE = 200;

/**
 * `GET …/groups/{group}/connections?maxpagesize=&top=&continuationToken=` (2024-12-01): `GroupMemberPagedValues`,
 * ordered by connection id; `nextLink` carries the last id of the page as the continuation token.
 */
export function listGroupConnections(call: ApiCall): JsonAnswer {
  const query = call.url.searchParams;
  const pageSize = boundedInt(query.get('maxpagesize'), 'maxpagesize', 1, MAX_PAGE_SIZE) ?? MAX_PAGE_SIZE;
  const top = boundedInt(query.get('top'), 'top', 1, 2_147_483_647);
  const after = query.get('continuationToken') ?? '';
  const members = [...call.registry.groupMembers(p(call, 'group'))]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .filter((connection) => connection.id > after);
  // `top` counts from the first page: later pages carry what is left of it.
  const limit = top === undefined ? pageSize : Math.min(pageSize, top);
  const page = members.slice(0, limit);
  const value = page.map((c) => ({
    connectionId: c.id,
    ...(c.userId === undefined ? {} : { userId: c.userId }),
  }));
  const remaining = top === undefined ? undefined : top - page.length;
  const last = page.at(-1);
  if (last === undefined || members.length <= page.length || remaining === 0) return { json: { value } };
  // An absolute URL on the service's public endpoint, as the spec's `nextLink` is.
  const next = new URL(`${call.url.pathname}${call.url.search}`, call.ctx.endpoint());
  next.searchParams.set('continuationToken', last.id);
  if (remaining !== undefined) next.searchParams.set('top', String(remaining));
  return { json: { value, nextLink: next.toString() } };
}

function boundedInt(value: string | null, name: string, min: number, max: number): number | undefined {
  if (value === null) return undefined;
  const n = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max))
    throw new Rejection('invalid-request', `${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/** One command of `:execute`. */
type Command =
  | { readonly type: 'SendMessage'; readonly message: OutboundMessage }
  | { readonly type: 'JoinGroup' | 'LeaveGroup'; readonly group: string }
  | { readonly type: 'CloseConnection'; readonly reason: string };

const COMMANDS_USAGE =
  'send [{"type":"SendMessage","message":{"target":"…","arguments":[]}}, {"type":"JoinGroup","group":"…"}, {"type":"LeaveGroup","group":"…"}, {"type":"CloseConnection","reason":"…"}]';

/** Reads and checks every command before any runs (the spec runs them "in transaction"). */
function commandsOf(value: unknown): Command[] {
  if (!Array.isArray(value))
    throw new Rejection('invalid-request', `The body must be an array of commands: ${COMMANDS_USAGE}`);
  return value.map((item, i): Command => {
    const where = `command ${i}'s `;
    if (typeof item !== 'object' || item === null) {
      throw new Rejection('invalid-request', `${where}value is not an object: ${COMMANDS_USAGE}`);
    }
    const type = property(item, 'type');
    switch (type) {
      case 'SendMessage': {
        const message = property(item, 'message');
        if (typeof message !== 'object' || message === null) {
          throw new Rejection('invalid-request', `${where}"message" must be a PayloadMessage object`);
        }
        return { type, message: payloadOf(message, `${where}message `) };
      }
      case 'JoinGroup':
      case 'LeaveGroup': {
        const group = property(item, 'group');
        if (typeof group !== 'string' || group.length < 1 || group.length > 1024) {
          throw new Rejection('invalid-request', `${where}"group" must be 1 to 1024 characters`);
        }
        return { type, group };
      }
      case 'CloseConnection': {
        const why = property(item, 'reason');
        if (why !== undefined && why !== null && typeof why !== 'string') {
          throw new Rejection('invalid-request', `${where}"reason" must be a string`);
        }
        return { type, reason: why ?? '' };
      }
      default:
        throw new Rejection(
          'invalid-request',
          `${where}"type" must be SendMessage, JoinGroup, LeaveGroup or CloseConnection, not ${JSON.stringify(type)}`,
        );
    }
  });
}

/**
 * `POST /api/hubs/{hub}/:execute?filter=` (2023-07-01): the commands, in order, on every connection of the hub
 * the OData `filter` selects (all without one); nothing runs when any command or the filter is invalid.
 */
export async function execute(call: ApiCall): Promise<true> {
  const source = call.url.searchParams.get('filter');
  const filter = source === null ? undefined : parseFilter(source);
  const commands = commandsOf(await readJsonBody(call, COMMANDS_USAGE, 'The commands are required'));
  const registry = call.registry;
  const selected = [...registry.all()].filter(
    (c) => !filter || filter({ connectionId: c.id, userId: c.userId, groups: new Set(registry.groupsOf(c)) }),
  );
  for (const command of commands) for (const connection of selected) run(call, command, connection);
  return true;
}

function run(call: ApiCall, command: Command, connection: RegisteredConnection): void {
  switch (command.type) {
    case 'SendMessage':
      connection.deliver(command.message);
      return;
    case 'JoinGroup':
      call.registry.addConnectionToGroup(command.group, connection.id);
      return;
    case 'LeaveGroup':
      call.registry.removeConnectionFromGroup(command.group, connection.id);
      return;
    case 'CloseConnection':
      connection.close(CloseCode.Normal, command.reason, true);
      return;
  }
}
