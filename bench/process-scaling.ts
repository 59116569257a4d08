/**
 * ReserveStock and the expiry drain with the worker and the gRPC server as separate processes, as deployed
 * (issue #12): one worker and one gRPC process, then two of each, on the run's Temporal server and database,
 * each configuration on a task queue of its own. The load client spreads its calls over the gRPC processes
 * (request i to process i mod n), as a load balancer would. The figures are ratios to the floors the run
 * measured before, so they compare with the in-process figures of the same run.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Stats } from './stats.ts';
import type { LoadJob } from './load-client.ts';
import { partPorts, startPart, type RunningProcess } from './service-processes.ts';

export interface ProcessScalingRun {
  /** The run's Temporal frontend and databases (the runtime and system roles' URLs). */
  temporalAddress: string;
  databaseUrls: { runtime: string; owner: string; system: string };
  /** The key set the run's tokens verify against, and the workflow bundle the workers load. */
  jwksFile: string;
  workflowBundlePath: string;
  /** Where the processes' logs go. */
  dir: string;
  organizationId: string;
  variants: string[];
  hot: string;
  floors: { lower: number; temporalC32: number };
  /** Scales a request count as the run does (--quick). */
  n(count: number): number;
  load(job: Omit<LoadJob, 'addresses' | 'token'>, ports: number[]): Promise<Stats>;
  expiryDrain(
    count: number,
    ttlSeconds: number,
    ports: number[],
  ): Promise<{ count: number; lastMs: number; expirySpreadMs: number }>;
  log(line: string): void;
}

/**
 * The figures with 1 and with 2 worker and gRPC processes. A configuration whose load failed (a call answered
 * UNAVAILABLE when the machine is too busy to answer within the service's deadline) is reported as failed,
 * with why, and the run goes on: the rest of the run's figures are kept.
 */
export async function processScaling(run: ProcessScalingRun) {
  const figures: Record<string, Awaited<ReturnType<typeof measureWith>> | { failed: string }> = {};
  for (const processes of [1, 2]) {
    const label = `${processes} worker + ${processes} gRPC`;
    try {
      figures[label] = await measureWith(run, processes);
    } catch (error) {
      const why = /details: '([^']*)'/.exec((error as Error).message)?.[1] ?? (error as Error).message.slice(0, 300);
      run.log(`${label} processes: failed: ${why}`);
      figures[label] = { failed: why };
    }
  }
  return figures;
}

async function measureWith(run: ProcessScalingRun, processes: number) {
  const taskQueue = `bench-processes-${processes}-${randomUUID()}`;
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: run.databaseUrls.runtime,
    DATABASE_OWNER_URL: run.databaseUrls.owner,
    DATABASE_SYSTEM_URL: run.databaseUrls.system,
    TEMPORAL_ADDRESS: run.temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    WORKFLOW_BUNDLE_PATH: run.workflowBundlePath,
    AUTH_JWKS_FILE: run.jwksFile,
    // The pool the in-process worker and server of the run have, so that the figures differ by the processes alone.
    DB_POOL_MAX: '20',
    // The schedules would belong to the run's Temporal server, which the in-process figures use too.
    RECONCILIATION_CRON: 'off',
    RETENTION_CRON: 'off',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    SHUTDOWN_GRACE_MS: '5000',
  };
  const started: RunningProcess[] = [];
  const grpcPorts: number[] = [];
  try {
    for (let i = 1; i <= processes; i += 1) {
      for (const part of ['worker', 'grpc-server'] as const) {
        const env = { ...base, ...(await partPorts()) };
        const name = `${part} ${i} of ${processes}`;
        started.push(
          await startPart(part, env, { name, logFile: path.join(run.dir, `${part}-${i}-of-${processes}.log`) }),
        );
        if (part === 'grpc-server') grpcPorts.push(Number(env.GRPC_PORT));
      }
    }
    const reserve = (label: string, total: number, concurrency: number, variants: string[]) =>
      run.load(
        {
          method: 'ReserveStock',
          total,
          concurrency,
          organizationId: run.organizationId,
          variants,
          orderPrefix: `processes-${processes}-${label}-${randomUUID().slice(0, 8)}`,
          ttlSeconds: 3600,
        },
        grpcPorts,
      );
    await reserve('warm', 40, 8, run.variants); // connections, the workers' caches, JIT
    const c32 = await reserve('c32', run.n(800), 32, run.variants);
    const burst = await reserve('burst', 200, 200, [run.hot]);
    const drain = await run.expiryDrain(run.n(500), 3, grpcPorts);
    const limitMs = (200 / run.floors.temporalC32) * 1000;
    const drainRate = drain.count / (drain.lastMs / 1000);
    const figures = {
      reserveC32: c32,
      reserveC32ToLowerFloor: round2(c32.throughput / run.floors.lower),
      burst200: { stats: burst, floorLimitMs: Math.round(limitMs), p99ToLimit: round2(burst.p99 / limitMs) },
      drain: {
        holds: drain.count,
        allReleasedMs: drain.lastMs,
        expirySpreadMs: drain.expirySpreadMs,
        perSecond: round2(drainRate),
        toLowerFloor: round2(drainRate / run.floors.lower),
      },
    };
    run.log(
      `${processes} worker + ${processes} gRPC processes: ReserveStock c32 ${c32.throughput}/s p99 ${c32.p99} ms (${figures.reserveC32ToLowerFloor} x lower floor); ` +
        `200 at once p99 ${burst.p99} ms (${figures.burst200.p99ToLimit} x the floor's limit); ` +
        `${drain.count} holds expiring together drained at ${figures.drain.perSecond}/s (${figures.drain.toLowerFloor} x lower floor)`,
    );
    return figures;
  } finally {
    await Promise.all(started.map((p) => p.stop()));
  }
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
