/**
 * `npm run bench`: measures the reservation path against what its parts cost on this machine, in one
 * run, and writes bench/results/latest.{json,md}. Everything is real and private to the run: a scratch
 * PostgreSQL database, a Temporal dev server on free ports, a worker and the gRPC server in this process.
 *
 *   ReserveStock over gRPC      concurrency 1, 8, 32; lines spread over 200 variants, and all on one hot variant
 *   floor: Temporal             an empty workflow started by Update-with-Start, same server, concurrency 32
 *   floor: PostgreSQL           the bare reserve transaction (guarded update + ledger row + outbox row), concurrency 32
 *   TTL accuracy                lag between expires_at and the release, 50 holds made and expiring together; drain rate of 500 made to expire within about a second
 *   CheckAvailability           throughput and p99 against a bare SELECT through the same pool, and against the gRPC
 *                               floor: the health service's Check on the same server, from the same load process
 *   Reconciliation              rows rebuilt per second (scan alone, and the whole workflow) against one bare
 *                               GROUP BY over the same ledger
 *   Authentication              ReserveStock and CheckAvailability through a server that verifies bearer tokens
 *                               against one that takes the caller as given, same run; and fresh-token verifications/s
 *   CPU per operation           each group of processes' CPU (Temporal, PostgreSQL, Node, other) per call of the floor
 *                               and of ReserveStock at c32, from /proc (bench/process-cpu.ts)
 *   Processes                   ReserveStock c32, the 200-at-once burst and the expiry drain with 1 worker + 1 gRPC
 *                               process and with 2 + 2, as separate processes (bench/process-scaling.ts)
 *   The `npm start` stack      a dev server on a SQLite file and every part as its own process, as `npm start`
 *                               runs them: the empty floor c1 and c32, ReserveStock c1 and c32, the 200-at-once
 *                               burst, CheckAvailability c32, every process's RSS at ready and after the burst;
 *                               SQLite's defaults against WAL + synchronous=normal, ABBA (bench/npm-start-stack.ts)
 *   Temporal read caps          the empty floor and 100 timers on a dev server with Temporal's defaults and
 *                               with the project's dynamic config, ABBA (bench/temporal-read-caps.ts)
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { MockActivityEnvironment, TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Runtime, Worker } from '@temporalio/worker';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { createScratchDatabase } from '../scripts/scratch-database.ts';
import { migrate, openOrm } from '../services/db/orm.ts';
import { bootstrapDatabase, databaseRoles, urlForRole, type DatabaseRole } from '../services/db/roles.ts';
import { createLogger, temporalLoggerFrom } from '../services/logger.ts';
import { oneStatementOn, scopeTo } from '../services/inventory/organization-scope.ts';
import { applyOperation } from '../services/inventory/stock/ledger.ts';
import { checkAvailability } from '../services/inventory/stock/availability.ts';
import { availabilityReader } from '../services/inventory/stock/availability-batch.ts';
import { createActivities } from '../activities/index.ts';
import { bindGrpcServer, createGrpcServer } from '../services/grpc/server.ts';
import { loadInventoryProto } from '../services/grpc/proto.ts';
import type { InventoryServiceClient } from '../services/grpc/generated/inventory/v1/InventoryService.ts';
import { searchAttributes } from '../workflows/search-attributes.ts';
import { dynamicConfigFlags } from '../services/temporal-dev-server.ts';
import { itemAt } from '../services/guaranteed.ts';
import { emptyWorkflow, pingUpdate } from './empty.workflow.ts';
import { createDevIssuer } from '../services/auth/dev-issuer.ts';
import { createTokenVerifier, devAudience, devIssuer, type TokenVerifier } from '../services/auth/token-verifier.ts';
import { loadConfig } from '../services/config.ts';
import { limitsFrom } from '../services/limits/settings.ts';
import { dropClusterDatabases, startTemporalCluster } from '../scripts/temporal-cluster.ts';
import { measure, percentile, type Stats } from './stats.ts';
import { cpuByProcessGroup, cpuPerOperation } from './process-cpu.ts';
import type { LoadJob } from './load-client.ts';
import { processScaling } from './process-scaling.ts';
import { npmStartStack } from './npm-start-stack.ts';
import { compareReadCaps } from './temporal-read-caps.ts';
import { reconciliationThroughput } from './reconciliation-throughput.ts';

const quick = process.argv.includes('--quick');
// --cluster: the reservation figures again on a real Temporal server with PostgreSQL persistence (scripts/temporal-cluster.ts).
const withCluster = process.argv.includes('--cluster') || process.env.TEMPORAL_MODE === 'cluster';
const scale = quick ? 0.25 : 1;
const n = (count: number) => Math.max(10, Math.round(count * scale));
/** Calls of every Update-with-Start floor at c32, whatever the scale (see the in-process floor). */
const floorC32Calls = 600;
const log = (line: string) => process.stdout.write(`[bench] ${line}\n`);

