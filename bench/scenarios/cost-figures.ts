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
 * The target of Blob requests per chat message with a `clientMessageId`, sent one at a time (so no group
 * commit shares a request) and with no request refused (so no retry): the append and its exactly-once marker
 * in one request.
 */
export const BLOB_REQUESTS_PER_MESSAGE_TARGET = 1;

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
  cpuMs: number;
  rssBytesPerMessage: number;
}

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
  targets.push({
    name: 'Blob requests per chat message with a clientMessageId (one at a time, no retry)',
    value: first ? first.blobTransactions : null,
    unit: 'req',
    comparison: '≤',
    limit: BLOB_REQUESTS_PER_MESSAGE_TARGET,
    note: first
      ? `room of ${first.size}, ${first.sent} messages; by operation ${JSON.stringify(first.blobByOperation)}; ${first.blobRefused} refused${first.blobRefused > 0 ? ' (their retries counted in)' : ''}`
      : 'no message measured',
  });
  if (ours.notReached.length > 0)
    notes.push(
      `rooms of ${ours.notReached.join(', ')} not measured: filling the room took longer than the budget`,
    );
  return { figures, targets, notes };
}
