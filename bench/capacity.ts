/**
 * `npm run capacity`: regenerates the tables of docs/capacity.md from the measured costs in
 * `bench/results/cost.json` (a full bench run; falls back to `partial/` and then `quick/`, and says so), the
 * model's assumptions below and the prices in bench/capacity/prices.ts. Only the text between the markers
 * is rewritten. `-- --check` fails when the file differs from what it would write.
 */
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { growthExponent } from './billing.js';
import { BLOB, blobClass, FUNCTIONS, SIGNALR, type Sourced } from './capacity/prices.js';
import { markdownTable } from './report.js';

/** The model's assumptions: what one concurrent user does. */
export const ASSUMPTIONS = {
  /** Chat messages each online user sends per hour. */
  messagesPerUserPerHour: 2,
  /** Share of messages sent to the public room (everyone online); the rest go to groups or private chats. */
  roomShare: 0.25,
  /** Receivers of a group or private message, on average (the sender's own connections included). */
  groupAudience: 10,
  /** Joins (a page load or a reconnect: negotiate, connect, welcome) per concurrent user per day. */
  joinsPerUserPerDay: 3,
  /** Function executions per join: negotiate and the connect, connected and disconnected upstream events. */
  executionsPerJoin: 4,
  /** Share of an instance's core the app may use before another instance is needed. */
  utilisation: 0.7,
  /** The public room holds every online user (the app has one room). */
  roomIsEveryone: true,
};

export const USERS = [1_000, 10_000, 100_000];

interface Meter {
  messages: number;
  bytes: number;
  units: number;
}
interface JoinCost {
  size: number;
  toOthers: Meter;
  toJoiner: Meter;
  blobTransactions: number;
  blobByOperation: Record<string, number>;
  cpuMs: number;
}
interface MessageCost {
  size: number;
  receivers: number;
  toAll: Meter;
  blobTransactions: number;
  blobByOperation: Record<string, number>;
  cpuMs: number;
}
interface CostFile {
  run: { date: string; mode: string; commit: string };
  details: { ours: { joins: JoinCost[]; messages: MessageCost[] } };
}

/** Measured inputs, reduced to what the model scales. */
export interface Inputs {
  source: string;
  run: CostFile['run'];
  /** Largest room measured and the costs of one join there. */
  joinSize: number;
  joinUnitsToOthers: number;
  joinUnitsToJoiner: number;
  joinBlobByOperation: Record<string, number>;
  joinCpuMs: number;
  /** Growth exponents between the smallest and largest room measured (1 when only one was measured). */
  exponent: { units: number; blobs: number; cpu: number };
  /** Per chat message: billed units per receiver, Blob operations and Functions CPU. */
  messageUnitsPerReceiver: number;
  messageBlobByOperation: Record<string, number>;
  messageCpuMs: number;
}

/** The growth exponent, or 1 (linear) where it cannot be measured. */
function exponent(n1: number, c1: number, n2: number, c2: number): number {
  return growthExponent(n1, c1, n2, c2) ?? 1;
}

export function readInputs(root: URL): Inputs {
  const candidates = [
    'bench/results/cost.json',
    'bench/results/partial/cost.json',
    'bench/results/quick/cost.json',
  ];
  const found = candidates.find((path) => existsSync(new URL(path, root)));
  if (!found)
    throw new Error(
      `No measured costs: run \`npm run bench -- --only=cost\` first (looked for ${candidates.join(', ')})`,
    );
  const file = JSON.parse(readFileSync(new URL(found, root), 'utf8')) as CostFile;
  const { joins, messages } = file.details.ours;
  const first = joins[0];
  const last = joins.at(-1);
  const message = messages.at(-1);
  if (!first || !last || !message) throw new Error(`${found} holds no join or message costs`);
  return {
    source: found,
    run: file.run,
    joinSize: last.size,
    joinUnitsToOthers: last.toOthers.units,
    joinUnitsToJoiner: last.toJoiner.units,
    joinBlobByOperation: last.blobByOperation,
    joinCpuMs: last.cpuMs,
    exponent: {
      units: exponent(first.size, first.toOthers.units, last.size, last.toOthers.units),
      blobs: exponent(first.size, first.blobTransactions, last.size, last.blobTransactions),
      cpu: exponent(first.size, first.cpuMs, last.size, last.cpuMs),
    },
    messageUnitsPerReceiver: message.toAll.units / Math.max(1, message.receivers),
    messageBlobByOperation: message.blobByOperation,
    messageCpuMs: message.cpuMs,
  };
}