// --soak MINUTES: the whole stack, as separate processes, under a steady mixed load instead (bench/soak.ts).
if (process.argv.includes('--soak')) {
  const { runSoak } = await import('./soak.ts');
  process.exit(await runSoak(process.argv));
}

const logger = createLogger({ LOG_LEVEL: 'error', LOG_FORMAT: 'json' }, 'bench');
Runtime.install({
  logger: temporalLoggerFrom(logger),
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
});

// As in production (README, Security model): a superuser creates the database and the roles, the owner role
// migrates, the service runs as the runtime role (row-level security on) and the cross-organization
// activities as the system role. `observer` (the superuser) writes the bench's fixtures and times the bare
// queries the service's figures are compared with.
const adminUrl = process.env.DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const database = await createScratchDatabase(adminUrl, 'inventory_bench');
const roleUrl = (role: DatabaseRole) =>
  urlForRole(database.url, role, new URL(adminUrl).password ? databaseRoles[role] : undefined);
await bootstrapDatabase(database.url, {
  owner: roleUrl('owner'),
  runtime: roleUrl('runtime'),
  system: roleUrl('system'),
});
const owner = await openOrm(roleUrl('owner'), 2);
await migrate(owner);
await owner.close();
const orm = await openOrm(roleUrl('runtime'), 20);
const systemOrm = await openOrm(roleUrl('system'), 2);
const observer = await openOrm(database.url, 20);
const temporal = await TestWorkflowEnvironment.createLocal({
  server: {
    executable: { type: 'existing-path', path: process.env.TEMPORAL_CLI_PATH ?? 'temporal' },
    searchAttributes,
    log: { format: 'json', level: 'error' },
    extraArgs: dynamicConfigFlags(),
  },
});
const taskQueue = `bench-${randomUUID()}`;
const bundle = await bundleWorkflowCode({
  workflowsPath: fileURLToPath(new URL('./bench-workflows.ts', import.meta.url)),
  logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
});
const worker = await Worker.create({
  connection: temporal.nativeConnection,
  taskQueue,
  workflowBundle: bundle,
  activities: createActivities({ orm, systemOrm }),
});
const workerRun = worker.run();
const organizationId = randomUUID();
// The order service's token, signed by a run-private issuer and verified as in production (ES256, JWKS).
const issuer = await createDevIssuer();
const verifyToken = createTokenVerifier({
  keys: { jwks: issuer.jwks },
  issuer: devIssuer,
  audience: devAudience,
  clockToleranceSeconds: 30,
});
const token = await issuer.mint({
  subject: 'order-service',
  organizationId,
  roles: ['order-service'],
  ttlSeconds: 86_400,
});
// The limits a deployment runs with (the environment's, else the documented defaults): the figures are with them on.
// The rates are raised unless set (here and for the stacks the run starts, which inherit the environment): the
// load of one client passes the 5 000 calls/s a subject may make by default, and would measure the limiter's
// refusals. The limiter still counts every call.
process.env.RATE_LIMIT_ORGANIZATION_PER_SECOND ??= '100000';
process.env.RATE_LIMIT_SUBJECT_PER_SECOND ??= '100000';
const limits = limitsFrom(loadConfig());
log(
  `limits on: ${limits.rate.organizationPerWindow / limits.rate.windowSeconds}/s per organization, ${limits.rate.subjectPerWindow / limits.rate.windowSeconds}/s per subject (0 = off), ${limits.quotas.activeHoldsPerOrganization} open holds per organization`,
);
const grpcServer = async (verify: TokenVerifier) => {
  const { server } = createGrpcServer({
    orm,
    logger,
    verifyToken: verify,
    limits,
    temporal: { client: temporal.client, taskQueue },
  });
  return { server, port: await bindGrpcServer(server, '127.0.0.1', 0) };
};
const { server, port } = await grpcServer(verifyToken);
// The baseline for the cost of authentication: the same server, handed the caller without any check.
const caller = await verifyToken(token);
const unverified = await grpcServer(async () => caller);
const proto = loadInventoryProto();
const client = new proto.inventory.v1.InventoryService(
  `127.0.0.1:${port}`,
  grpc.credentials.createInsecure(),
) as InventoryServiceClient;
const bearer = new grpc.Metadata();
bearer.set('authorization', `Bearer ${token}`);
// Clients of the gRPC servers in other processes (the Processes case), by port.
const clients = new Map([[port, client]]);
const clientAt = (target: number) => {
  const found =
    clients.get(target) ??
    (new proto.inventory.v1.InventoryService(
      `127.0.0.1:${target}`,
      grpc.credentials.createInsecure(),
    ) as InventoryServiceClient);
  clients.set(target, found);
  return found;
};
const rpc = <T>(method: 'ReserveStock' | 'CheckAvailability', request: object, target = port) =>
  new Promise<T>((resolve, reject) =>
    (
      clientAt(target)[method] as unknown as (r: object, m: grpc.Metadata, cb: (e: Error | null, v: T) => void) => void
    ).call(clientAt(target), request, bearer, (e, v) => (e ? reject(e) : resolve(v))),
  );

