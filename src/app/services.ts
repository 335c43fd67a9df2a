/**
 * The chat's connections to the outside (the REST APIs of Azure SignalR and Azure Web PubSub, Blob Storage), built once per
 * process from the app settings and rebuilt when those settings change (the built-in host of tests points
 * one process at several stacks in turn). Nothing here holds chat state: that lives in the service and Blob.
 * See docs/architecture.md, "Layers".
 */

import type { WebPubSubServiceClient } from '@azure/web-pubsub';
import { type AttachmentStore, attachmentStoreFromSettings } from '../lib/attachments/index.js';
import {
  type ChatChannel,
  JoinReads,
  type ListedTitles,
  MAX_CONCURRENT_HISTORY_READS_CEILING,
  MAX_ONLINE_PAGE_SIZE,
  MAX_SEARCH_SCAN_BYTES,
  MAX_SEARCH_SCAN_MESSAGES,
  MarkedIds,
  MembershipStore,
  PresenceDeltas,
  PresenceStore,
  ReadPositionStore,
  type SearchOptions,
  TitledGroupRecordStore,
  UserDirectory,
  webPubSubChannel,
} from '../lib/chat/index.js';
import {
  ChannelDirectory,
  ConversationListStore,
  GROUP_LIMIT_CEILINGS,
  GroupCreationStore,
  type GroupLimits,
  type GroupRecordStore,
  PeopleDirectory,
} from '../lib/conversations/index.js';
import {
  createHistoryStoreFromSettings,
  type HistoryStore,
  REACTION_LIMIT_CEILINGS,
  type ReactionOptions,
} from '../lib/history/index.js';
import { readSetting, SETTINGS, type SettingKey } from '../lib/settings.js';
import {
  type Dialect,
  type HubClient,
  hubClientFromSettings,
  isDialect,
  signalRConfigFromSettings,
  signalRConfigured,
  upstreamAuthFromSettings,
} from '../lib/signalr/index.js';
import type { UpstreamBearerCheck } from '../lib/upstream/index.js';
import { UNCONFIGURED_BEARER_CHECK, UpstreamTokenValidator } from '../lib/upstream/index.js';
import { type WebPubSubService, webPubSubService } from '../lib/webpubsub/index.js';

export interface ChatServices {
  /** Azure SignalR's REST client: it reaches the signalr dialect's (hub-protocol) clients. */
  readonly signalr: HubClient;
  /** The dialects fan-out delivers to (`CHAT_DIALECTS`); `websocket` only with Web PubSub configured. */
  readonly dialects: readonly Dialect[];
  /** Keys that verify `X-ASRS-Signature` (key mode). */
  readonly accessKeys: readonly string[];
  /** Identity mode: the check of upstream calls' bearer tokens (keys fetched once per process and cached). */
  readonly upstreamBearer: UpstreamBearerCheck | undefined;
  readonly hub: string;
  readonly history: HistoryStore;
  /** Files and images (docs/architecture.md, "Attachments"); `undefined` with CHAT_ATTACHMENTS_STORAGE=off. */
  readonly attachments: AttachmentStore | undefined;
  readonly presence: PresenceStore;
  /** Coalesces this process's presence changes into one `presence` delta per window. */
  readonly presenceDeltas: PresenceDeltas;
  /** Users in the welcome's page of the online list. */
  readonly onlinePageSize: number;
  readonly members: MembershipStore;
  /** Display names of signed-in users (recorded at negotiate). */
  readonly directory: UserDirectory;
  /** Each user's list of private conversations and groups. */
  readonly lists: ConversationListStore;
  /** Everyone who has used the chat, searchable by name. */
  readonly people: PeopleDirectory;
  /** Each user's last-read positions, their writes coalesced in this process (docs/architecture.md, "Read state"). */
  readonly reads: ReadPositionStore;
  /** History reads of concurrent joins, shared (src/lib/chat/reading/join-reads.ts). */
  readonly joinReads: JoinReads;
  /** The ids `markRead` found stored, remembered (src/lib/chat/reading/marked-ids.ts). */
  readonly markedIds: MarkedIds;
  /** The titles and kinds of group records the welcome shows, kept a short while (src/lib/chat/groups/listed-titles.ts). */
  readonly titles: ListedTitles;
  /** Private groups' and channels' records, the channel directory, and their limits (`CHAT_MAX_GROUP_…`). */
  readonly groups: GroupLimits & {
    readonly records: GroupRecordStore;
    readonly channels: ChannelDirectory;
    readonly creations: GroupCreationStore;
  };
  /** Distinct reactions shown per message and a reply's quote length (`CHAT_MAX_REACTIONS_PER_MESSAGE`, …). */
  readonly reactions: ReactionLimits;
  /**
   * Lines and bytes one `searchMessages` reads at most (`CHAT_SEARCH_SCAN_MESSAGES`, `CHAT_SEARCH_SCAN_BYTES`;
   * docs/architecture.md, "Message search").
   */
  readonly search: SearchOptions;
  /** Searches and history pages one instance reads at once (`CHAT_MAX_CONCURRENT_HISTORY_READS`). */
  readonly maxConcurrentHistoryReads: number;
  /** REALTIME_SERVICE=webpubsub: the Web PubSub channel, which then carries the websocket dialect. */
  readonly webPubSubChannel: ChatChannel | undefined;
  /**
   * Keys that verify `ce-signature`, the hosts whose abuse-protection handshake is answered, and with
   * REALTIME_SERVICE=webpubsub the service's client (client tokens for negotiate).
   */
  readonly webPubSub: Pick<WebPubSubService, 'accessKeys' | 'hosts' | 'clientToken'> & {
    readonly client: WebPubSubServiceClient | undefined;
  };
}

