/**
 * The stack as `npm start` runs it, measured (issue #13): a Temporal dev server on a SQLite file with
 * `npm start`'s arguments, and the worker, gRPC server, REST server, relay and consumer each in a process of
 * its own (bench/service-processes.ts), on a scratch database and exchanges of their own. Through the load
 * client (a separate process): the empty Update-with-Start floor (c1, c32; its worker in the bench process on
 * a task queue of its own), ReserveStock c1 and c32, 200 at once for one variant, CheckAvailability c32; and
 * every process's resident memory at ready and right after the burst.
 *
 * Each round starts the whole stack afresh. Two settings of the dev server's SQLite file are compared in ABBA
 * rounds, so that drift in the machine's load falls on both: SQLite's defaults (rollback journal, a sync per
 * commit) and WAL with synchronous=normal.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { Client, Connection, WithStartWorkflowOperation } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createScratchDatabase } from '../scripts/scratch-database.ts';
import { prepareDatabase } from '../scripts/migrate.ts';
import { openOrm } from '../services/db/orm.ts';
import { databaseRoles, urlForRole, type DatabaseRole } from '../services/db/roles.ts';
import { scopeTo } from '../services/inventory/organization-scope.ts';
import { applyOperation } from '../services/inventory/stock/ledger.ts';
import { devServerSqlitePragmas } from '../services/temporal-dev-server.ts';
import { emptyWorkflow, pingUpdate } from './empty.workflow.ts';
import type { LoadJob } from './load-client.ts';
import { ghzLoad } from './ghz.ts';
import { residentKiB } from './resident-memory.ts';
import {
  deletePrivateExchanges,
  privateExchanges,
  stackEnv,
  startParts,
  startTemporalDevServer,
  type RunningProcess,
} from './service-processes.ts';
import { measure, type Stats } from './stats.ts';

/** The dev server's SQLite settings compared. */
const settings = {
  'sqlite-defaults': {},
  'wal-normal': { journal_mode: 'wal', synchronous: 'normal' },
} satisfies Record<string, Record<string, string>>;
type Settings = keyof typeof settings;

/** The goal of issue #13 for the whole stack's resident memory under the burst. */
const stackGoalMiB = 2048;

export interface NpmStartStackRun {
  /** A PostgreSQL superuser's URL, to create the scratch database and the roles. */
  adminUrl: string;
  /** The key set the run's tokens verify against. */
  jwks: object;
  /** The organization the run's token is for: the stack's stock is written for it. */
  organizationId: string;
  /** A bundle with the empty floor workflow in it. */
  workflowBundle: { code: string };
  /** The run's bearer token, for the calls ghz makes. */
  token: string;
  /** Scales a request count as the run does (--quick). */
  n(count: number): number;
  /** Calls of the Update-with-Start floor at c32, not scaled (bench/run.ts). */
  floorC32Calls: number;
  load(job: Omit<LoadJob, 'addresses' | 'token'>, ports: number[]): Promise<Stats>;
  log(line: string): void;
}

type Memory = Record<string, number | undefined>;
/** A load the stack did not carry (a call answered UNAVAILABLE past the service's deadline): why. */
type Figure = Stats | { failed: string };

interface Round {
  settings: Settings;
  floorC1: Figure;
  floorC32: Figure;
  reserveC1: Figure;
  reserveC32: Figure;
  burst200: Figure;
  /** The burst's p99 ÷ the floor's limit (200 ÷ floor c32), this round's floor. */
  burstP99ToLimit?: number;
  checkAvailabilityC32: Figure;
  /** The same CheckAvailability, and ReserveStock c32 on one variant, through ghz instead of the Node client. */
  ghz: { checkAvailabilityC32: Figure; reserveStockOneVariantC32: Figure };
  /** VmRSS (KiB) of each process: at ready, and right after the burst. */
  residentKiB: { ready: Memory; afterBurst: Memory };
}