/** Runs a load job in a separate process (bench/load-client.ts), as the order service would call, spread over `targets`. */
async function load(job: Omit<LoadJob, 'addresses' | 'token'>, targets: number | number[] = port): Promise<Stats> {
  const addresses = [targets].flat().map((target) => `127.0.0.1:${target}`);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [fileURLToPath(new URL('./load-client.ts', import.meta.url)), JSON.stringify({ ...job, token, addresses })],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout) as Stats;
}

const results: Record<string, unknown> = {
  machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  quick,
  at: new Date().toISOString(),
};

try {
  // ---------------------------------------------------------------- data
  const scope = scopeTo(observer.em, organizationId);
  const warehouseId = randomUUID();
  await observer.em.execute(
    "insert into warehouse (id, organization_id, code, name, region) values (?, ?, 'BENCH', 'Bench', 'bench')",
    [warehouseId, organizationId],
  );
  const variants = Array.from({ length: 200 }, () => randomUUID());
  const hot = randomUUID();
  for (const variantId of [...variants, hot]) {
    await scope.transaction((tx) =>
      applyOperation(tx, {
        operationKey: `bench-stock-${variantId}`,
        actor: 'bench',
        changes: [{ variantId, warehouseId, type: 'receipt', deltas: { available: 1_000_000 }, createIfMissing: true }],
      }),
    );
  }
  log(`stocked 201 variants in a scratch database; Temporal dev server and worker up`);

  // ---------------------------------------------------------------- warm-up (bundle, pools, JIT)
  await measure(40, 8, (i) =>
    rpc('ReserveStock', {
      organization_id: organizationId,
      order_id: `warm-${i}`,
      items: [{ variant_id: itemAt(variants, i % 200, 'variants'), quantity: 1 }],
    }),
  );

  // ---------------------------------------------------------------- floors
  const temporalFloorC1 = await measure(n(100), 1, () =>
    temporal.client.workflow.executeUpdateWithStart(pingUpdate, {
      startWorkflowOperation: new WithStartWorkflowOperation(emptyWorkflow, {
        workflowId: `empty-${randomUUID()}`,
        taskQueue,
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    }),
  );
  log(
    `floor, Temporal Update-with-Start of an empty workflow (c1): ${temporalFloorC1.throughput}/s, p50 ${temporalFloorC1.p50} ms`,
  );
  // The c32 floors take 600 calls even with --quick: over 150 (likely most of it ramp-up) the floor came out at about half (38–41/s against
  // 64–78/s over 600, while ReserveStock's c32 throughput was the same), and every ratio to it doubled.
  const cpuBeforeFloor = cpuByProcessGroup();
  const temporalFloor = await measure(floorC32Calls, 32, () =>
    temporal.client.workflow.executeUpdateWithStart(pingUpdate, {
      startWorkflowOperation: new WithStartWorkflowOperation(emptyWorkflow, {
        workflowId: `empty-${randomUUID()}`,
        taskQueue,
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    }),
  );
  // Where an operation's cost goes on this machine (bench/process-cpu.ts): the floor's, then ReserveStock's at c32.
  const floorCpu = cpuPerOperation(cpuBeforeFloor, cpuByProcessGroup(), floorC32Calls);
  log(
    `floor, Temporal Update-with-Start of an empty workflow (c32): ${temporalFloor.throughput}/s, p50 ${temporalFloor.p50} ms; CPU ms per call ${JSON.stringify(floorCpu)}`,
  );
  const postgresFloor = await measure(n(3000), 32, (i) =>
    scopeTo(orm.em, organizationId).transaction((tx) =>
      applyOperation(tx, {
        operationKey: `bench-floor-${i}-${randomUUID()}`,
        actor: 'bench',
        changes: [
          {
            variantId: itemAt(variants, i % 200, 'variants'),
            warehouseId,
            type: 'reserve',
            deltas: { available: -1, reserved: 1 },
          },
        ],
      }),
    ),
  );
  log(`floor, PostgreSQL bare reserve transaction (c32): ${postgresFloor.throughput}/s, p50 ${postgresFloor.p50} ms`);
  // What a ReserveStock adds to the empty task at c1: the hold's own transaction, as its activity runs it
  // (reservation row, ledger, outbox), timed outside Temporal.
  const holdActivity = createActivities({ orm, systemOrm }).holdReservationStock;
  const holdAlone = await measure(n(100), 1, (i) => {
    const orderId = `bench-hold-${i}-${randomUUID()}`;
    const reservationId = randomUUID();
    const environment = new MockActivityEnvironment({
      workflowExecution: { workflowId: `reservation-${organizationId}-${orderId}`, runId: randomUUID() },
    });
    return environment.run(holdActivity, {
      organizationId,
      orderId,
      reservationId,
      items: [{ variant_id: itemAt(variants, i % 200, 'variants'), quantity: 1 }],
      ttlSeconds: 3600,
    });
  });
  log(`the hold's transaction alone (its activity outside Temporal, c1): p50 ${holdAlone.p50} ms`);
  const lowerFloor = Math.min(temporalFloor.throughput, postgresFloor.throughput);

  // ---------------------------------------------------------------- ReserveStock
  const reserve: Record<string, Stats> = {};
  let reserveCpu: ReturnType<typeof cpuPerOperation> | undefined;
  for (const label of ['spread over 200 variants', 'one hot variant'] as const) {
    for (const concurrency of [1, 8, 32]) {
      const total = n(concurrency === 1 ? 150 : concurrency === 8 ? 400 : 800);
      const run = randomUUID().slice(0, 8);
      const cpuBefore = cpuByProcessGroup();
      const stats = await load({
        method: 'ReserveStock',
        total,
        concurrency,
        organizationId,
        variants: label === 'one hot variant' ? [hot] : variants,
        orderPrefix: `bench-${run}`,
        ttlSeconds: 3600,
      });
      reserve[`${label}, c${concurrency}`] = stats;
      if (label === 'spread over 200 variants' && concurrency === 32)
        reserveCpu = cpuPerOperation(cpuBefore, cpuByProcessGroup(), total);
      log(
        `ReserveStock ${label}, c${concurrency}: ${stats.throughput}/s, p50 ${stats.p50} / p95 ${stats.p95} / p99 ${stats.p99} ms`,
      );
    }
  }
  // A flash sale as a client sees it: 200 orders at once for one variant, against the floor's limit (200 ÷ floor c32).
  const burst = await load({
    method: 'ReserveStock',
    total: 200,
    concurrency: 200,
    organizationId,
    variants: [hot],
    orderPrefix: `burst-${randomUUID().slice(0, 8)}`,
    ttlSeconds: 3600,
  });
  const burstLimitMs = (200 / temporalFloor.throughput) * 1000;
  log(
    `ReserveStock, 200 at once (one variant): p50 ${burst.p50} / p99 ${burst.p99} ms; the floor's limit ${Math.round(burstLimitMs)} ms; p99 ÷ limit ${(burst.p99 / burstLimitMs).toFixed(2)} (goal <= 1.5)`,
  );
  const spreadC1 = reserve['spread over 200 variants, c1'];
  if (!spreadC1) throw new Error('no ReserveStock run spread over 200 variants at c1');
  // A ReserveStock at c1 is at least an empty Update-with-Start, the hold's transaction and a gRPC call.
  const grpcC1 = await load({ method: 'HealthCheck', total: n(200), concurrency: 1, organizationId, variants });
  const partsC1 = temporalFloorC1.p50 + holdAlone.p50 + grpcC1.p50;
  log(
    `ReserveStock c1 p50 ${spreadC1.p50} ms: ${(spreadC1.p50 / temporalFloorC1.p50).toFixed(2)} x the empty floor (goal <= 1.2); ` +
      `${(spreadC1.p50 / partsC1).toFixed(2)} x its parts: the floor ${temporalFloorC1.p50} + the hold's transaction ${holdAlone.p50} + a gRPC call ${grpcC1.p50} ms`,
  );
  const spreadC32 = reserve['spread over 200 variants, c32'];
  if (!spreadC32) throw new Error('no ReserveStock run spread over 200 variants at c32');
  const reserveRatio = spreadC32.throughput / lowerFloor;
  log(
    `ReserveStock (spread, c32) / lower floor = ${reserveRatio.toFixed(2)} (goal >= 0.9); CPU ms per call ${JSON.stringify(reserveCpu)} against the floor's ${floorCpu.total}`,
  );

  // ---------------------------------------------------------------- TTL accuracy
  const ttl = await expiryLag(50, 3);
  log(`TTL, 50 holds expiring together: lag p50 ${ttl.p50} ms, p99 ${ttl.p99} ms (goal p99 <= 500 ms)`);
  const drain = await expiryLag(n(500), 3, [port], true);
  const drainRate = drain.count / (drain.lastMs / 1000);
  log(
    `TTL, ${drain.count} holds expiring within ${drain.expirySpreadMs} ms: all released ${drain.lastMs} ms after the first expiry, ${drainRate.toFixed(1)}/s = ${(drainRate / lowerFloor).toFixed(2)} x lower floor (goal >= 0.8)`,
  );

  // ---------------------------------------------------------------- CheckAvailability
  // Two floors: the bare SELECT through the same pool (the ratio), and a unary call that does nothing,
  // the standard health service's Check on the same server from the same separate load process (what gRPC
  // serving alone costs on this machine). Each is measured next to the RPC, in ABBA order against it.
  const availabilityLoad = () =>
    load({ method: 'CheckAvailability', total: n(3000), concurrency: 32, organizationId, variants });
  const healthLoad = () => load({ method: 'HealthCheck', total: n(3000), concurrency: 32, organizationId, variants });
  const bareSelectRun = () =>
    measure(n(3000), 32, (i) =>
      observer.em
        .fork()
        .execute('select available from stock where organization_id = ? and variant_id = ?', [
          organizationId,
          itemAt(variants, i % 200, 'variants'),
        ]),
    );
  const availabilityRuns: Stats[] = [];
  const healthRuns: Stats[] = [];
  const bareSelectRuns: Stats[] = [];
  const availabilityCases = [
    [availabilityRuns, availabilityLoad],
    [healthRuns, healthLoad],
    [bareSelectRuns, bareSelectRun],
  ] as const;
  for (let round = 0; round < 2; round += 1)
    for (const [runs, run] of round === 0 ? availabilityCases : [...availabilityCases].reverse())
      runs.push(await run());
  const mean = (runs: Stats[], pick: (s: Stats) => number) =>
    round2(runs.reduce((t, r) => t + pick(r), 0) / runs.length);
  const summary = (runs: Stats[]) => ({
    throughput: mean(runs, (r) => r.throughput),
    p50: mean(runs, (r) => r.p50),
    p99: mean(runs, (r) => r.p99),
    runs,
  });
  const availability = summary(availabilityRuns);
  const healthFloor = summary(healthRuns);
  const bareSelect = summary(bareSelectRuns);
  // One statement a call, as a caller alone would read; the RPC shares statements between concurrent calls.
  const readAlone = availabilityReader(oneStatementOn(orm));
  const availabilityQuery = await measure(n(3000), 32, (i) =>
    checkAvailability(readAlone, organizationId, [{ variantId: itemAt(variants, i % 200, 'variants'), quantity: 1 }]),
  );
  const availabilityRatio = availability.throughput / bareSelect.throughput;
  const availabilityToGrpcFloor = availability.throughput / healthFloor.throughput;
  log(
    `where the time goes: the availability query alone (no gRPC) ${availabilityQuery.throughput}/s p99 ${availabilityQuery.p99} ms (${(availabilityQuery.throughput / bareSelect.throughput).toFixed(2)} x bare SELECT); ` +
      `gRPC floor (health Check, c32) ${healthFloor.throughput}/s p99 ${healthFloor.p99} ms`,
  );
  log(
    `CheckAvailability (c32): ${availability.throughput}/s p99 ${availability.p99} ms; bare SELECT ${bareSelect.throughput}/s p99 ${bareSelect.p99} ms; ` +
      `ratio ${availabilityRatio.toFixed(2)} (goal >= 0.6); to the gRPC floor ${availabilityToGrpcFloor.toFixed(2)}`,
  );

  // ---------------------------------------------------------------- Reconciliation
  const reconciliation = await reconciliationThroughput({
    observer,
    orm,
    client: temporal.client,
    taskQueue,
    rows: n(100_000),
    movementsPerRow: 5,
    rounds: 5,
  });
  log(
    `Reconciliation of ${reconciliation.rows} rows (${reconciliation.movements} movements, ${reconciliation.drifted} drifted; median of ${reconciliation.rounds}): bare GROUP BY ${reconciliation.bareRowsPerSecond} rows/s; ` +
      `scan ${reconciliation.scanRowsPerSecond} rows/s (${reconciliation.scanToBare} x); whole workflow ${reconciliation.workflowRowsPerSecond} rows/s (${reconciliation.workflowToBare} x, goal >= 0.5)`,
  );

  // ---------------------------------------------------------------- Authentication
  // Runs against the verifying and the trusting server in ABBA order, so drift in the machine's load (and
  // in Temporal's, as workflows pile up) weighs on both alike.
  const authCases = {
    reserve: { verified: [] as Stats[], unverified: [] as Stats[] },
    availability: { verified: [] as Stats[], unverified: [] as Stats[] },
  };
  const servers = [
    ['verified', port],
    ['unverified', unverified.port],
  ] as const;
  for (let round = 0; round < (quick ? 2 : 4); round += 1) {
    for (const [mode, target] of round % 2 === 0 ? servers : [...servers].reverse()) {
      authCases.reserve[mode].push(
        await load(
          {
            method: 'ReserveStock',
            total: n(300),
            concurrency: 8,
            organizationId,
            variants,
            orderPrefix: `auth-${mode}-${round}-${randomUUID().slice(0, 8)}`,
            ttlSeconds: 3600,
          },
          target,
        ),
      );
      authCases.availability[mode].push(
        await load({ method: 'CheckAvailability', total: n(6000), concurrency: 32, organizationId, variants }, target),
      );
    }
  }
  const meanThroughput = (runs: Stats[]) => runs.reduce((sum, r) => sum + r.throughput, 0) / runs.length;
  const authentication = {
    reserveStockC8: {
      verifiedPerSecond: round2(meanThroughput(authCases.reserve.verified)),
      unverifiedPerSecond: round2(meanThroughput(authCases.reserve.unverified)),
      ratio: round2(meanThroughput(authCases.reserve.verified) / meanThroughput(authCases.reserve.unverified)),
    },
    checkAvailabilityC32: {
      verifiedPerSecond: round2(meanThroughput(authCases.availability.verified)),
      unverifiedPerSecond: round2(meanThroughput(authCases.availability.unverified)),
      ratio: round2(
        meanThroughput(authCases.availability.verified) / meanThroughput(authCases.availability.unverified),
      ),
    },
    // A token never seen before costs a signature check; the same token again is served from the verifier's cache.
    freshTokenVerifications: await measure(n(2000), 1, async () =>
      verifyToken(await issuer.mint({ subject: 'order-service', organizationId, roles: ['order-service'] })),
    ),
    mintOnly: await measure(n(2000), 1, () =>
      issuer.mint({ subject: 'order-service', organizationId, roles: ['order-service'] }),
    ),
  };
  log(
    `authentication: ReserveStock c8 with tokens ${authentication.reserveStockC8.verifiedPerSecond}/s vs without ${authentication.reserveStockC8.unverifiedPerSecond}/s = ${authentication.reserveStockC8.ratio} (goal >= 0.95)`,
  );
  log(
    `authentication: CheckAvailability c32 with tokens ${authentication.checkAvailabilityC32.verifiedPerSecond}/s vs without ${authentication.checkAvailabilityC32.unverifiedPerSecond}/s = ${authentication.checkAvailabilityC32.ratio} (goal >= 0.95)`,
  );
  log(
    `authentication: mint + verify a fresh token ${authentication.freshTokenVerifications.throughput}/s, mint alone ${authentication.mintOnly.throughput}/s`,
  );

  const cluster = withCluster ? await clusterFigures() : undefined;
  const processes = await processFigures();
  const npmStart = await npmStartStack({
    adminUrl,
    jwks: issuer.jwks,
    organizationId,
    workflowBundle: bundle,
    token,
    n,
    floorC32Calls,
    load,
    log,
  });
  const readCaps = await compareReadCaps(log, n(60));

  Object.assign(results, {
    burst200: { stats: burst, floorLimitMs: Math.round(burstLimitMs), p99ToLimit: round2(burst.p99 / burstLimitMs) },
    ...(cluster ? { cluster } : {}),
    processes,
    npmStart,
    readCaps: readCaps.summary,
    limits: { rate: limits.rate, quotas: limits.quotas },
    authentication,
    reconciliation,
    floors: {
      temporalUpdateWithStartC1: temporalFloorC1,
      temporalUpdateWithStart: temporalFloor,
      postgresReserveTransaction: postgresFloor,
      holdTransactionC1: holdAlone,
      grpcHealthCheckC1: grpcC1,
      lower: lowerFloor,
    },
    reserveStock: reserve,
    reserveToLowerFloor: round2(reserveRatio),
    cpuPerOperationC32: { emptyFloor: floorCpu, reserveStock: reserveCpu },
    reserveC1: {
      p50ToFloor: round2(spreadC1.p50 / temporalFloorC1.p50),
      p50ToItsParts: round2(spreadC1.p50 / partsC1),
    },
    ttl: {
      fiftyTogether: { p50Ms: ttl.p50, p99Ms: ttl.p99 },
      drain: {
        holds: drain.count,
        allReleasedMs: drain.lastMs,
        expirySpreadMs: drain.expirySpreadMs,
        perSecond: round2(drainRate),
        toLowerFloor: round2(drainRate / lowerFloor),
      },
    },
    checkAvailability: {
      rpc: availability,
      queryWithoutGrpc: availabilityQuery,
      bareSelect,
      grpcFloor: healthFloor,
      ratio: round2(availabilityRatio),
      toGrpcFloor: round2(availabilityToGrpcFloor),
    },
  });
  writeResults();

  /**
   * The same reservation figures on a real Temporal server (PostgreSQL persistence, 4 history shards,
   * one process) started for this run on the same machine: its floor, ReserveStock c1 and c32, the burst.
   */
  async function clusterFigures() {
    const prefix = `temporal_bench_${randomUUID().slice(0, 8)}`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-cluster-'));
    const postgresUrl = adminUrl;
    const cluster = await startTemporalCluster({ postgresUrl, dir, frontendPort: 0, databasePrefix: prefix });
    const env = await TestWorkflowEnvironment.createFromExistingServer({
      address: cluster.address,
      namespace: 'default',
    });
    const queue = `bench-cluster-${randomUUID()}`;
    const clusterWorker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: queue,
      workflowBundle: bundle,
      activities: createActivities({ orm, systemOrm }),
    });
    const running = clusterWorker.run();
    const { server: clusterServer } = createGrpcServer({
      orm,
      logger,
      verifyToken,
      limits,
      temporal: { client: env.client, taskQueue: queue },
    });
    const clusterPort = await bindGrpcServer(clusterServer, '127.0.0.1', 0);
    try {
      const floor = (concurrency: number, total: number) =>
        measure(total, concurrency, () =>
          env.client.workflow.executeUpdateWithStart(pingUpdate, {
            startWorkflowOperation: new WithStartWorkflowOperation(emptyWorkflow, {
              workflowId: `empty-${randomUUID()}`,
              taskQueue: queue,
              workflowIdConflictPolicy: 'USE_EXISTING',
            }),
          }),
        );
      await floor(4, 20); // warm-up: connections, caches, the namespace's first tasks
      const floorC1 = await floor(1, n(100));
      const floorC32 = await floor(32, floorC32Calls);
      const c1 = await load(
        {
          method: 'ReserveStock',
          total: n(150),
          concurrency: 1,
          organizationId,
          variants,
          orderPrefix: `cl1-${randomUUID().slice(0, 8)}`,
          ttlSeconds: 3600,
        },
        clusterPort,
      );
      const c32 = await load(
        {
          method: 'ReserveStock',
          total: n(800),
          concurrency: 32,
          organizationId,
          variants,
          orderPrefix: `cl32-${randomUUID().slice(0, 8)}`,
          ttlSeconds: 3600,
        },
        clusterPort,
      );
      const clusterBurst = await load(
        {
          method: 'ReserveStock',
          total: 200,
          concurrency: 200,
          organizationId,
          variants: [hot],
          orderPrefix: `clb-${randomUUID().slice(0, 8)}`,
          ttlSeconds: 3600,
        },
        clusterPort,
      );
      const limitMs = (200 / floorC32.throughput) * 1000;
      log(
        `cluster: floor c1 ${floorC1.throughput}/s p50 ${floorC1.p50} ms, c32 ${floorC32.throughput}/s; ReserveStock c1 ${c1.throughput}/s p50 ${c1.p50} ms, c32 ${c32.throughput}/s p99 ${c32.p99} ms (${(c32.throughput / floorC32.throughput).toFixed(2)} x floor); 200 at once p99 ${clusterBurst.p99} ms (${(clusterBurst.p99 / limitMs).toFixed(2)} x the floor's limit)`,
      );
      return {
        floorC1,
        floorC32,
        reserveC1: c1,
        reserveC32: c32,
        reserveC32ToFloor: round2(c32.throughput / floorC32.throughput),
        burst200: {
          stats: clusterBurst,
          floorLimitMs: Math.round(limitMs),
          p99ToLimit: round2(clusterBurst.p99 / limitMs),
        },
      };
    } finally {
      clusterServer.forceShutdown();
      clusterWorker.shutdown();
      await running;
      await env.teardown();
      await cluster.stop();
      await dropClusterDatabases(postgresUrl, prefix);
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** ReserveStock and the expiry drain with 1 and 2 worker and gRPC processes (bench/process-scaling.ts). */
  async function processFigures() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-processes-'));
    try {
      const workflowBundlePath = path.join(dir, 'workflow-bundle.js');
      writeFileSync(workflowBundlePath, bundle.code);
      const jwksFile = path.join(dir, 'jwks.json');
      writeFileSync(jwksFile, JSON.stringify(issuer.jwks));
      return await processScaling({
        temporalAddress: temporal.address,
        databaseUrls: { runtime: roleUrl('runtime'), owner: roleUrl('owner'), system: roleUrl('system') },
        jwksFile,
        workflowBundlePath,
        dir,
        organizationId,
        variants,
        hot,
        floors: { lower: lowerFloor, temporalC32: temporalFloor.throughput },
        n,
        load,
        expiryDrain: (count: number, ttlSeconds: number, ports: number[]) => expiryLag(count, ttlSeconds, ports, true),
        log,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * Makes `count` holds expiring together through the gRPC servers on `targets` (request i to targets[i mod n]);
   * returns the lag of each release after its expiry. By default they are all made at once with the same TTL,
   * so they expire as close together as the burst that made them (a flash sale's holds). `aligned`: for a
   * drain, whose holds take longer to make than to release, they are made 8 at a time, each with the TTL
   * (whole seconds) that lands it `ttlSeconds` after the last should be made (at 20 holds/s): expiring within
   * about a second of each other, however long making them took, so the drain measures releasing, not making.
   */
  async function expiryLag(count: number, ttlSeconds: number, targets = [port], aligned = false) {
    const run = randomUUID().slice(0, 8);
    const hold = async (i: number, ttl: number) => {
      const r = await rpc<{ reservation_id: string; expires_at: string }>(
        'ReserveStock',
        {
          organization_id: organizationId,
          order_id: `ttl-${run}-${i}`,
          items: [{ variant_id: itemAt(variants, i % 200, 'variants'), quantity: 1 }],
          ttl_seconds: ttl,
        },
        itemAt(targets, i % targets.length, 'targets'),
      );
      return [r.reservation_id, Date.parse(r.expires_at)] as const;
    };
    let expiry: (readonly [string, number])[];
    if (aligned) {
      const expireAt = Date.now() + (count / 20 + ttlSeconds) * 1000;
      expiry = [];
      let next = 0;
      const maker = async () => {
        for (let i = next++; i < count; i = next++)
          expiry.push(await hold(i, Math.max(1, Math.ceil((expireAt - Date.now()) / 1000))));
      };
      await Promise.all(Array.from({ length: 8 }, maker));
    } else {
      expiry = await Promise.all(Array.from({ length: count }, (_, i) => hold(i, ttlSeconds)));
    }
    const ids = expiry.map(([id]) => id);
    const deadline = Date.now() + ttlSeconds * 1000 + 120_000;
    let released: { reference_id: string; created_at: string }[] = [];
    while (Date.now() < deadline) {
      released = await observer.em.fork().execute(
        `select reference_id, created_at from stock_movement
           where organization_id = ? and type = 'release' and reference_id in (?)`,
        [organizationId, ids],
      );
      if (released.length === count) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const expiresAt = new Map(expiry);
    const lags = released
      .map((m) => {
        const expires = expiresAt.get(m.reference_id);
        if (expires === undefined) throw new Error(`released ${m.reference_id}, not one of this run's holds`);
        return new Date(m.created_at).getTime() - expires;
      })
      .sort((a, b) => a - b);
    const firstExpiry = Math.min(...expiry.map(([, at]) => at));
    const lastRelease = Math.max(...released.map((m) => new Date(m.created_at).getTime()));
    return {
      count: released.length,
      p50: Math.round(percentile(lags, 50)),
      p99: Math.round(percentile(lags, 99)),
      lastMs: lastRelease - firstExpiry,
      expirySpreadMs: Math.max(...expiry.map(([, at]) => at)) - firstExpiry,
    };
  }
} finally {
  for (const open of clients.values()) open.close();
  server.forceShutdown();
  unverified.server.forceShutdown();
  worker.shutdown();
  await workerRun;
  await temporal.teardown();
  await orm.close(true);
  await systemOrm.close(true);
  await observer.close(true);
  await database.drop();
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

function writeResults(): void {
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}latest.json`, `${JSON.stringify(results, null, 2)}\n`);
  log(`results written to bench/results/latest.json`);
}