export interface Row {
  users: number;
  signalrUnits: number;
  signalrInstances: number;
  messagesPerDay: number;
  billedMessagesPerDay: number;
  joinsPerDay: number;
  blobByClass: Record<'write' | 'list' | 'read' | 'other' | 'free', number>;
  blobTransactionsPerDay: number;
  executionsPerDay: number;
  cpuSecondsPerDay: number;
  busyInstances: number;
  gbSecondsPerDay: number;
  cost: { signalr: number; blob: number; executions: number; gbSeconds: number; total: number };
}

/** The model for `users` concurrent users. */
export function model(users: number, inputs: Inputs, a = ASSUMPTIONS): Row {
  const room = users;
  const scale = (e: number) => (room / inputs.joinSize) ** e;
  const messagesPerDay = users * a.messagesPerUserPerHour * 24;
  const joinsPerDay = users * a.joinsPerUserPerDay;
  const deliveries = messagesPerDay * (a.roomShare * room + (1 - a.roomShare) * a.groupAudience);
  // Outbound to clients, plus (inferred from Microsoft's worked example) one outbound message per
  // invocation to the upstream.
  const billedMessagesPerDay =
    deliveries * inputs.messageUnitsPerReceiver +
    messagesPerDay +
    joinsPerDay * (inputs.joinUnitsToOthers * scale(inputs.exponent.units) + inputs.joinUnitsToJoiner);
  const signalrUnits = Math.ceil(users / SIGNALR.connectionsPerUnit.value);
  const signalrInstances = Math.ceil(signalrUnits / SIGNALR.maxUnitsStandard.value);
  const blobByClass = { write: 0, list: 0, read: 0, other: 0, free: 0 };
  for (const [op, n] of Object.entries(inputs.messageBlobByOperation))
    blobByClass[blobClass(op)] += n * messagesPerDay;
  const joinBlobScale = scale(inputs.exponent.blobs);
  for (const [op, n] of Object.entries(inputs.joinBlobByOperation))
    blobByClass[blobClass(op)] += n * joinsPerDay * joinBlobScale;
  const blobTransactionsPerDay = Object.values(blobByClass).reduce((s, n) => s + n, 0);
  const executionsPerDay = messagesPerDay + joinsPerDay * a.executionsPerJoin;
  const cpuSecondsPerDay =
    (messagesPerDay * inputs.messageCpuMs + joinsPerDay * inputs.joinCpuMs * scale(inputs.exponent.cpu)) /
    1000;
  const busySeconds = cpuSecondsPerDay / a.utilisation;
  const activeSeconds = Math.max(
    Math.min(86_400, executionsPerDay * FUNCTIONS.minimumBillableSeconds.value),
    busySeconds,
  );
  const busyInstances = Math.max(1, Math.ceil(busySeconds / 86_400));
  const gbSecondsPerDay = activeSeconds * FUNCTIONS.instanceMemoryGb.value;
  const included = signalrUnits * SIGNALR.includedMessagesPerUnitPerDay.value;
  const signalr =
    signalrUnits * SIGNALR.standardUnitPerDay.value +
    (Math.max(0, billedMessagesPerDay - included) / 1e6) * SIGNALR.overagePerMillionMessages.value;
  const blob =
    (blobByClass.write * BLOB.writePer10k.value +
      blobByClass.list * BLOB.listPer10k.value +
      blobByClass.read * BLOB.readPer10k.value +
      blobByClass.other * BLOB.otherPer10k.value) /
    10_000;
  const executions = (executionsPerDay / 1e6) * FUNCTIONS.perMillionExecutions.value;
  const gbSeconds = gbSecondsPerDay * FUNCTIONS.perGbSecond.value;
  return {
    users,
    signalrUnits,
    signalrInstances,
    messagesPerDay,
    billedMessagesPerDay,
    joinsPerDay,
    blobByClass,
    blobTransactionsPerDay,
    executionsPerDay,
    cpuSecondsPerDay,
    busyInstances,
    gbSecondsPerDay,
    cost: { signalr, blob, executions, gbSeconds, total: signalr + blob + executions + gbSeconds },
  };
}

const count = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
const usd = (n: number) => `$${n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2)}`;

export const BEGIN =
  '<!-- capacity:begin (written by `npm run capacity`; edit bench/capacity.ts instead) -->';
export const END = '<!-- capacity:end -->';