/** Four rounds, ABBA; the figures of each, their means per setting, and the ratios of the means. */
export async function npmStartStack(run: NpmStartStackRun) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-npm-start-'));
  const undo: (() => Promise<unknown>)[] = [async () => rmSync(dir, { recursive: true, force: true })];
  try {
    const database = await createScratchDatabase(run.adminUrl, 'inventory_bench_stack');
    undo.push(database.drop);
    const roleUrl = (role: DatabaseRole) =>
      urlForRole(database.url, role, new URL(run.adminUrl).password ? databaseRoles[role] : undefined);
    const databaseUrls = { runtime: roleUrl('runtime'), owner: roleUrl('owner'), system: roleUrl('system') };
    await prepareDatabase({ ...databaseUrls, admin: database.url }, false, () => undefined);
    const { variants, hot } = await stock(database.url, run.organizationId);
    const jwksFile = path.join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify(run.jwks));
    const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
    const exchanges = privateExchanges(`bench-stack-${randomUUID().slice(0, 8)}`);
    const broker = await amqp.connect(amqpUrl);
    undo.push(async () => {
      await deletePrivateExchanges(await broker.createChannel(), exchanges);
      await broker.close();
    });

    const rounds: Round[] = [];
    const roundsFailed: string[] = [];
    for (const [i, setting] of (
      ['sqlite-defaults', 'wal-normal', 'wal-normal', 'sqlite-defaults'] as const
    ).entries()) {
      const roundDir = path.join(dir, `round-${i + 1}`);
      mkdirSync(roundDir);
      // A stack that does not start (a part not ready in time on a loaded machine) costs its round, not the run.
      try {
        rounds.push(
          await measureRound(run, setting, {
            round: i + 1,
            dir: roundDir,
            env: { databaseUrls, amqpUrl, exchanges, jwksFile },
            variants,
            hot,
          }),
        );
      } catch (error) {
        const why = `round ${i + 1} (${setting}): ${(error as Error).message.slice(0, 500)}`;
        run.log(`npm start stack, ${why}`);
        roundsFailed.push(why);
      }
    }
    return { ...summarize(run.log, rounds), roundsFailed };
  } finally {
    for (const step of undo.reverse())
      await step().catch((error: unknown) => run.log(`npm start stack: cleaning up: ${(error as Error).message}`));
  }
}

/** A warehouse and 201 variants with plenty of stock, for `organizationId`, in the stack's database. */
async function stock(databaseUrl: string, organizationId: string) {
  const observer = await openOrm(databaseUrl, 2);
  try {
    const warehouseId = randomUUID();
    await observer.em.execute(
      "insert into warehouse (id, organization_id, code, name, region) values (?, ?, 'STACK', 'Stack', 'bench')",
      [warehouseId, organizationId],
    );
    const variants = Array.from({ length: 200 }, () => randomUUID());
    const hot = randomUUID();
    await scopeTo(observer.em, organizationId).transaction((tx) =>
      applyOperation(tx, {
        operationKey: `bench-stack-stock-${organizationId}`,
        actor: 'bench',
        changes: [...variants, hot].map((variantId) => ({
          variantId,
          warehouseId,
          type: 'receipt' as const,
          deltas: { available: 1_000_000 },
          createIfMissing: true,
        })),
      }),
    );
    return { variants, hot };
  } finally {
    await observer.close(true);
  }
}