// Every app setting can change what the clients are (tests point one process at several stacks in turn).
const KEYS = Object.keys(SETTINGS) as SettingKey[];

let cached: { key: string; value: ChatServices } | undefined;

/** The chat's clients for the current settings (throws an error naming a missing or invalid setting). */
export function chatServices(env: NodeJS.ProcessEnv = process.env): ChatServices {
  const key = KEYS.map((k) => env[SETTINGS[k].name] ?? '').join('\n');
  if (cached?.key === key) return cached.value;
  // Web PubSub alone (REALTIME_SERVICE=webpubsub and no SignalR settings, as `azd up` deploys it): no SignalR client
  // exists, and reading one throws the error that names the missing setting.
  const config = webPubSubOnly(env) ? undefined : signalRConfigFromSettings(env);
  const hub = config?.hub ?? readSetting('hubName', env) ?? 'chat';
  const history = createHistoryStoreFromSettings(env);
  const containerClient = history.containerClient;
  const webPubSub = webPubSubFromSettings(env, hub);
  const upstream = config ?? upstreamAuthFromSettings(env, webPubSub?.accessKeys.length ? 'key' : 'identity');
  const signalr = config ? hubClientFromSettings(env) : undefined;
  const records = new TitledGroupRecordStore(containerClient, {
    writeAttempts: countSetting('groupWriteAttempts', GROUP_LIMIT_CEILINGS.writeAttempts, env),
    titles: { ttlMs: numberSetting('listedTitleTtlMs', env) },
  });
  const value: ChatServices = {
    webPubSubChannel: webPubSub ? webPubSubChannel(webPubSub.client, webPubSub.sender) : undefined,
    webPubSub: {
      accessKeys: webPubSub?.accessKeys ?? [],
      hosts: webPubSub?.hosts ?? [],
      client: webPubSub?.client,
      ...(webPubSub?.clientToken !== undefined ? { clientToken: webPubSub.clientToken } : {}),
    },
    get signalr() {
      return signalr ?? hubClientFromSettings(env);
    },
    dialects: dialectsSetting(env, webPubSub !== undefined),
    accessKeys: config?.accessKeys ?? [],
    upstreamBearer: upstream.auth === 'identity' ? bearerCheck(upstream.upstreamToken) : undefined,
    hub,
    history,
    attachments: attachmentStoreFromSettings(env),
    presence: new PresenceStore(containerClient, {
      staleGraceMs: numberSetting('presenceStaleGraceMs', env),
    }),
    presenceDeltas: new PresenceDeltas({ windowMs: numberSetting('presenceWindowMs', env) }),
    onlinePageSize: onlinePageSize(env),
    members: new MembershipStore(containerClient),
    directory: new UserDirectory(containerClient),
    lists: new ConversationListStore(containerClient),
    people: new PeopleDirectory(containerClient),
    reads: new ReadPositionStore(containerClient),
    joinReads: new JoinReads(history),
    markedIds: new MarkedIds(history),
    titles: records.titles,
    groups: {
      records,
      channels: new ChannelDirectory(containerClient),
      creations: new GroupCreationStore(containerClient, {
        writeAttempts: countSetting('groupWriteAttempts', GROUP_LIMIT_CEILINGS.writeAttempts, env),
      }),
      maxMembers: countSetting('maxGroupMembers', GROUP_LIMIT_CEILINGS.maxMembers, env),
      maxOwners: countSetting('maxGroupOwners', GROUP_LIMIT_CEILINGS.maxOwners, env),
      maxGroupsPerUser: countSetting('maxGroupsPerUser', GROUP_LIMIT_CEILINGS.maxGroupsPerUser, env),
      maxAddedGroupsPerUser: countSetting(
        'maxAddedGroupsPerUser',
        GROUP_LIMIT_CEILINGS.maxAddedGroupsPerUser,
        env,
      ),
      maxGroupsAddedByOneUser: countSetting(
        'maxGroupsAddedByOneUser',
        GROUP_LIMIT_CEILINGS.maxGroupsAddedByOneUser,
        env,
      ),
      maxGroupsCreatedPerDay: countSetting(
        'maxGroupsCreatedPerDay',
        GROUP_LIMIT_CEILINGS.maxGroupsCreatedPerDay,
        env,
      ),
      maxTitleLength: countSetting('maxGroupTitleLength', GROUP_LIMIT_CEILINGS.maxTitleLength, env),
      maxTopicLength: countSetting('maxGroupTopicLength', GROUP_LIMIT_CEILINGS.maxTopicLength, env),
    },
    reactions: reactionLimitsFromSettings(env),
    search: {
      scanMessages: countSetting('searchScanMessages', MAX_SEARCH_SCAN_MESSAGES, env),
      scanBytes: countSetting('searchScanBytes', MAX_SEARCH_SCAN_BYTES, env),
    },
    maxConcurrentHistoryReads: countSetting(
      'maxConcurrentHistoryReads',
      MAX_CONCURRENT_HISTORY_READS_CEILING,
      env,
    ),
  };
  cached = { key, value };
  return value;
}

