/**
 * The messages function: the upstream endpoint of the service. The typed dispatcher (src/lib/upstream) checks
 * the caller and parses the event; these handlers map each dialect's entry, command and exit events onto the
 * chat and answer in the caller's dialect (docs/architecture.md, "Two services").
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { ChatErrorPayload, ChatReply } from '../lib/chat/index.js';
import {
  busyError,
  type Caller,
  ChatHandlers,
  type CommandResult,
  chatError,
  commandConversation,
  commandErrorCode,
  Fanout,
  fromServiceUserId,
  isHistoryRead,
  parseCommand,
  parseCommandFrame,
  signalrCodec,
  websocketCodec,
} from '../lib/chat/index.js';
import { DISPLAY_NAME_CLAIM, decodeDisplayNameClaim } from '../lib/display-name.js';
import { HistoryError } from '../lib/history/index.js';
import { ATTRIBUTES, annotateActiveSpan } from '../lib/observability.js';
import type { Dialect } from '../lib/signalr/index.js';
import { createUpstreamHandler, type UpstreamContext, type UpstreamHandlers } from '../lib/upstream/index.js';
import {
  type CommandLimiter,
  type CommandLimits,
  commandLimitsFor,
  typingThrottleFor,
} from './command-limits.js';
import { APP_ERRORS } from './errors.js';
import { authMode } from './identity.js';
import { admitModerator, moderationFor, withRoles } from './moderation.js';
import { type ChatServices, chatServices } from './services.js';

/** Sent as text: a refused connect's reason and a close reason reach the client as they are. */
const NO_USER = APP_ERRORS['no-valid-user'];
const NO_USER_REASON = NO_USER.message;

/**
 * `POST /api/messages`: the upstream endpoint (anonymous at the HTTP level, authenticated by the dispatcher: an
 * Entra bearer token in identity mode, X-ASRS-Signature in key mode).
 */
export async function messages(req: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const services = chatServices();
  let handle = upstreamHandlers.get(services);
  if (handle === undefined) {
    handle = createUpstreamHandler(chatUpstreamHandlers(services), {
      accessKeys: services.accessKeys,
      ...(services.upstreamBearer ? { bearer: services.upstreamBearer } : {}),
      hub: services.hub,
      webPubSubAccessKeys: services.webPubSub.accessKeys,
      webPubSubHosts: services.webPubSub.hosts,
    });
    upstreamHandlers.set(services, handle);
  }
  return handle(req, context);
}

/** The upstream handler per set of services: built once, not per call (services change only with settings). */
const upstreamHandlers = new WeakMap<ChatServices, ReturnType<typeof createUpstreamHandler>>();