async function measureRound(
  run: NpmStartStackRun,
  setting: Settings,
  options: {
    round: number;
    dir: string;
    env: Omit<Parameters<typeof stackEnv>[0], 'temporalAddress'>;
    variants: string[];
    hot: string;
  },
): Promise<Round> {
  const temporal = await startTemporalDevServer({
    dbFile: path.join(options.dir, 'temporal.db'),
    logFile: path.join(options.dir, 'temporal.log'),
    sqlitePragmas: settings[setting],
  });
  const running: RunningProcess[] = [];
  let floorWorker: { stop(): Promise<void> } | undefined;
  try {
    const env = await stackEnv({ ...options.env, temporalAddress: temporal.address });
    await startParts(env, options.dir, () => undefined, running);
    const processes = [temporal, ...running];
    const memory = (): Memory => Object.fromEntries(processes.map((p) => [p.name, residentKiB(p.pid)]));
    const ready = memory();

    const floor = await floorOn(temporal.address, run.workflowBundle);
    floorWorker = floor;
    const grpcPort = Number(env.GRPC_PORT);
    const label = `npm start stack, round ${options.round} (${setting})`;
    run.log(`${label}: RSS MiB at ready: ${rss(ready)}`);
    // A load that fails is reported as failed, with why, and the round goes on.
    const figure = async (name: string, measured: () => Promise<Stats>): Promise<Figure> => {
      try {
        const stats = await measured();
        run.log(`${label}: ${name}: ${stats.throughput}/s, p50 ${stats.p50} / p99 ${stats.p99} ms`);
        return stats;
      } catch (error) {
        const why = /details: '([^']*)'|UNAVAILABLE: ([^\n]*)/.exec((error as Error).message);
        const failed = why?.[1] ?? why?.[2] ?? (error as Error).message.slice(0, 300);
        run.log(`${label}: ${name}: failed: ${failed}`);
        return { failed };
      }
    };
    const load = (method: LoadJob['method'], total: number, concurrency: number, variants: string[]) =>
      run.load(
        {
          method,
          total,
          concurrency,
          organizationId: run.organizationId,
          variants,
          orderPrefix: `stack-${randomUUID().slice(0, 8)}`,
          ttlSeconds: 3600,
        },
        [grpcPort],
      );
    // Warm-up: the namespace's first tasks, connections, the workers' caches, JIT.
    await figure('warm-up, empty floor', () => floor.measure(20, 4));
    await figure('warm-up, ReserveStock', () => load('ReserveStock', 40, 8, options.variants));

    // Reads first: a load Temporal did not carry leaves workflows behind that would still be running under it.
    const checkAvailabilityC32 = await figure('CheckAvailability c32', () =>
      load('CheckAvailability', run.n(6000), 32, options.variants),
    );
    // The same reads, and ReserveStock c32 on one variant, through ghz: a load client that is not Node (bench/ghz.ts).
    const ghz = (call: string, data: object, total: number) => () => {
      if (!process.env.GHZ_PATH) throw new Error('skipped: no ghz (GHZ_PATH)');
      return ghzLoad(process.env.GHZ_PATH, {
        address: `127.0.0.1:${grpcPort}`,
        call: `inventory.v1.InventoryService.${call}`,
        data,
        token: run.token,
        total,
        concurrency: 32,
      });
    };
    const line = { variant_id: options.hot, quantity: 1 };
    const ghzCheckAvailabilityC32 = await figure(
      'ghz: CheckAvailability c32',
      ghz('CheckAvailability', { organization_id: run.organizationId, items: [line] }, run.n(6000)),
    );
    const floorC1 = await figure('empty Update-with-Start c1', () => floor.measure(run.n(100), 1));
    const floorC32 = await figure('empty Update-with-Start c32', () => floor.measure(run.floorC32Calls, 32));
    const reserveC1 = await figure('ReserveStock c1', () => load('ReserveStock', run.n(150), 1, options.variants));
    const reserveC32 = await figure('ReserveStock c32', () => load('ReserveStock', run.n(800), 32, options.variants));
    const prefix = `ghz-${randomUUID().slice(0, 8)}`;
    const ghzReserveHotC32 = await figure(
      'ghz: ReserveStock c32 (one variant)',
      ghz(
        'ReserveStock',
        {
          organization_id: run.organizationId,
          order_id: `${prefix}-{{.RequestNumber}}`,
          items: [line],
          ttl_seconds: 3600,
        },
        run.n(800),
      ),
    );
    const burst200 = await figure('ReserveStock, 200 at once (one variant)', () =>
      load('ReserveStock', 200, 200, [options.hot]),
    );
    const afterBurst = memory();
    run.log(`${label}: RSS MiB right after the burst: ${rss(afterBurst)}`);
    const burstP99ToLimit =
      'p99' in burst200 && 'throughput' in floorC32
        ? round2(burst200.p99 / ((200 / floorC32.throughput) * 1000))
        : undefined;
    if (burstP99ToLimit !== undefined) run.log(`${label}: 200 at once, p99 ÷ the floor's limit ${burstP99ToLimit}`);
    return {
      settings: setting,
      floorC1,
      floorC32,
      reserveC1,
      reserveC32,
      burst200,
      ...(burstP99ToLimit === undefined ? {} : { burstP99ToLimit }),
      checkAvailabilityC32,
      ghz: { checkAvailabilityC32: ghzCheckAvailabilityC32, reserveStockOneVariantC32: ghzReserveHotC32 },
      residentKiB: { ready, afterBurst },
    };
  } finally {
    await floorWorker?.stop();
    await Promise.all(running.map((p) => p.stop()));
    await temporal.stop();
  }
}