/** REALTIME_SERVICE=webpubsub with no SignalR service configured: Web PubSub carries the whole chat. */
function webPubSubOnly(env: NodeJS.ProcessEnv): boolean {
  return (readSetting('realtimeService', env) ?? '').toLowerCase() === 'webpubsub' && !signalRConfigured(env);
}

/** The Web PubSub service when REALTIME_SERVICE=webpubsub (its settings checked), else undefined. */
function webPubSubFromSettings(env: NodeJS.ProcessEnv, hub: string): WebPubSubService | undefined {
  const service = (readSetting('realtimeService', env) ?? 'signalr').toLowerCase();
  if (service === 'signalr') return undefined;
  if (service !== 'webpubsub') {
    throw new Error(
      `The app setting ${SETTINGS.realtimeService.name} must be signalr or webpubsub, not "${service}"`,
    );
  }
  const connectionString = readSetting('webPubSubConnectionString', env);
  if (connectionString) return webPubSubService({ kind: 'key', connectionString }, { hub });
  const endpoint = readSetting('webPubSubEndpoint', env);
  if (endpoint) {
    const managedIdentityClientId = readSetting('managedIdentityClientId', env);
    return webPubSubService(
      { kind: 'identity', endpoint, ...(managedIdentityClientId ? { managedIdentityClientId } : {}) },
      { hub },
    );
  }
  throw new Error(
    `${SETTINGS.realtimeService.name}=webpubsub needs ${SETTINGS.webPubSubConnectionString.name} (access key) or ${SETTINGS.webPubSubEndpoint.name} (managed identity)`,
  );
}

/** Forgets every cached client, as a fresh Functions worker would (used when a test restarts the host). */
export function resetChatServices(): void {
  cached = undefined;
}

/**
 * The bearer check of identity mode. One validator per policy for the whole process: the settings-keyed cache
 * above is rebuilt when any setting changes, but the signing keys belong to the policy alone.
 */
function bearerCheck(policy: ChatServicesPolicy): UpstreamBearerCheck {
  if (policy === undefined) return UNCONFIGURED_BEARER_CHECK;
  const key = JSON.stringify(policy);
  let validator = validators.get(key);
  if (!validator) {
    validator = new UpstreamTokenValidator(policy);
    validators.set(key, validator);
  }
  return validator;
}

type ChatServicesPolicy = ReturnType<typeof signalRConfigFromSettings>['upstreamToken'];
const validators = new Map<string, UpstreamTokenValidator>();

