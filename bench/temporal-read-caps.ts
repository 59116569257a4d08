/**
 * Temporal's history read caps, measured: the same dev server started twice per round, once with
 * Temporal's defaults (each history queue read at most 20 times a second per shard) and once with the
 * project's dynamic config (services/temporal-dev-server.ts), rounds in ABBA order so that drift in the
 * machine's load falls on both. Each measures the empty Update-with-Start floor at concurrency 1 and 32
 * and the lag of 100 timers due at the same instant (how a burst of hold expiries fires).
 *
 * Part of `npm run bench`; alone: `node bench/temporal-read-caps.ts` (through scripts/toolchain.sh).
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { serverDynamicConfig } from '../services/temporal-dev-server.ts';
import { emptyWorkflow, pingUpdate } from './empty.workflow.ts';
import { measure, percentile, type Stats } from './stats.ts';

type Settings = 'temporal-defaults' | 'project';

export interface ReadCapsFigures {
  floorC1: Stats;
  floorC32: Stats;
  /** 100 timers due at once: how long after the instant each workflow had ended, p50 and p99 (ms). */
  timers: { p50: number; p99: number };
}

async function onServer(settings: Settings, size: number): Promise<ReadCapsFigures> {
  const config =
    settings === 'project'
      ? serverDynamicConfig
      : { 'system.enableActivityEagerExecution': serverDynamicConfig['system.enableActivityEagerExecution'] };
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: process.env.TEMPORAL_CLI_PATH ?? 'temporal' },
      log: { format: 'json', level: 'error' },
      extraArgs: Object.entries(config).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]),
    },
  });
  const taskQueue = `read-caps-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./read-caps.workflows.ts', import.meta.url)),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    }),
  });
  const running = worker.run();
  try {
    const floor = (total: number, concurrency: number) =>
      measure(total, concurrency, () =>
        env.client.workflow.executeUpdateWithStart(pingUpdate, {
          startWorkflowOperation: new WithStartWorkflowOperation(emptyWorkflow, {
            workflowId: `empty-${randomUUID()}`,
            taskQueue,
            workflowIdConflictPolicy: 'USE_EXISTING',
          }),
        }),
      );
    await floor(20, 4); // warm-up: the namespace's first tasks, the worker's caches
    const floorC1 = await floor(size, 1);
    const floorC32 = await floor(size * 4, 32);
    const dueAt = Date.now() + 3000;
    const handles = await Promise.all(
      Array.from({ length: 100 }, () =>
        env.client.workflow.start('timerWorkflow', { args: [dueAt], taskQueue, workflowId: `timer-${randomUUID()}` }),
      ),
    );
    const lags = (await Promise.all(handles.map((h) => h.result().then(() => Date.now() - dueAt)))).sort(
      (a, b) => a - b,
    );
    return { floorC1, floorC32, timers: { p50: percentile(lags, 50), p99: percentile(lags, 99) } };
  } finally {
    worker.shutdown();
    await running;
    await env.teardown();
  }
}

const mean = (values: number[]) => Math.round((10 * values.reduce((a, b) => a + b, 0)) / values.length) / 10;

/** Two rounds per setting, ABBA; each figure is the mean of its rounds. */
export async function compareReadCaps(log: (line: string) => void, size = 60) {
  const rounds: Record<Settings, ReadCapsFigures[]> = { 'temporal-defaults': [], project: [] };
  for (const settings of ['temporal-defaults', 'project', 'project', 'temporal-defaults'] as const) {
    const figures = await onServer(settings, size);
    rounds[settings].push(figures);
    log(
      `read caps, ${settings}: floor c1 p50 ${figures.floorC1.p50} ms, c32 ${figures.floorC32.throughput}/s; 100 timers due at once, lag p50 ${figures.timers.p50} ms p99 ${figures.timers.p99} ms`,
    );
  }
  const summary = Object.fromEntries(
    (['temporal-defaults', 'project'] as const).map((settings) => [
      settings,
      {
        floorC1P50: mean(rounds[settings].map((f) => f.floorC1.p50)),
        floorC32Throughput: mean(rounds[settings].map((f) => f.floorC32.throughput)),
        timerLagP50: mean(rounds[settings].map((f) => f.timers.p50)),
        timerLagP99: mean(rounds[settings].map((f) => f.timers.p99)),
      },
    ]),
  ) as Record<Settings, { floorC1P50: number; floorC32Throughput: number; timerLagP50: number; timerLagP99: number }>;
  const { project, 'temporal-defaults': defaults } = summary;
  log(
    `read caps, project ÷ Temporal's defaults: floor c1 p50 ${(project.floorC1P50 / defaults.floorC1P50).toFixed(2)}, c32 throughput ${(project.floorC32Throughput / defaults.floorC32Throughput).toFixed(2)}, timer lag p99 ${(project.timerLagP99 / defaults.timerLagP99).toFixed(2)}`,
  );
  return { rounds, summary };
}

if (import.meta.main) {
  await compareReadCaps((line) => process.stdout.write(`${line}\n`), process.argv.includes('--quick') ? 30 : 60);
}