/** A worker for the empty workflow in this process, on a task queue of its own, and a client to start it. */
async function floorOn(address: string, workflowBundle: { code: string }) {
  const taskQueue = `stack-floor-${randomUUID()}`;
  const nativeConnection = await NativeConnection.connect({ address });
  const worker = await Worker.create({ connection: nativeConnection, taskQueue, workflowBundle });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  return {
    measure: (total: number, concurrency: number) =>
      measure(total, concurrency, () =>
        client.workflow.executeUpdateWithStart(pingUpdate, {
          startWorkflowOperation: new WithStartWorkflowOperation(emptyWorkflow, {
            workflowId: `empty-${randomUUID()}`,
            taskQueue,
            workflowIdConflictPolicy: 'USE_EXISTING',
          }),
        }),
      ),
    stop: async () => {
      worker.shutdown();
      await running;
      await connection.close();
      await nativeConnection.close();
    },
  };
}

const mib = (kib: number | undefined) => (kib === undefined ? undefined : Math.round(kib / 1024));
const totalKiB = (memory: Memory) => Object.values(memory).reduce<number>((sum, kib) => sum + (kib ?? 0), 0);
const rss = (memory: Memory) =>
  `${Object.entries(memory)
    .map(([name, kib]) => `${name} ${mib(kib)}`)
    .join(', ')}; the stack ${mib(totalKiB(memory))} MiB`;