/** The chat's upstream handlers for both services. */
function chatUpstreamHandlers(services: ChatServices): UpstreamHandlers {
  /** The chat and its fan-out for one invocation (failures of a delivery are logged to its context). */
  const chatFor = (log: InvocationContext) => {
    const fanout = new Fanout(services, services.dialects, log);
    const chat = new ChatHandlers({
      history: services.history,
      presence: services.presence,
      presenceDeltas: services.presenceDeltas,
      onlinePageSize: services.onlinePageSize,
      members: services.members,
      lists: services.lists,
      people: services.people,
      reads: services.reads,
      joinReads: services.joinReads,
      markedIds: services.markedIds,
      groups: services.groups,
      titles: services.titles,
      fanout,
      typing: typingThrottleFor(services),
      reactions: services.reactions,
      search: services.search,
      moderation: moderationFor(services),
      ...(services.attachments !== undefined ? { attachments: services.attachments } : {}),
      ...(authMode() === 'entra' ? { directory: services.directory } : {}),
    });
    return { chat, fanout };
  };

  /**
   * The caller as the service names it: the user id from `X-ASRS-User-Id` (only ids this app issues), and
   * with sign-in the display name from the token's claim (key mode) or the directory negotiate wrote
   * (identity mode, where the service mints tokens without claims). Never anything the client wrote.
   */
  const callerOf = async (context: UpstreamContext, dialect: Dialect): Promise<Caller | undefined> => {
    const user = fromServiceUserId(context.userId);
    if (user === undefined) return undefined;
    const caller: Caller = { user, connectionId: context.connectionId, dialect };
    if (authMode() !== 'entra') return caller;
    const claim = context.claims[DISPLAY_NAME_CLAIM];
    const name =
      decodeDisplayNameClaim(Array.isArray(claim) ? claim[0] : claim) ??
      (await services.directory.nameOf(user));
    return name !== undefined && name !== user ? { ...caller, name } : caller;
  };

  return {
    async handleConnect(req, res) {
      const caller = await callerOf(req.context, websocketCodec.dialect);
      if (caller === undefined) return res.fail(NO_USER.status, NO_USER_REASON);
      // Roles go into the connection state, which only this answer sets (docs/architecture.md, "Moderation").
      const admitted = await admitModerator(services, caller, req.context);
      if (!admitted.ok) return res.fail(403, admitted.reason);
      if (admitted.state !== undefined) res.setState(admitted.state.name, admitted.state.value);
      // Web PubSub's connect answer carries no message: the chat is entered at `connected`, as in the signalr dialect.
      res.accept(admitted.groups.length > 0 ? { groups: admitted.groups } : {});
    },

    async handleMessage(req, res) {
      const caller = await callerOf(req.context, websocketCodec.dialect);
      if (caller === undefined) return res.fail(NO_USER.status, NO_USER_REASON);
      const { message } = req.event;
      const parsed: CommandResult =
        message.dataType === 'binary'
          ? { ok: false, error: chatError('binary-frame') }
          : parseCommandFrame(message.data);
      const reply = await runCommand(
        chatFor(req.invocationContext).chat,
        await withRoles(services, caller, parsed, req.context),
        parsed,
        req.invocationContext,
        commandLimitsFor(services),
      );
      // The response body goes back to the sender only, as its next frame.
      res.success(reply && !reply.alreadyDelivered ? websocketCodec.encode(reply) : undefined);
    },

    async handleInvocation(req, res) {
      const caller = await callerOf(req.context, signalrCodec.dialect);
      if (caller === undefined) return res.fail(NO_USER.status, NO_USER_REASON);
      const { target, arguments: args, invocationId } = req.event;
      const parsed: CommandResult =
        args.length === 1
          ? parseCommand(target, args[0])
          : {
              ok: false,
              error: chatError('invalid-payload', target.slice(0, 64), 'pass exactly one argument'),
            };
      const log = req.invocationContext;
      const { chat, fanout } = chatFor(log);
      const asker = await withRoles(services, caller, parsed, req.context);
      const reply = await runCommand(chat, asker, parsed, log, commandLimitsFor(services));
      if (invocationId !== undefined) {
        // The client waits for a Completion: the reply is its result (or its error), nothing else is sent.
        if (reply?.event === 'error') return res.fail(400, reply.payload.message);
        return res.success(reply?.payload ?? null);
      }
      if (reply && !reply.alreadyDelivered)
        await fanout.channel(caller.dialect).sendToConnection(caller.connectionId, reply);
      res.success();
    },

    async onConnected(req) {
      // signalr dialect, or a Web PubSub connection (websocket dialect) whose connect was accepted.
      const caller = await callerOf(req.context, req.event.dialect);
      const log = req.invocationContext;
      if (caller === undefined && req.event.dialect === websocketCodec.dialect) {
        log.warn(`Web PubSub connection ${req.context.connectionId} is connected without a valid user`);
        return;
      }
      if (caller === undefined) {
        log.warn(`closing signalr connection ${req.context.connectionId}: no valid user`);
        await services.signalr.closeConnection(req.context.connectionId, { reason: NO_USER_REASON });
        return;
      }
      await services.history.ensureContainer();
      const moderation = await admitModerator(services, caller, req.context);
      if (!moderation.ok) {
        log.warn(`closing connection ${req.context.connectionId}: ${caller.user} is banned`);
        await moderation.close();
        return;
      }
      const { chat, fanout } = chatFor(log);
      const { welcome, announced } = await chat.enter(caller, { connected: true });
      // The welcome first; the invocation ends once the entry's delta is sent too.
      const channel = fanout.channel(caller.dialect);
      await channel.sendToConnection(caller.connectionId, {
        event: 'welcome',
        payload: { ...welcome, moderation: moderation.status },
      });
      // A moderator arriving finds the open reports (docs/architecture.md, "Moderation").
      if (moderation.reports !== undefined)
        await channel.sendToConnection(caller.connectionId, {
          event: 'reports',
          payload: await moderation.reports(),
        });
      await announced;
    },

    async onDisconnected(req) {
      const caller = await callerOf(req.context, req.event.dialect);
      if (caller === undefined) return;
      await services.history.ensureContainer();
      await chatFor(req.invocationContext).chat.leave(caller);
    },
  };
}

