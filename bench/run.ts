/**
 * `npm run bench`: runs every scenario against the local stack and its bare `ws` baseline, prints each
 * figure with its baseline and ratio, and writes `bench/RESULTS.md` plus one JSON file per scenario under
 * `bench/results/`. `-- --quick` is the smoke run (a few minutes; its files go to `bench/results/quick/`
 * so it never overwrites the committed full results). `-- --only=fanout,echo` picks scenarios (files in
 * `bench/results/partial/`);
 * `-- --variants=webpubsub`, `-- --clients=200` and `-- --rates=40,80` pick the chat scenario's set-ups, its number
 * of clients and fixed rates to measure (no search: to compare two builds at the same rates);
 * `-- --sizes=2000` picks the cost scenario's room sizes (one size alone: a join into a big room without the smaller ones);
 * `-- --profile` records a CPU profile of the service (and Functions host) and summarises it.
 */
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { messageOf } from '../src/lib/error-message.js';
import { stopAll } from './processes.js';
import {
  machineInfo,
  printScenario,
  printTargets,
  type RunInfo,
  type ScenarioResult,
  sourceState,
  writeResultsMarkdown,
  writeScenarioJson,
} from './report.js';
import { type BenchContext, notRun, type Scenario } from './scenario.js';
import { chat } from './scenarios/chat.js';
import { cost } from './scenarios/cost.js';
import { echo } from './scenarios/echo.js';
import { fanout } from './scenarios/fanout.js';
import { flood } from './scenarios/flood.js';
import { history } from './scenarios/history.js';
import { memory } from './scenarios/memory.js';

const SCENARIOS: Scenario[] = [fanout, echo, chat, cost, memory, history, flood];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    only: { type: 'string' },
    variants: { type: 'string' },
    clients: { type: 'string' },
    rates: { type: 'string' },
    sizes: { type: 'string' },
  },
});

const root = new URL('../../', import.meta.url);
const quick = values.quick ?? false;
const only = values.only?.split(',').map((id) => id.trim());
// Quick and partial (--only) runs write beside, never over, the files of the last full run.
const resultsDir = new URL(
  quick ? 'bench/results/quick/' : only ? 'bench/results/partial/' : 'bench/results/',
  root,
);
const profileDir = new URL('profiles/', resultsDir);
mkdirSync(profileDir, { recursive: true });
const selected = SCENARIOS.filter((scenario) => !only || only.includes(scenario.id));
if (selected.length === 0) {
  console.error(`--only matched no scenario; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  process.exit(2);
}

const started = Date.now();
const context: BenchContext = {
  quick,
  profile: values.profile ?? false,
  profileDir,
  ...(values.variants ? { variants: values.variants.split(',').map((id) => id.trim()) } : {}),
  ...(values.clients ? { clients: Number(values.clients) } : {}),
  ...(values.rates ? { rates: values.rates.split(',').map(Number) } : {}),
  ...(values.sizes ? { sizes: values.sizes.split(',').map(Number) } : {}),
  log: (text) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${text}`),
};

// An interrupted bench must not leave servers or clients running.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void stopAll().finally(() => process.exit(130));
  });

const machine = machineInfo();
// Read before the run: what was built is what the working tree held when it started.
const source = sourceState(root);
console.log(
  `bench (${quick ? 'quick' : 'full'}): ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}`,
);
const results: ScenarioResult[] = [];
for (const scenario of selected) {
  let result: ScenarioResult;
  try {
    result = await scenario.run(context);
  } catch (error) {
    result = notRun(scenario, 'failed', messageOf(error));
  }
  await stopAll(); // whatever a failed scenario left behind
  results.push(result);
  printScenario(result);
}

printTargets(results);

const run: RunInfo = {
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  machine,
  ...source,
  durationSeconds: (Date.now() - started) / 1000,
};
for (const result of results) writeScenarioJson(resultsDir, result, run);
const markdown = new URL('bench/RESULTS.md', root);
writeResultsMarkdown(quick || only ? new URL('RESULTS.md', resultsDir) : markdown, run, results);
console.log(`\nbench finished in ${run.durationSeconds.toFixed(1)} s; results in ${resultsDir.pathname}`);
process.exit(results.some((r) => r.status === 'failed') ? 1 : 0);
