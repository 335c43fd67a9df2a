/**
 * The cost scenario's measured shapes (per join, per message, per side) and how they become figures, targets
 * and notes: growth exponents between room sizes, billed units and Blob requests beside the bare relay.
 */
import { growthExponent } from '../billing.js';
import type { BenchMessage } from '../processes.js';
import type { Figure, Target } from '../report.js';

/** The target of the join cost's growth exponent between the smallest and the largest room measured. */
export const JOIN_EXPONENT_TARGET = 1.1;

/**
 * The target of Blob requests per chat message with a `clientMessageId` on the message path, sent one at a time
 * (so no group commit shares a request) and with no request refused (so no retry): the append, conditional on the
 * length the instance has read, is its exactly-once check too, in one request.
 */
export const BLOB_REQUESTS_PER_MESSAGE_TARGET = 1;
/**
 * The target of the command limit's share of Blob requests per chat message: the writes of the per-user bucket
 * (`_limits/<user>`), one per lease of commands. Apart from the message path because it cannot be zero: a limit
 * shared by instances needs a shared write now and then (docs/capacity.md).
 */
export const COMMAND_LIMIT_SHARE_TARGET = 0.1;

/** Billing view of what a set of clients received. */
export interface Meter {
  messages: number;
  bytes: number;
  units: number;
}
export interface Metered extends BenchMessage {
  others: Meter;
  newcomers: Meter;
  othersCount: number;
}

/** The averages per join at one room size. */
export interface JoinCost {
  size: number;
  joins: number;
  toOthers: Meter;
  toJoiner: Meter;
  blobTransactions: number;
  blobByOperation: Record<string, number>;
  cpuMs: number;
  serviceCpuMs?: number;
}

/** The averages per chat message at one room size. */
export interface MessageCost {
  /** The room's nominal size (it holds the joins measured at that size too: `roomSize`). */
  size: number;
  roomSize: number;
  sent: number;
  completed: number;
  receivers: number;
  toAll: Meter;
  blobTransactions: number;
  blobByOperation: Record<string, number>;
  /** Blob requests refused (status ≥ 400) during the messages, in all: each is followed by a retry. */
  blobRefused: number;
  /** Of `blobTransactions`, those for the command limit's buckets (per message). */
  blobCommandLimit?: number;
  cpuMs: number;
  rssBytesPerMessage: number;
}

/** A run of read-marker updates in the room of `size` (within one write interval of the server). */
export interface MarkCost {
  size: number;
  sent: number;
  /** `read` events that came back to the marking user (one per mark that moved the position). */
  reads: number;
  /** Writes of the user's `_reads` blob during the run (its stored `version` grew by this). */
  writes: number;
  /** Per mark. */
  toAll: Meter;
  /** For the whole run, the coalesced write included. */
  blobTransactions: number;
  blobByOperation: Record<string, number>;
}

/** Typing events in the room of `size`. */
export interface TypingCost {
  size: number;
  sent: number;
  /** `typing` events received by everyone, in all. */
  receipts: number;
  /** Per typing event. */
  toAll: Meter;
  /** Per typing event of typists who have sent a command before (their lease taken). */
  blobTransactions: number;
  /** Per typist's first command on the instance (a typing event too, not measured otherwise). */
  firstBlobTransactions: number;
}

/** Blob writes (`PUT` of a block blob) of one interval of read marks, however many marks it holds. */
export const READ_MARK_WRITES_PER_INTERVAL_TARGET = 1;

/** The averages per membership change (`addMember` to a private group) at one room size. */
export interface MembershipCost {
  size: number;
  changes: number;
  /** What every client received (the owner, the added member, everyone else). */
  toAll: Meter;
  blobTransactions: number;
  blobByOperation: Record<string, number>;
  cpuMs: number;
}

export interface Side {
  joins: JoinCost[];
  messages: MessageCost[];
  /** Membership changes, where the side has groups (not the relay). */
  memberships: MembershipCost[];
  /** Ours only: read-marker updates and typing events by room size. */
  marks?: MarkCost[];
  typing?: TypingCost[];
  /** Sizes the room could not be grown to within the budget. */
  notReached: number[];
}