function onlinePageSize(env: NodeJS.ProcessEnv): number {
  const raw = readSetting('onlinePageSize', env) ?? '';
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > MAX_ONLINE_PAGE_SIZE) {
    throw new Error(
      `The app setting ${SETTINGS.onlinePageSize.name} must be a whole number from 1 to ${MAX_ONLINE_PAGE_SIZE}, not "${raw}"`,
    );
  }
  return value;
}

/** The numbers of reactions and replies the chat and its page apply (docs/architecture.md, "Reactions and replies"). */
export type ReactionLimits = Pick<ReactionOptions, 'maxReactionsPerMessage' | 'excerptLength'>;

/** `CHAT_MAX_REACTIONS_PER_MESSAGE` and `CHAT_REPLY_EXCERPT_LENGTH`, checked against their ceilings. */
export function reactionLimitsFromSettings(env: NodeJS.ProcessEnv = process.env): ReactionLimits {
  return {
    maxReactionsPerMessage: countSetting(
      'maxReactionsPerMessage',
      REACTION_LIMIT_CEILINGS.maxReactionsPerMessage,
      env,
    ),
    excerptLength: countSetting('replyExcerptLength', REACTION_LIMIT_CEILINGS.excerptLength, env),
  };
}

/** The most open reports `CHAT_MAX_OPEN_REPORTS_PER_USER` may allow one user. */
export const MAX_OPEN_REPORTS_CEILING = 1000;

/** `CHAT_MAX_OPEN_REPORTS_PER_USER`, checked against its ceiling (docs/architecture.md, "Moderation"). */
export function maxOpenReportsFromSettings(env: NodeJS.ProcessEnv = process.env): number {
  return countSetting('maxOpenReportsPerUser', MAX_OPEN_REPORTS_CEILING, env);
}

/** A whole number from 1 to `max` from a setting (its catalogue default when absent). */
function countSetting(
  key:
    | 'maxGroupMembers'
    | 'maxGroupOwners'
    | 'maxGroupsPerUser'
    | 'maxAddedGroupsPerUser'
    | 'maxGroupsAddedByOneUser'
    | 'maxGroupsCreatedPerDay'
    | 'maxGroupTitleLength'
    | 'maxGroupTopicLength'
    | 'groupWriteAttempts'
    | 'maxReactionsPerMessage'
    | 'replyExcerptLength'
    | 'maxOpenReportsPerUser'
    | 'searchScanMessages'
    | 'searchScanBytes'
    | 'maxConcurrentHistoryReads',
  max: number,
  env: NodeJS.ProcessEnv,
): number {
  const raw = readSetting(key, env) ?? '';
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > max) {
    throw new Error(
      `The app setting ${SETTINGS[key].name} must be a whole number from 1 to ${max}, not "${raw}"`,
    );
  }
  return value;
}

/** A whole number of milliseconds ≥ 0 from a setting (its catalogue default when absent). */
function numberSetting(
  key: 'presenceWindowMs' | 'presenceStaleGraceMs' | 'listedTitleTtlMs',
  env: NodeJS.ProcessEnv,
): number {
  const raw = readSetting(key, env) ?? '';
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
    throw new Error(
      `The app setting ${SETTINGS[key].name} must be a whole number of milliseconds (0 or more), not "${raw}"`,
    );
  }
  return value;
}

/** `CHAT_DIALECTS`, checked: `websocket` needs Web PubSub (REALTIME_SERVICE=webpubsub), which carries it. */
function dialectsSetting(env: NodeJS.ProcessEnv, webPubSub: boolean): Dialect[] {
  const raw = readSetting('chatDialects', env) ?? 'signalr';
  const dialects = raw
    .split(',')
    .map((d) => d.trim().toLowerCase())
    .filter((d) => d !== '');
  const unknown = dialects.filter((d) => !isDialect(d));
  if (unknown.length > 0 || dialects.length === 0) {
    throw new Error(
      `The app setting ${SETTINGS.chatDialects.name} must list signalr and/or websocket, not "${raw}"`,
    );
  }
  if (dialects.includes('websocket') && !webPubSub) {
    throw new Error(
      `The app setting ${SETTINGS.chatDialects.name} lists websocket, which Azure Web PubSub carries: set ${SETTINGS.realtimeService.name}=webpubsub or leave websocket out`,
    );
  }
  return [...new Set(dialects)] as Dialect[];
}
