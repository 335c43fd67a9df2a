/**
 * What every scenario module shares: the context the orchestrator passes in and the shape of a scenario.
 */
import type { ScenarioResult } from './report.js';

/** The hub every scenario uses. */
export const BENCH_HUB = 'chat';

export interface BenchContext {
  /** Smoke run: fewer clients, shorter phases, each scenario within a minute or two. */
  quick: boolean;
  /** Record a CPU profile of the service (and heap profile in the memory scenario). */
  profile: boolean;
  /** Where `.cpuprofile` / `.heapprofile` files go. */
  profileDir: URL;
  /** `--variants=signalr,webpubsub`: the chat scenario's set-ups to run (all when absent). */
  variants?: readonly string[];
  /** `--clients=N`: the chat scenario's number of clients (its mode's default when absent). */
  clients?: number;
  /** `--rates=40,80`: the chat scenario's rates (messages/s), each measured, no bisection (comparisons). */
  rates?: readonly number[];
  /** `--sizes=500,2000`: the cost scenario's room sizes (its mode's when absent). */
  sizes?: readonly number[];
  log(text: string): void;
}

export interface Scenario {
  id: string;
  title: string;
  run(context: BenchContext): Promise<ScenarioResult>;
}

/** The compiled child module at `relative` (from dist/bench/). */
export function benchModule(relative: string): URL {
  return new URL(relative, new URL('./', import.meta.url));
}

/** A result for a scenario that could not run, with the reason. */
export function notRun(
  scenario: Pick<Scenario, 'id' | 'title'>,
  status: 'skipped' | 'failed',
  reason: string,
): ScenarioResult {
  return { id: scenario.id, title: scenario.title, status, reason, parameters: {}, figures: [], notes: [] };
}