export function figuresFor(
  ours: Side,
  baseline: Side,
): { figures: Figure[]; targets: Target[]; notes: string[] } {
  const figures: Figure[] = [];
  const notes: string[] = [];
  for (const join of ours.joins) {
    const base = baseline.joins.find((b) => b.size === join.size);
    const n = join.size;
    figures.push(
      {
        name: `join into ${n}: billed units to the others`,
        unit: 'units',
        ours: join.toOthers.units,
        baseline: base?.toOthers.units ?? null,
        better: 'lower',
        note: '2 KiB units per recipient',
      },
      {
        name: `join into ${n}: messages to the others`,
        unit: 'msg',
        ours: join.toOthers.messages,
        baseline: base?.toOthers.messages ?? null,
        better: 'lower',
      },
      {
        name: `join into ${n}: bytes to the others`,
        unit: 'B',
        ours: join.toOthers.bytes,
        baseline: base?.toOthers.bytes ?? null,
        better: 'lower',
      },
      {
        name: `join into ${n}: billed units to the joiner`,
        unit: 'units',
        ours: join.toJoiner.units,
        baseline: base?.toJoiner.units ?? null,
        better: 'lower',
        note: 'its welcome and whatever else reaches it',
      },
      {
        name: `join into ${n}: Blob transactions`,
        unit: 'tx',
        ours: join.blobTransactions,
        baseline: 0,
        better: 'lower',
      },
      {
        name: `join into ${n}: Functions CPU`,
        unit: 'ms',
        ours: join.cpuMs,
        baseline: base?.cpuMs ?? null,
        better: 'lower',
        note: 'baseline: the relay process',
      },
    );
    notes.push(
      `join into ${n}: Blob transactions by operation ${JSON.stringify(join.blobByOperation)}; service CPU ${join.serviceCpuMs?.toFixed(1)} ms per join`,
    );
  }
  const targets: Target[] = [];
  const exponents = (side: Side) => {
    const first = side.joins[0];
    const last = side.joins.at(-1);
    if (!first || !last || last === first) return undefined;
    return {
      from: first.size,
      to: last.size,
      units: growthExponent(first.size, first.toOthers.units, last.size, last.toOthers.units),
      bytes: growthExponent(first.size, first.toOthers.bytes, last.size, last.toOthers.bytes),
      blobs: growthExponent(first.size, first.blobTransactions, last.size, last.blobTransactions),
      cpu: growthExponent(first.size, first.cpuMs, last.size, last.cpuMs),
    };
  };
  const e = exponents(ours);
  const b = exponents(baseline);
  if (e) {
    for (const [key, what] of [
      ['units', 'billed units to the others'],
      ['bytes', 'bytes to the others'],
      ['cpu', 'Functions CPU'],
    ] as const)
      figures.push({
        name: `join cost growth exponent, ${what}, ${e.from}→${e.to}`,
        unit: '',
        ours: e[key] ?? Number.NaN,
        baseline: b?.to === e.to ? (b[key] ?? null) : null,
        better: 'lower',
        note: '1.0 = linear in the room',
      });
    // Between consecutive sizes too, where there are three or more.
    for (let i = 1; i < ours.joins.length; i += 1) {
      const a = ours.joins[i - 1];
      const c = ours.joins[i];
      if (!a || !c) continue;
      const x = growthExponent(a.size, a.toOthers.units, c.size, c.toOthers.units);
      notes.push(
        `growth exponent of billed units to the others, ${a.size}→${c.size}: ${x?.toFixed(2) ?? 'n/a'}`,
      );
    }
  }
  for (const key of ['units', 'bytes'] as const)
    targets.push({
      name: `join cost growth exponent (${key === 'units' ? 'billed units' : 'bytes'} to the others)`,
      value: e?.[key] ?? null,
      unit: '',
      comparison: '≤',
      limit: JOIN_EXPONENT_TARGET,
      ...(e ? { note: `rooms of ${e.from} and ${e.to}` } : { note: 'fewer than two room sizes measured' }),
    });
  for (const message of ours.messages) {
    const base = baseline.messages.find((m) => m.size === message.size);
    const n = message.size;
    figures.push(
      {
        name: `message into ${n}: billed units`,
        unit: 'units',
        ours: message.toAll.units,
        baseline: base?.toAll.units ?? null,
        better: 'lower',
        note: `outbound to all ${message.receivers} receivers in a room of ${message.roomSize}, the sender's copy too; inbound is not billed`,
      },
      {
        name: `message into ${n}: bytes delivered`,
        unit: 'B',
        ours: message.toAll.bytes,
        baseline: base?.toAll.bytes ?? null,
        better: 'lower',
      },
      {
        name: `message into ${n}: Blob transactions`,
        unit: 'tx',
        ours: message.blobTransactions,
        baseline: 0,
        better: 'lower',
      },
      {
        name: `message into ${n}: Functions CPU`,
        unit: 'ms',
        ours: message.cpuMs,
        baseline: base?.cpuMs ?? null,
        better: 'lower',
        note: 'baseline: the relay process',
      },
      {
        name: `message into ${n}: Functions resident memory growth`,
        unit: 'B',
        ours: message.rssBytesPerMessage,
        baseline: base?.rssBytesPerMessage ?? null,
        better: 'lower',
        note: 'RSS delta / messages',
      },
    );
    notes.push(
      `message into ${n}: ${message.completed}/${message.sent} reached all ${message.receivers} receivers; Blob transactions by operation ${JSON.stringify(message.blobByOperation)}`,
    );
  }
  for (const change of ours.memberships) {
    const n = change.size;
    figures.push(
      {
        name: `membership change (addMember) in a room of ${n}: billed units`,
        unit: 'units',
        ours: change.toAll.units,
        baseline: null,
        better: 'lower',
        note: 'to every client: the owner, the added member, the others; the relay has no groups',
      },
      {
        name: `membership change (addMember) in a room of ${n}: Blob transactions`,
        unit: 'tx',
        ours: change.blobTransactions,
        baseline: 0,
        better: 'lower',
      },
      {
        name: `membership change (addMember) in a room of ${n}: Functions CPU`,
        unit: 'ms',
        ours: change.cpuMs,
        baseline: null,
        better: 'lower',
      },
    );
    notes.push(
      `membership change in a room of ${n}: ${change.changes} addMember, ${change.toAll.messages.toFixed(1)} messages each; Blob transactions by operation ${JSON.stringify(change.blobByOperation)}`,
    );
  }
  const first = ours.messages[0];
  const limitShare = first?.blobCommandLimit ?? 0;
  targets.push(
    {
      name: 'Blob requests per chat message with a clientMessageId: message path (one at a time, no retry)',
      value: first ? first.blobTransactions - limitShare : null,
      unit: 'req',
      comparison: '≤',
      limit: BLOB_REQUESTS_PER_MESSAGE_TARGET,
      note: first
        ? `room of ${first.size}, ${first.sent} messages; all requests by operation ${JSON.stringify(first.blobByOperation)}, less the command limit's; ${first.blobRefused} refused${first.blobRefused > 0 ? ' (their retries counted in)' : ''}`
        : 'no message measured',
    },
    {
      name: "Blob requests per chat message: command-limit share (the sender's bucket writes)",
      value: first ? limitShare : null,
      unit: 'req',
      comparison: '≤',
      limit: COMMAND_LIMIT_SHARE_TARGET,
      note: first
        ? `room of ${first.size}, ${first.sent} messages; leases of 5, 10, then what the bucket leaves, at least 8 (docs/capacity.md)`
        : 'no message measured',
    },
  );
  readStateFigures(ours, figures, targets, notes);
  if (ours.notReached.length > 0)
    notes.push(
      `rooms of ${ours.notReached.join(', ')} not measured: filling the room took longer than the budget`,
    );
  return { figures, targets, notes };
}