/** The generated part of docs/capacity.md. */
export function tables(inputs: Inputs, rows: Row[]): string {
  const a = ASSUMPTIONS;
  const sourced = (s: Sourced) =>
    `${Number(s.value.toPrecision(4)).toLocaleString('en-US', { maximumSignificantDigits: 4 })} ${s.unit} — ${s.source} (${s.date}; ${s.kind})`;
  return [
    `Measured inputs: \`${inputs.source}\` (${inputs.run.mode} run of ${inputs.run.date}, commit ${inputs.run.commit}).`,
    '',
    ...markdownTable(
      ['measured input', 'value'],
      [
        [
          `billed units to the others per join, room of ${inputs.joinSize}`,
          inputs.joinUnitsToOthers.toFixed(1),
        ],
        ['billed units to the joiner per join (welcome)', inputs.joinUnitsToJoiner.toFixed(1)],
        ['growth exponent of those units with the room', inputs.exponent.units.toFixed(2)],
        [
          `Blob transactions per join, room of ${inputs.joinSize}`,
          count(Object.values(inputs.joinBlobByOperation).reduce((s, n) => s + n, 0)),
        ],
        ['growth exponent of Blob transactions per join', inputs.exponent.blobs.toFixed(2)],
        [`Functions CPU per join, room of ${inputs.joinSize}`, `${inputs.joinCpuMs.toFixed(1)} ms`],
        ['billed units per receiver of a chat message', inputs.messageUnitsPerReceiver.toFixed(3)],
        [
          'Blob transactions per chat message',
          count(Object.values(inputs.messageBlobByOperation).reduce((s, n) => s + n, 0)),
        ],
        ['Functions CPU per chat message', `${inputs.messageCpuMs.toFixed(2)} ms`],
      ],
    ),
    '',
    `Assumptions: ${a.messagesPerUserPerHour} messages per online user per hour, ${Math.round(a.roomShare * 100)} % of them to the public room (every online user receives them) and the rest to groups or private chats of ${a.groupAudience} receivers on average; ${a.joinsPerUserPerDay} joins per user per day, each ${a.executionsPerJoin} Function executions; an instance is busy up to ${Math.round(a.utilisation * 100)} % of its core. Costs measured in a room of ${inputs.joinSize} are carried to a room of all online users with the measured growth exponent.`,
    '',
    '### Volumes per day',
    '',
    ...markdownTable(
      [
        'concurrent users',
        'SignalR units',
        'chat messages',
        'billed SignalR messages',
        'joins',
        'Blob transactions',
        'Function executions',
        'Functions GB-s',
        'busy instances',
      ],
      rows.map((r) => [
        count(r.users),
        `${r.signalrUnits}${r.signalrInstances > 1 ? ` (${r.signalrInstances} instances)` : ''}`,
        count(r.messagesPerDay),
        count(r.billedMessagesPerDay),
        count(r.joinsPerDay),
        count(r.blobTransactionsPerDay),
        count(r.executionsPerDay),
        count(r.gbSecondsPerDay),
        String(r.busyInstances),
      ]),
    ),
    '',
    '### Cost per day at list prices (USD)',
    '',
    ...markdownTable(
      [
        'concurrent users',
        'SignalR units + overage',
        'Blob transactions',
        'Function executions',
        'Functions GB-s',
        'total',
      ],
      rows.map((r) => [
        count(r.users),
        usd(r.cost.signalr),
        usd(r.cost.blob),
        usd(r.cost.executions),
        usd(r.cost.gbSeconds),
        usd(r.cost.total),
      ]),
    ),
    '',
    'Blob storage capacity, bandwidth, Application Insights and the monthly free grants of Functions are left out.',
    '',
    '### Prices and limits used',
    '',
    ...[...Object.values(SIGNALR), ...Object.values(FUNCTIONS), ...Object.values(BLOB)].map(
      (s) => `- ${sourced(s)}`,
    ),
  ].join('\n');
}

const isMain =
  process.argv[1] !== undefined && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url;
if (isMain) {
  const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
  const root = new URL('../../', import.meta.url);
  const inputs = readInputs(root);
  const rows = USERS.map((users) => model(users, inputs));
  const doc = new URL('docs/capacity.md', root);
  const text = readFileSync(doc, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/capacity.md has no ${BEGIN} … ${END} markers`);
  const next = `${text.slice(0, start + BEGIN.length)}\n\n${tables(inputs, rows)}\n\n${text.slice(end)}`;
  if (values.check) {
    if (next !== text) {
      console.error('docs/capacity.md is out of date: run `npm run capacity`');
      process.exit(1);
    }
  } else writeFileSync(doc, next);
  console.log(`docs/capacity.md: tables from ${inputs.source}`);
  for (const r of rows)
    console.log(
      `  ${count(r.users)} users: ${usd(r.cost.total)} a day (SignalR ${usd(r.cost.signalr)}, Blob ${usd(r.cost.blob)}, Functions ${usd(r.cost.executions + r.cost.gbSeconds)})`,
    );
}
