/**
 * The chat's connections to the outside (the SignalR REST API in both dialects, Blob Storage), built once per
 * process from the app settings and rebuilt when those settings change (the built-in host of tests points
 * one process at several stacks in turn). Nothing here holds chat state: that lives in the service and Blob.
 * See docs/architecture.md, "Layers".
 */

import {
  MAX_ONLINE_PAGE_SIZE,
  MembershipStore,
  PresenceDeltas,
  PresenceStore,
  UserDirectory,
} from '../lib/chat/index.js';
import { createHistoryStoreFromSettings, type HistoryStore } from '../lib/history/index.js';
import { readSetting, SETTINGS, type SettingKey } from '../lib/settings.js';
import {
  type Dialect,
  type HubClient,
  hubClientFromSettings,
  isDialect,
  signalRConfigFromSettings,
} from '../lib/signalr/index.js';
import type { UpstreamBearerCheck } from '../lib/upstream/index.js';
import { UNCONFIGURED_BEARER_CHECK, UpstreamTokenValidator } from '../lib/upstream/index.js';

export interface ChatServices {
  /** REST client per dialect: the signalr prefix reaches hub-protocol clients, the websocket prefix raw ones. */
  readonly signalr: HubClient<'signalr'>;
  readonly websocket: HubClient<'websocket'>;
  /** The dialects fan-out delivers to (`CHAT_DIALECTS`). */
  readonly dialects: readonly Dialect[];
  /** Keys that verify `X-ASRS-Signature` (key mode). */
  readonly accessKeys: readonly string[];
  /** Identity mode: the check of upstream calls' bearer tokens (keys fetched once per process and cached). */
  readonly upstreamBearer: UpstreamBearerCheck | undefined;
  readonly hub: string;
  readonly history: HistoryStore;
  readonly presence: PresenceStore;
  /** Coalesces this process's presence changes into one `presence` delta per window. */
  readonly presenceDeltas: PresenceDeltas;
  /** Users in the welcome's page of the online list. */
  readonly onlinePageSize: number;
  readonly members: MembershipStore;
  /** Display names of signed-in users (recorded at negotiate). */
  readonly directory: UserDirectory;
}

// Every app setting can change what the clients are (tests point one process at several stacks in turn).
const KEYS = Object.keys(SETTINGS) as SettingKey[];

let cached: { key: string; value: ChatServices } | undefined;

/** The chat's clients for the current settings (throws an error naming a missing or invalid setting). */
export function chatServices(env: NodeJS.ProcessEnv = process.env): ChatServices {
  const key = KEYS.map((k) => env[SETTINGS[k].name] ?? '').join('\n');
  if (cached?.key === key) return cached.value;
  const config = signalRConfigFromSettings(env);
  const history = createHistoryStoreFromSettings(env);
  const containerClient = history.containerClient;
  const value: ChatServices = {
    signalr: hubClientFromSettings(env, { dialect: 'signalr' }),
    websocket: hubClientFromSettings(env, { dialect: 'websocket' }),
    dialects: dialectsSetting(env),
    accessKeys: config.accessKeys,
    upstreamBearer: config.auth === 'identity' ? bearerCheck(config.upstreamToken) : undefined,
    hub: config.hub,
    history,
    presence: new PresenceStore(containerClient, {
      staleGraceMs: numberSetting('presenceStaleGraceMs', env),
    }),
    presenceDeltas: new PresenceDeltas({ windowMs: numberSetting('presenceWindowMs', env) }),
    onlinePageSize: onlinePageSize(env),
    members: new MembershipStore(containerClient),
    directory: new UserDirectory(containerClient),
  };
  cached = { key, value };
  return value;
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

/** A whole number of milliseconds ≥ 0 from a setting (its catalogue default when absent). */
function numberSetting(key: 'presenceWindowMs' | 'presenceStaleGraceMs', env: NodeJS.ProcessEnv): number {
  const raw = readSetting(key, env) ?? '';
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
    throw new Error(
      `The app setting ${SETTINGS[key].name} must be a whole number of milliseconds (0 or more), not "${raw}"`,
    );
  }
  return value;
}

function dialectsSetting(env: NodeJS.ProcessEnv): Dialect[] {
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
  return [...new Set(dialects)] as Dialect[];
}