/**
 * Read-marker updates (N marks within one write interval: one coalesced Blob write) and typing events (per
 * recipient, and none past the online bound of the typing relay).
 */
function readStateFigures(ours: Side, figures: Figure[], targets: Target[], notes: string[]): void {
  for (const mark of ours.marks ?? []) {
    const n = mark.size;
    figures.push(
      {
        name: `read mark in ${n}: Blob transactions per marker update`,
        unit: 'tx',
        ours: mark.blobTransactions / Math.max(1, mark.sent),
        baseline: null,
        better: 'lower',
        note: `${mark.sent} marks in one write interval: ${mark.writes} write of the positions, the rest the command quota's`,
      },
      {
        name: `read mark in ${n}: billed units per marker update`,
        unit: 'units',
        ours: mark.toAll.units,
        baseline: null,
        better: 'lower',
        note: "the `read` event to the user's own connection(s); nobody else",
      },
    );
    notes.push(
      `read marks in ${n}: ${mark.sent} marks, ${mark.reads} \`read\` events back, ${mark.writes} write(s) of _members/<user>/$reads; Blob transactions by operation ${JSON.stringify(mark.blobByOperation)} (the other PUTs: the command quota's bucket, one write per 5 commands, as for any command)`,
    );
  }
  const message = ours.messages[0];
  if (message && ours.marks?.length)
    notes.push(
      `read state unused, a message costs what it did: sendMessage does no read-state work (message into ${message.size}: Blob transactions by operation ${JSON.stringify(message.blobByOperation)}, ${message.toAll.units.toFixed(1)} units); a join reads the joiner's _reads blob once (one GET, a 404 for someone who never marked) and counts unread only where a position or a listed conversation exists`,
    );
  const first = ours.marks?.[0];
  targets.push({
    name: 'Blob writes per write interval of read marks (coalesced)',
    value: first ? first.writes : null,
    unit: 'req',
    comparison: '≤',
    limit: READ_MARK_WRITES_PER_INTERVAL_TARGET,
    note: first
      ? `${first.sent} marks in a room of ${first.size}: writes of the marker's _reads blob (its version)`
      : 'no marks measured',
  });
  for (const typing of ours.typing ?? []) {
    const n = typing.size;
    const perEvent = typing.receipts / Math.max(1, typing.sent);
    figures.push(
      {
        name: `typing in ${n}: recipients per typing event`,
        unit: 'recipients',
        ours: perEvent,
        baseline: null,
        better: 'lower',
        note: 'none once the room has more online than the typing bound (100 by default)',
      },
      {
        name: `typing in ${n}: billed units per typing event per recipient`,
        unit: 'units',
        ours: perEvent > 0 ? typing.toAll.units / perEvent : 0,
        baseline: null,
        better: 'lower',
      },
      {
        name: `typing in ${n}: Blob transactions per typing event`,
        unit: 'tx',
        ours: typing.blobTransactions,
        baseline: null,
        better: 'lower',
        note: `typists who have sent a command before; their typing just before (the first command of each on the instance, or the first once its lease ran out): ${typing.firstBlobTransactions.toFixed(2)} tx, a read of the bucket the first time and the write of a lease`,
      },
    );
  }
}
