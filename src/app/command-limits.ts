/**
 * The app's command and negotiate rate limits (docs/architecture.md, "Fair sharing"), built once per set of
 * services from the settings `CHAT_COMMAND_BURST`, `CHAT_COMMANDS_PER_SECOND`, `CHAT_GROUP_MEMBERS_PER_COMMAND`,
 * `CHAT_SEARCH_SCAN_MESSAGES`, `CHAT_SEARCH_SCAN_BYTES`,
 * `CHAT_NEGOTIATE_PER_MINUTE_PER_USER`, `CHAT_NEGOTIATE_PER_MINUTE_PER_ADDRESS`,
 * `CHAT_UPLOADS_PER_MINUTE_PER_USER`, `CHAT_UPLOADS_PER_MINUTE_PER_ADDRESS` and `CHAT_ATTACHMENT_READS_PER_MINUTE_PER_USER`, and the searches and
 * history pages one instance reads at once (`CHAT_MAX_CONCURRENT_HISTORY_READS`). Commands are counted per
 * user across every connection and instance (a bucket in Blob Storage); negotiates, upload URLs and attachment
 * reads per instance.
 */
import type { HttpRequest } from '@azure/functions';
import {
  type ChatCommand,
  CommandQuota,
  commandCost,
  commandCostReason,
  DEFAULT_SEARCH_BYTES_PER_COMMAND,
  DEFAULT_SEARCH_MESSAGES_PER_COMMAND,
  type SearchOptions,
  TypingThrottle,
} from '../lib/chat/index.js';
import { ConcurrencyLimit } from '../lib/concurrency-limit.js';
import { RateLimiter } from '../lib/rate-limit.js';
import { readPositiveNumber } from '../lib/settings.js';
import type { ChatServices } from './services.js';

/**
 * Commands per user: `charge(command, user)` counts a command (`undefined`: one that did not parse) and resolves
 * to what it counted as and the wait in milliseconds (0 when allowed). A command counts as one, a `createGroup`
 * as one per `CHAT_GROUP_MEMBERS_PER_COMMAND` members, a `searchMessages` as one per
 * `DEFAULT_SEARCH_MESSAGES_PER_COMMAND` lines of `CHAT_SEARCH_SCAN_MESSAGES` or per MiB of `CHAT_SEARCH_SCAN_BYTES`
 * (whichever makes more), and a `renameGroup` of a private
 * group to another title as one per as many members whose lists it rewrites: it pays one before the group's
 * record is read (a user out of commands costs no Blob read), then the rest.
 */
export interface CommandLimiter extends Pick<CommandQuota, 'burst' | 'perSecond'> {
  charge(command: ChatCommand | undefined, user: string): Promise<{ cost: number; waitMs: number }>;
  /** Why a command costs more than one, for the `rate-limited` message (`undefined` when it costs one). */
  weight(command: ChatCommand): string | undefined;
  /** Members of a new group one command pays for. */
  readonly membersPerCommand: number;
}

const commandLimiters = new WeakMap<ChatServices, CommandLimiter>();

export function commandLimiterFor(services: ChatServices): CommandLimiter {
  let limiter = commandLimiters.get(services);
  if (limiter === undefined) {
    const quota = new CommandQuota(services.history.containerClient, {
      burst: readPositiveNumber('commandBurst'),
      perSecond: readPositiveNumber('commandsPerSecond'),
      onStorageError: (error) =>
        console.warn(
          `The shared command limit could not reach Blob Storage (${(error as Error).message}); counting on this instance alone`,
        ),
    });
    const membersPerCommand = readPositiveNumber('groupMembersPerCommand');
    const { search } = services;
    limiter = {
      burst: quota.burst,
      perSecond: quota.perSecond,
      membersPerCommand,
      charge: async (command, user) => {
        if (command?.type !== 'renameGroup') {
          const cost = command === undefined ? 1 : commandCost(command, user, membersPerCommand, search);
          return { cost, waitMs: await quota.take(user, cost) };
        }
        const first = await quota.take(user, 1);
        if (first > 0) return { cost: 1, waitMs: first };
        const members = await renamedMembers(services, command);
        const cost = commandCost(command, user, membersPerCommand, search, members);
        return { cost, waitMs: cost > 1 ? await quota.take(user, cost - 1) : 0 };
      },
      weight: (command) =>
        command.type === 'createGroup'
          ? `one per ${membersPerCommand} members`
          : command.type === 'renameGroup'
            ? `one per ${membersPerCommand} members whose lists it retitles`
            : command.type === 'searchMessages'
              ? searchWeight(search)
              : commandCostReason(command),
    };
    commandLimiters.set(services, limiter);
  }
  return limiter;
}

/** Why a search costs what it does: the scan bound that makes its price (search.ts, `searchCost`). */
function searchWeight({ scanMessages, scanBytes }: SearchOptions): string {
  const byLines = Math.ceil(scanMessages / DEFAULT_SEARCH_MESSAGES_PER_COMMAND);
  const mib = DEFAULT_SEARCH_BYTES_PER_COMMAND / (1024 * 1024);
  return byLines >= Math.ceil(scanBytes / DEFAULT_SEARCH_BYTES_PER_COMMAND)
    ? `one per ${DEFAULT_SEARCH_MESSAGES_PER_COMMAND} of the ${scanMessages} messages it may read`
    : `one per ${mib} MiB of the ${scanBytes} bytes it may read`;
}