/**
 * Runs a parsed command and returns the event for the sender, if any. An unexpected failure (Blob or the
 * service unreachable) is logged with `context.error` and becomes an `internal` error event for the sender:
 * failing the upstream call instead would fail the caller's invocation (SignalR) or drop its answer (Web PubSub).
 * Every error names the conversation its command concerned, when the command named a valid one, so the client
 * shows it there and not in another conversation with a command of the same kind in flight.
 */
async function runCommand(
  chat: ChatHandlers,
  caller: Caller,
  parsed: CommandResult,
  log: InvocationContext,
  limits: CommandLimits,
): Promise<ChatReply | undefined> {
  const reply = await runParsedCommand(chat, caller, parsed, log, limits);
  if (reply?.event !== 'error' || reply.payload.conversation !== undefined) return reply;
  const about = parsed.ok ? { type: parsed.command.type, fields: parsed.command } : parsed.input;
  const conversation = about && commandConversation(about.type, about.fields, caller.user);
  return conversation === undefined ? reply : { ...reply, payload: { ...reply.payload, conversation } };
}

/** {@link runCommand} before the error names its conversation. */
async function runParsedCommand(
  chat: ChatHandlers,
  caller: Caller,
  parsed: CommandResult,
  log: InvocationContext,
  { commands: limits, historyReads }: CommandLimits,
): Promise<ChatReply | undefined> {
  // Every command counts, valid or not, known or not: each one costs an upstream call (a createGroup by its
  // members, a renameGroup by the members whose lists it rewrites, a searchMessages by the messages it may read,
  // a loadHistory and a findPeople by their page). Counted per user, across their connections and every instance.
  const { cost, waitMs } = await limits.charge(parsed.ok ? parsed.command : undefined, caller.user);
  // Past the limit a command that is not valid is refused as rate-limited too, so a client sending unknown
  // commands hears the wait as any other does.
  if (!parsed.ok)
    return {
      event: 'error',
      payload: waitMs > 0 ? rateLimited(limits, waitMs, parsed.error.command) : parsed.error,
    };
  const { command } = parsed;
  annotateActiveSpan({ [ATTRIBUTES.command]: command.type });
  // A refused sendMessage names its clientMessageId, so the sender knows which of its messages to send again.
  const which =
    'clientMessageId' in command && command.clientMessageId !== undefined
      ? { clientMessageId: command.clientMessageId }
      : {};
  if (waitMs > 0) {
    const why = cost > 1 ? limits.weight(command) : undefined;
    const weight = why !== undefined ? `this ${command.type} counts as ${cost} commands, ${why}; ` : '';
    return { event: 'error', payload: { ...rateLimited(limits, waitMs, command.type, weight), ...which } };
  }
  // A search or history page past what this instance reads at once is answered at once, not queued (it has paid).
  const end = isHistoryRead(command) ? historyReads.tryStart() : () => undefined;
  if (end === undefined) return { event: 'error', payload: busyError(command.type, historyReads.max) };
  try {
    return await chat.run(caller, command);
  } catch (error) {
    if (error instanceof HistoryError && command.type === 'loadHistory' && error.code === 'invalid-before') {
      return { event: 'error', payload: chatError('invalid-before', command.type, error.detail) };
    }
    log.error(`${command.type} from ${caller.user} (${caller.connectionId}) failed:`, error);
    const code = commandErrorCode(error);
    return { event: 'error', payload: { ...chatError(code, command.type), ...which } };
  } finally {
    end();
  }
}

/** The `rate-limited` error of a command refused for `waitMs`; `weight` says first why it cost more than one. */
function rateLimited(
  limits: CommandLimiter,
  waitMs: number,
  command: string | undefined,
  weight = '',
): ChatErrorPayload {
  const detail = `${weight}at most ${limits.burst} commands at once and ${limits.perSecond} a second per user, across all of their connections; try again in ${Math.ceil(waitMs / 1000)} s`;
  return { ...chatError('rate-limited', command, detail), retryAfterMs: waitMs };
}