function summarize(log: (line: string) => void, rounds: Round[]) {
  // The mean over the rounds that carried the load; undefined when none did.
  const mean = (values: (number | undefined)[]) => {
    const carried = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
    return carried.length === 0
      ? undefined
      : Math.round((10 * carried.reduce((x, y) => x + y, 0)) / carried.length) / 10;
  };
  const of = (figure: Figure, key: 'p50' | 'p99' | 'throughput') => ('failed' in figure ? undefined : figure[key]);
  const figures = (setting: Settings) => {
    const its = rounds.filter((r) => r.settings === setting);
    return {
      floorC1P50: mean(its.map((r) => of(r.floorC1, 'p50'))),
      floorC32Throughput: mean(its.map((r) => of(r.floorC32, 'throughput'))),
      reserveC1P50: mean(its.map((r) => of(r.reserveC1, 'p50'))),
      reserveC32Throughput: mean(its.map((r) => of(r.reserveC32, 'throughput'))),
      reserveC32P99: mean(its.map((r) => of(r.reserveC32, 'p99'))),
      burstP99: mean(its.map((r) => of(r.burst200, 'p99'))),
      burstP99ToLimit: mean(its.map((r) => r.burstP99ToLimit)),
      checkAvailabilityC32Throughput: mean(its.map((r) => of(r.checkAvailabilityC32, 'throughput'))),
      ghzCheckAvailabilityC32Throughput: mean(its.map((r) => of(r.ghz.checkAvailabilityC32, 'throughput'))),
      ghzReserveOneVariantC32Throughput: mean(its.map((r) => of(r.ghz.reserveStockOneVariantC32, 'throughput'))),
    };
  };
  const defaults = figures('sqlite-defaults');
  const wal = figures('wal-normal');
  const walToDefaults = Object.fromEntries(
    Object.entries(wal).map(([key, value]) => {
      const base = defaults[key as keyof typeof defaults];
      return [key, value === undefined || !base ? undefined : round2(value / base)];
    }),
  ) as Record<keyof typeof wal, number | undefined>;
  log(
    `npm start stack, WAL + synchronous=normal ÷ SQLite's defaults (ratios of the means of 2 rounds each): floor c1 p50 ${walToDefaults.floorC1P50}, c32 ${walToDefaults.floorC32Throughput}; ` +
      `ReserveStock c1 p50 ${walToDefaults.reserveC1P50}, c32 ${walToDefaults.reserveC32Throughput} (p99 ${walToDefaults.reserveC32P99}); 200 at once p99 ${walToDefaults.burstP99}; CheckAvailability c32 ${walToDefaults.checkAvailabilityC32Throughput}`,
  );
  const notCarried = rounds.flatMap((r, i) =>
    [...Object.entries(r), ...Object.entries(r.ghz).map(([name, value]) => [`ghz ${name}`, value] as const)]
      .filter(([, value]) => typeof value === 'object' && 'failed' in value)
      .map(([name]) => `round ${i + 1} (${r.settings}) ${name}`),
  );
  if (notCarried.length > 0)
    log(`npm start stack: loads the stack did not carry (left out of the means): ${notCarried.join(', ')}`);
  const npmStartUses = (Object.keys(settings) as Settings[]).find(
    (setting) => JSON.stringify(settings[setting]) === JSON.stringify(devServerSqlitePragmas),
  );
  const used = npmStartUses === undefined ? undefined : figures(npmStartUses);
  if (used)
    log(
      `npm start stack as npm start runs it (${npmStartUses}): floor c1 p50 ${used.floorC1P50} ms, c32 ${used.floorC32Throughput}/s; ReserveStock c1 p50 ${used.reserveC1P50} ms (${ratio(used.reserveC1P50, used.floorC1P50)} x floor), ` +
        `c32 ${used.reserveC32Throughput}/s (${ratio(used.reserveC32Throughput, used.floorC32Throughput)} x floor); 200 at once p99 ${used.burstP99} ms (${used.burstP99ToLimit} x the floor's limit, goal <= 1.5); CheckAvailability c32 ${used.checkAvailabilityC32Throughput}/s; ` +
        `through ghz: CheckAvailability c32 ${used.ghzCheckAvailabilityC32Throughput}/s, ReserveStock c32 (one variant) ${used.ghzReserveOneVariantC32Throughput}/s`,
    );
  // The largest reading of any round: the goal is about the stack under the burst, whatever the settings.
  const peakAfterBurst =
    rounds.length === 0 ? undefined : Math.max(...rounds.map((r) => totalKiB(r.residentKiB.afterBurst)));
  const processes = Object.keys(rounds[0]?.residentKiB.ready ?? {});
  const meanMiB = (at: 'ready' | 'afterBurst') =>
    Object.fromEntries(processes.map((name) => [name, mean(rounds.map((r) => mib(r.residentKiB[at][name])))]));
  const readyMeanMiB = meanMiB('ready');
  log(
    `npm start stack: the whole stack right after the burst at most ${mib(peakAfterBurst)} MiB (goal <= ${stackGoalMiB} MiB); at ready the gRPC server ${readyMeanMiB['grpc-server']} MiB, the worker ${readyMeanMiB.worker} MiB (means of the rounds)`,
  );
  return {
    npmStartUses: npmStartUses ?? devServerSqlitePragmas,
    settings,
    rounds,
    means: { 'sqlite-defaults': defaults, 'wal-normal': wal },
    walToDefaults,
    notCarried,
    memory: {
      stackAfterBurstPeakMiB: mib(peakAfterBurst),
      goalMiB: stackGoalMiB,
      withinGoal: peakAfterBurst === undefined ? undefined : peakAfterBurst <= stackGoalMiB * 1024,
      readyMeanMiB,
      afterBurstMeanMiB: meanMiB('afterBurst'),
    },
  };
}

const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || !b ? undefined : round2(a / b));

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