/**
 * The members whose lists a `renameGroup` would rewrite: a private group's members when the title is another
 * (channel entries carry no title; a rename to the current title changes nothing); 0 when the record cannot be
 * read (the command then fails on it by itself).
 */
async function renamedMembers(
  services: ChatServices,
  command: Extract<ChatCommand, { type: 'renameGroup' }>,
): Promise<number> {
  const record = await services.groups.records.read(command.group).catch(() => undefined);
  if (record?.kind !== 'private' || record.title === command.title) return 0;
  return record.members.length;
}

const historyReads = new WeakMap<ChatServices, ConcurrencyLimit>();

/**
 * The searches and history pages this instance reads at once (`CHAT_MAX_CONCURRENT_HISTORY_READS`;
 * src/lib/chat/history-reads.ts): past it such a command is answered `busy` at once.
 */
export function historyReadsFor(services: ChatServices): ConcurrencyLimit {
  let limit = historyReads.get(services);
  if (limit === undefined) {
    limit = new ConcurrencyLimit(services.maxConcurrentHistoryReads);
    historyReads.set(services, limit);
  }
  return limit;
}

/** What a command is checked against before it runs: the user's command limit, the instance's history reads. */
export interface CommandLimits {
  readonly commands: CommandLimiter;
  readonly historyReads: ConcurrencyLimit;
}

export function commandLimitsFor(services: ChatServices): CommandLimits {
  return { commands: commandLimiterFor(services), historyReads: historyReadsFor(services) };
}

const typingThrottles = new WeakMap<ChatServices, TypingThrottle>();

/** The `typing` throttle of this instance (docs/architecture.md, "The chat protocol"). */
export function typingThrottleFor(services: ChatServices): TypingThrottle {
  let throttle = typingThrottles.get(services);
  if (throttle === undefined) {
    throttle = new TypingThrottle();
    typingThrottles.set(services, throttle);
  }
  return throttle;
}

export interface NegotiateLimiters {
  readonly user: RateLimiter;
  readonly address: RateLimiter;
}

const negotiateLimiters = new WeakMap<ChatServices, NegotiateLimiters>();

export function negotiateLimitersFor(services: ChatServices): NegotiateLimiters {
  let limiters = negotiateLimiters.get(services);
  if (limiters === undefined) {
    const perMinute = (n: number) => new RateLimiter({ burst: n, perSecond: n / 60 });
    limiters = {
      user: perMinute(readPositiveNumber('negotiatePerMinutePerUser')),
      address: perMinute(readPositiveNumber('negotiatePerMinutePerAddress')),
    };
    negotiateLimiters.set(services, limiters);
  }
  return limiters;
}

const uploadLimiters = new WeakMap<ChatServices, RateLimiter>();

/** Upload URLs per user and minute, on this instance (`CHAT_UPLOADS_PER_MINUTE_PER_USER`; docs/architecture.md, "Attachments"). */
export function uploadLimiterFor(services: ChatServices): RateLimiter {
  let limiter = uploadLimiters.get(services);
  if (limiter === undefined) {
    const n = readPositiveNumber('uploadsPerMinutePerUser');
    limiter = new RateLimiter({ burst: n, perSecond: n / 60 });
    uploadLimiters.set(services, limiter);
  }
  return limiter;
}

const uploadAddressLimiters = new WeakMap<ChatServices, RateLimiter>();

/**
 * Upload URLs per client address and minute, on this instance (`CHAT_UPLOADS_PER_MINUTE_PER_ADDRESS`, the address as
 * {@link clientAddress} tells it; docs/architecture.md, "Attachments"): names cost nothing without sign-in.
 */
export function uploadAddressLimiterFor(services: ChatServices): RateLimiter {
  let limiter = uploadAddressLimiters.get(services);
  if (limiter === undefined) {
    const n = readPositiveNumber('uploadsPerMinutePerAddress');
    limiter = new RateLimiter({ burst: n, perSecond: n / 60 });
    uploadAddressLimiters.set(services, limiter);
  }
  return limiter;
}

/**
 * The client's address as the platform's front end reports it: the last `X-Forwarded-For` entry (the one the
 * nearest proxy added; earlier entries are whatever the client sent), without a port. Without the header (the
 * built-in local host) every caller shares one address.
 */
export function clientAddress(req: HttpRequest): string {
  const forwarded = req.headers.get('x-forwarded-for');
  const last = forwarded?.split(',').at(-1)?.trim() ?? '';
  if (last === '') return 'unknown';
  // `[v6]:port`, `v4:port`, or a bare address.
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(last);
  if (bracketed) return bracketed[1] as string;
  return /^[^:]+:\d+$/.test(last) ? (last.split(':')[0] as string) : last;
}

const attachmentReadLimiters = new WeakMap<ChatServices, RateLimiter>();

/**
 * Attachment reads per user and minute, on this instance (`CHAT_ATTACHMENT_READS_PER_MINUTE_PER_USER`;
 * docs/architecture.md, "Attachments"): each costs a membership check and a Blob HEAD.
 */
export function attachmentReadLimiterFor(services: ChatServices): RateLimiter {
  let limiter = attachmentReadLimiters.get(services);
  if (limiter === undefined) {
    const n = readPositiveNumber('attachmentReadsPerMinutePerUser');
    limiter = new RateLimiter({ burst: n, perSecond: n / 60 });
    attachmentReadLimiters.set(services, limiter);
  }
  return limiter;
}
