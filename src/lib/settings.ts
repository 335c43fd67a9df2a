/**
 * The one catalogue of application settings the Functions app reads. Every `process.env` read of the app
 * goes through here, so the infrastructure contract test can prove that `infra/` sets each required one.
 * See docs/architecture.md, "Decisions".
 */

export interface SettingSpec {
  /** The environment variable (app setting) name. */
  readonly name: string;
  /** Whether the deployed app must have it (optional ones have a default or an alternative). */
  readonly required: boolean;
  /** The value used when the setting is absent, where there is one. */
  readonly default?: string;
  /** What it is for, written for someone filling in app settings. */
  readonly description: string;
}

/**
 * Upload URLs a minute from one client address (`CHAT_UPLOADS_PER_MINUTE_PER_ADDRESS`): user names are free
 * without sign-in, so the per-user limit alone bounds nothing, and each URL can store a file for a day. Twice the
 * per-user limit: one address is often several people behind one router (docs/capacity.md, "Unclaimed uploads").
 */
export const DEFAULT_UPLOADS_PER_MINUTE_PER_ADDRESS = 60;

export const SETTINGS = {
  signalRConnectionString: {
    name: 'AzureSignalRConnectionString',
    required: true,
    description:
      'SignalR connection string: `Endpoint=…;AccessKey=…;Version=1.0;` or identity form `Endpoint=…;AuthType=azure.msi;[ClientId=…;]Version=1.0;`. ' +
      'Optional only when AzureSignalREndpoint + AzureSignalRAccessKey are set instead, or with REALTIME_SERVICE=webpubsub when Web PubSub carries the whole chat (as `azd up` deploys it).',
  },
  signalREndpoint: {
    name: 'AzureSignalREndpoint',
    required: false,
    description:
      "The 2020 sample's separate endpoint setting, used with AzureSignalRAccessKey when no connection string is set.",
  },
  signalRAccessKey: {
    name: 'AzureSignalRAccessKey',
    required: false,
    description: "The 2020 sample's separate access key setting, used with AzureSignalREndpoint.",
  },
  signalRSecondaryAccessKey: {
    name: 'AzureSignalRSecondaryAccessKey',
    required: false,
    description:
      'A second access key accepted when verifying X-ASRS-Signature (during key rotation). Never used to sign.',
  },
  signalRAuth: {
    name: 'SIGNALR_AUTH',
    required: false,
    description:
      'How the app and SignalR authenticate each other: `identity` (the REST API with the managed identity, upstream calls with a Microsoft Entra bearer token checked against the SIGNALR_UPSTREAM_* settings) or `key` (access key, X-ASRS-Signature). ' +
      'With Web PubSub alone the same modes apply to its REST API and event handler calls (ce-signature in key mode). ' +
      'When unset: identity if the connection string has AuthType=azure.msi (or, with Web PubSub alone, no access key is set), else key.',
  },
  signalRUpstreamAudience: {
    name: 'SIGNALR_UPSTREAM_AUDIENCE',
    required: false,
    description:
      "Identity mode: the `aud` of the Entra tokens SignalR puts on upstream calls (the `resource` of the upstream template's ManagedIdentity auth).",
  },
  signalRUpstreamIssuer: {
    name: 'SIGNALR_UPSTREAM_ISSUER',
    required: false,
    description:
      'Identity mode: the `iss` of those tokens, e.g. https://sts.windows.net/<tenant id>/ (v1 tokens); the v2 form https://login.microsoftonline.com/<tenant id>/v2.0 of the same tenant is accepted too.',
  },
  signalROpenIdConfiguration: {
    name: 'SIGNALR_UPSTREAM_OPENID_CONFIGURATION',
    required: false,
    description:
      'Identity mode: the OpenID Connect metadata URL (https://login.microsoftonline.com/<tenant id>/.well-known/openid-configuration) whose jwks_uri publishes the keys that sign those tokens.',
  },
  signalRUpstreamCallerId: {
    name: 'SIGNALR_UPSTREAM_CALLER_ID',
    required: false,
    description:
      "Identity mode: the principal (object) id of SignalR's managed identity; an upstream token's `oid` must equal it.",
  },
  hubName: {
    name: 'CHAT_HUB_NAME',
    required: false,
    default: 'chat',
    description: 'The SignalR hub the chat uses.',
  },
  historyStorage: {
    name: 'CHAT_HISTORY_STORAGE',
    required: true,
    description:
      'Where history is stored: a Blob service URI (https://<account>.blob.core.windows.net, identity-based via DefaultAzureCredential) or a connection string (Azurite locally).',
  },
  historyContainer: {
    name: 'CHAT_HISTORY_CONTAINER',
    required: false,
    default: 'chat-history',
    description: 'The Blob container that holds chat history.',
  },
  historySegmentBlockLimit: {
    name: 'CHAT_HISTORY_SEGMENT_BLOCK_LIMIT',
    required: false,
    default: '49000',
    description:
      'Appends per history segment (append blob) before rolling to the next; at most 50000. Lowered only in tests.',
  },
  attachmentsStorage: {
    name: 'CHAT_ATTACHMENTS_STORAGE',
    required: false,
    description:
      'Where attachments are stored: a Blob service URI (https://<account>.blob.core.windows.net: user-delegation SAS with the managed identity), a connection string (Azurite locally: account-key SAS), or `off` (no attachments). Unset: CHAT_HISTORY_STORAGE.',
  },
  attachmentsContainer: {
    name: 'CHAT_ATTACHMENTS_CONTAINER',
    required: false,
    default: 'chat-attachments',
    description: 'The Blob container that holds attachments (files and images the browser uploads).',
  },
  attachmentMaxBytes: {
    name: 'CHAT_ATTACHMENT_MAX_BYTES',
    required: false,
    default: '10485760',
    description: 'The largest attachment accepted, in bytes (default 10 MiB; at most 256 MiB, one Put Blob).',
  },
  uploadsPerMinutePerUser: {
    name: 'CHAT_UPLOADS_PER_MINUTE_PER_USER',
    required: false,
    default: '30',
    description:
      'Upload URLs a minute for one user (that many at once, then refilled over the minute); more are answered 429 with Retry-After. Per Function instance.',
  },
  uploadsPerMinutePerAddress: {
    name: 'CHAT_UPLOADS_PER_MINUTE_PER_ADDRESS',
    required: false,
    default: String(DEFAULT_UPLOADS_PER_MINUTE_PER_ADDRESS),
    description:
      'Upload URLs a minute from one client address (the last X-Forwarded-For entry the platform adds), whatever the user names: each can store a file until retention removes it, and a SAS cannot cap the size of what is PUT. More are answered 429 with Retry-After. Per Function instance.',
  },
  attachmentReadsPerMinutePerUser: {
    name: 'CHAT_ATTACHMENT_READS_PER_MINUTE_PER_USER',
    required: false,
    default: '300',
    description:
      'Attachment reads (GET /api/attachments, each a membership check and a Blob HEAD) a minute for one user (that many at once, then refilled over the minute); more are answered 429 with Retry-After. Per Function instance.',
  },
  chatDialects: {
    name: 'CHAT_DIALECTS',
    required: false,
    default: 'signalr',
    description:
      'Client dialects the chat delivers to, comma-separated: signalr (hub-protocol clients, through Azure SignalR) and websocket (raw-WebSocket clients, through Azure Web PubSub, so only with REALTIME_SERVICE=webpubsub). npm start sets "signalr,websocket": its local service speaks both.',
  },
  commandBurst: {
    name: 'CHAT_COMMAND_BURST',
    required: false,
    default: '30',
    description:
      'Commands one user may send at once, across all of their connections and every Function instance, before the per-second rate applies; more get a rate-limited error event.',
  },
  commandsPerSecond: {
    name: 'CHAT_COMMANDS_PER_SECOND',
    required: false,
    default: '10',
    description:
      'Commands a second one user may send after the burst, across all of their connections and every Function instance.',
  },
  groupMembersPerCommand: {
    name: 'CHAT_GROUP_MEMBERS_PER_COMMAND',
    required: false,
    default: '10',
    description:
      'Members of a new group one command pays for: a createGroup counts as one command per started this many members, its creator included (at most the burst), against the command limit.',
  },
  negotiatePerMinutePerUser: {
    name: 'CHAT_NEGOTIATE_PER_MINUTE_PER_USER',
    required: false,
    default: '60',
    description:
      'Negotiate calls a minute for one user name (that many at once, then refilled over the minute); more are answered 429 with Retry-After. Per Function instance.',
  },
  negotiatePerMinutePerAddress: {
    name: 'CHAT_NEGOTIATE_PER_MINUTE_PER_ADDRESS',
    required: false,
    default: '600',
    description:
      'Negotiate calls a minute from one client address (the last X-Forwarded-For entry the platform adds); more are answered 429 with Retry-After. Per Function instance.',
  },
  frameAncestors: {
    name: 'CHAT_FRAME_ANCESTORS',
    required: false,
    default: "'none'",
    description:
      "Who may frame the chat page: the Content-Security-Policy frame-ancestors sources, e.g. 'self' or https://intranet.example. Default 'none' (no one).",
  },
  chatAuth: {
    name: 'CHAT_AUTH',
    required: false,
    default: 'none',
    description:
      'Who vouches for the user: "entra" when App Service Authentication (Easy Auth) with Microsoft Entra ID is in front of the app, so only its x-ms-client-principal* headers name the user and ?name= is ignored; "none" for the demo, where ?name= is a claim anyone can make and principal headers are ignored (a client can write them).',
  },
  presenceWindowMs: {
    name: 'CHAT_PRESENCE_WINDOW_MS',
    required: false,
    default: '250',
    description:
      'Milliseconds an instance collects joins and leaves before sending them as one presence delta to everyone.',
  },
  onlinePageSize: {
    name: 'CHAT_ONLINE_PAGE_SIZE',
    required: false,
    default: '100',
    description: 'Users in the first page of the online list that every welcome carries (1–500).',
  },
  presenceStaleGraceMs: {
    name: 'CHAT_PRESENCE_STALE_GRACE_MS',
    required: false,
    default: '300000',
    description:
      'Milliseconds before a presence entry the service does not confirm (a connection that died without disconnect) is deleted and announced as left.',
  },
  listedTitleTtlMs: {
    name: 'CHAT_LISTED_TITLE_TTL_MS',
    required: false,
    default: '30000',
    description:
      "Milliseconds an instance shows a channel's title it read for a welcome before reading the channel's record again (0: read it for every welcome). A rename reaches connected members at once; a page loaded within this time of it may list the old title.",
  },
  maxGroupMembers: {
    name: 'CHAT_MAX_GROUP_MEMBERS',
    required: false,
    default: '256',
    description:
      'Members of one private group, its owners included (owners are members), at most 5000; one more is refused with group-full.',
  },
  maxGroupOwners: {
    name: 'CHAT_MAX_GROUP_OWNERS',
    required: false,
    default: '32',
    description:
      'Owners of one group (each is a member too), at most 5000; making one more an owner is refused with too-many-owners.',
  },
  maxGroupsPerUser: {
    name: 'CHAT_MAX_GROUPS_PER_USER',
    required: false,
    default: '100',
    description:
      'Private groups and channels one user is in by their own doing (created or joined, and not left), at most 1000 (every connect re-applies each one); one more is refused with too-many-groups. Leaving one makes room again: creating is bounded by CHAT_MAX_GROUPS_CREATED_PER_DAY. Groups others added them to count apart (CHAT_MAX_ADDED_GROUPS_PER_USER).',
  },
  maxAddedGroupsPerUser: {
    name: 'CHAT_MAX_ADDED_GROUPS_PER_USER',
    required: false,
    default: '100',
    description:
      'Private groups others may add one user to (of those they are still in), apart from their own, at most 1000; adding them to one more is refused with too-many-added-groups.',
  },
  maxGroupsAddedByOneUser: {
    name: 'CHAT_MAX_GROUPS_ADDED_BY_ONE_USER',
    required: false,
    default: '20',
    description:
      'Groups one user may have added a given other user to (of those the other is still in), at most 1000; one more is refused with too-many-adds.',
  },
  maxGroupsCreatedPerDay: {
    name: 'CHAT_MAX_GROUPS_CREATED_PER_DAY',
    required: false,
    default: '20',
    description:
      'Private groups and channels one user may create in any 24 hours (joining a name nobody uses creates a channel), at most 1000, across every Function instance; one more is refused with too-many-groups-created, which says when the next is possible. Leaving a group does not give its creation back: its name stays taken.',
  },
  maxGroupTitleLength: {
    name: 'CHAT_MAX_GROUP_TITLE_LENGTH',
    required: false,
    default: '64',
    description:
      'Longest group or channel title, in characters, at most 256; longer is refused with invalid-title.',
  },
  maxGroupTopicLength: {
    name: 'CHAT_MAX_GROUP_TOPIC_LENGTH',
    required: false,
    default: '200',
    description:
      'Longest channel or group topic, in characters, at most 2000; longer is refused with invalid-topic.',
  },
  groupWriteAttempts: {
    name: 'CHAT_GROUP_WRITE_ATTEMPTS',
    required: false,
    default: '8',
    description:
      "Conditional writes one change of a group's record tries (each conflict with another owner's change re-reads it), at most 50, before it is refused with group-contended.",
  },
  maxReactionsPerMessage: {
    name: 'CHAT_MAX_REACTIONS_PER_MESSAGE',
    required: false,
    default: '6',
    description:
      'Distinct emoji shown under one message at most (the most used are kept), from 1 to 6 (the emoji offered).',
  },
  replyExcerptLength: {
    name: 'CHAT_REPLY_EXCERPT_LENGTH',
    required: false,
    default: '120',
    description:
      'Characters of the quoted message a reply keeps (longer is cut with an ellipsis), at most 1000.',
  },
  maxOpenReportsPerUser: {
    name: 'CHAT_MAX_OPEN_REPORTS_PER_USER',
    required: false,
    default: '20',
    description:
      'Open reports one user may have made (opened or joined), at most 1000; one more is refused with too-many-reports until moderators resolve some of them.',
  },
  searchScanMessages: {
    name: 'CHAT_SEARCH_SCAN_MESSAGES',
    required: false,
    default: '2000',
    description:
      'History lines (messages and records) one searchMessages reads at most, newest first, from 1 to 100000; past it the answer says where to search older. It counts as one command per started 500 of them against the command limit (4 by default), or per started MiB of CHAT_SEARCH_SCAN_BYTES where that makes more.',
  },
  searchScanBytes: {
    name: 'CHAT_SEARCH_SCAN_BYTES',
    required: false,
    default: '4194304',
    description:
      'Bytes of history lines (as stored) one searchMessages reads at most, from 1 to 268435456 (256 MiB), default 4 MiB; past it the answer says where to search older, as past CHAT_SEARCH_SCAN_MESSAGES. It counts as one command per started MiB against the command limit (4 by default), or per started 500 lines of CHAT_SEARCH_SCAN_MESSAGES where that makes more.',
  },
  maxConcurrentHistoryReads: {
    name: 'CHAT_MAX_CONCURRENT_HISTORY_READS',
    required: false,
    default: '4',
    description:
      'Searches and history pages (searchMessages, loadHistory) one Function instance reads at once, from 1 to 1000; past it such a command is answered busy at once, with retryAfterMs, instead of queueing.',
  },
  realtimeService: {
    name: 'REALTIME_SERVICE',
    required: false,
    default: 'signalr',
    description:
      'Whether the raw-WebSocket chat runs: `webpubsub` (Azure Web PubSub carries it: its REST API for fan-out, its CloudEvents calls on the upstream endpoint) or `signalr` (SignalR only, no raw-WebSocket chat).',
  },
  webPubSubConnectionString: {
    name: 'WebPubSubConnectionString',
    required: false,
    description:
      'With REALTIME_SERVICE=webpubsub and access keys: `Endpoint=https://<name>.webpubsub.azure.com;AccessKey=…;Version=1.0;` (a `Port=` is honoured). Its key signs REST calls and verifies ce-signature.',
  },
  webPubSubEndpoint: {
    name: 'WEBPUBSUB_ENDPOINT',
    required: false,
    description:
      'With REALTIME_SERVICE=webpubsub and no keys: the service endpoint (https://<name>.webpubsub.azure.com); REST calls use the managed identity (AZURE_CLIENT_ID), which needs the Web PubSub Service Owner role.',
  },
  managedIdentityClientId: {
    name: 'AZURE_CLIENT_ID',
    required: false,
    description:
      'Client id of the user-assigned managed identity that DefaultAzureCredential uses for Blob and SignalR.',
  },
  appInsightsConnectionString: {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING',
    required: false,
    description:
      "Where the app's traces and metrics go (Application Insights). Unset: nothing is exported (docs/observability.md).",
  },
  appInsightsAuthentication: {
    name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
    required: false,
    description:
      'Entra authentication for that export: `Authorization=AAD;ClientId=<managed identity client id>` (user-assigned) or `Authorization=AAD` (system-assigned). Unset: the connection string alone (instrumentation key).',
  },
  tracesExporter: {
    name: 'OTEL_TRACES_EXPORTER',
    required: false,
    description:
      '`console` prints each trace as a tree on the standard output (npm start, func start); `none` or unset prints nothing.',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingKey = keyof typeof SETTINGS;

/** Reads a setting from the environment; empty strings count as absent. Falls back to the catalogue default. */
export function readSetting(key: SettingKey, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const spec: SettingSpec = SETTINGS[key];
  const value = env[spec.name];
  if (value !== undefined && value.trim() !== '') return value.trim();
  return spec.default;
}

/** Reads a setting that must be present, or throws an error that names it (never its value). */
export function requireSetting(key: SettingKey, env: NodeJS.ProcessEnv = process.env): string {
  const value = readSetting(key, env);
  if (value === undefined) {
    const spec: SettingSpec = SETTINGS[key];
    throw new Error(`The app setting ${spec.name} is not set: ${spec.description}`);
  }
  return value;
}

/** Reads a setting that must be a positive number, or throws an error that names it and the rule. */
export function readPositiveNumber(key: SettingKey, env: NodeJS.ProcessEnv = process.env): number {
  const spec: SettingSpec = SETTINGS[key];
  const raw = readSetting(key, env) ?? spec.default ?? '';
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`The app setting ${spec.name} must be a positive number (default ${spec.default})`);
  }
  return value;
}
