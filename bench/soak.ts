/**
 * `npm run bench -- --soak MINUTES [--orders-per-second N]` (issue #14): the whole stack as `npm start` runs it
 * (the worker, gRPC server, REST server, relay and consumer each in its own process, a Temporal dev server
 * of the run's own on a SQLite file), on a scratch database and private exchanges, under a steady mixed load
 * (bench/soak-load.ts) for MINUTES. Every minute it prints each operation's throughput, latency and errors,
 * what the stack did (expiries, events published and applied) and the resident memory of every process.
 * At the end it waits for the holds to expire and the events to settle, then checks, for every organization
 * the soak used, the fault tests' invariants (test/faults/invariants.ts); that the outbox was published
 * entirely and every event reached a subscriber; and that every order event was applied exactly once,
 * redeliveries included. Writes bench/results/soak.json; exits non-zero when a check fails.
 * Ctrl-C stops the load and removes everything the run made (processes, database, exchanges, files).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { Client, Connection } from '@temporalio/client';
import { createScratchDatabase } from '../scripts/scratch-database.ts';
import { prepareDatabase } from '../scripts/migrate.ts';
import { openOrm, type Orm } from '../services/db/orm.ts';
import { databaseRoles, urlForRole, type DatabaseRole } from '../services/db/roles.ts';
import { loadOrCreateDevIssuer } from '../services/auth/dev-issuer.ts';
import { scopeTo } from '../services/inventory/organization-scope.ts';
import { applyOperation } from '../services/inventory/stock/ledger.ts';
import { violations } from '../test/faults/invariants.ts';
import {
  deletePrivateExchanges,
  privateExchanges,
  stackEnv,
  startParts,
  startTemporalDevServer,
  type RunningProcess,
} from './service-processes.ts';
import { residentKiB, sharedServiceMemory } from './resident-memory.ts';
import {
  createSoakLoad,
  defaultSoakRates,
  expiringTtlSeconds,
  type OperationWindow,
  type SoakOrganization,
} from './soak-load.ts';

const organizationCount = 3;
const variantsPerOrganization = 40;
/** How long the end may take to settle (holds expired, outbox published, events applied) before checking anyway. */
const settleWithinMs = 5 * 60_000;
/** The goals of issue #14. */
const goals = { stackMiB: 2048, growthPercent: 10 };

const log = (line: string) => process.stdout.write(`[soak] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (kib: number | undefined) => (kib === undefined ? undefined : Math.round(kib / 1024));

/** Runs the soak as `argv` asks; resolves with the process's exit code. */
export async function runSoak(argv: string[]): Promise<number> {
  const minutes = Number(argv[argv.indexOf('--soak') + 1]);
  const ratesAt = argv.indexOf('--orders-per-second');
  const rates = { ...defaultSoakRates, ...(ratesAt === -1 ? {} : { orders: Number(argv[ratesAt + 1]) }) };
  if (!(minutes > 0) || !(rates.orders > 0))
    throw new Error('usage: npm run bench -- --soak MINUTES [--orders-per-second N]');

  // What the run made, undone newest first: at the end, on a failure, or on Ctrl-C.
  const undo: { what: string; run: () => Promise<unknown> }[] = [];
  let keepLogs = false;
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      for (const step of undo.reverse())
        await step.run().catch((error: unknown) => log(`could not ${step.what}: ${(error as Error).message}`));
    })());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(signal, () => {
      log(`${signal}: stopping the soak and removing what it made`);
      void cleanUp().then(() => process.exit(130));
    });

  try {
    const runId = randomUUID().slice(0, 8);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'inventory-soak-'));
    undo.push({ what: 'remove the logs', run: async () => (keepLogs ? undefined : rmSync(dir, { recursive: true })) });

    // ---------------------------------------------------------------- the stack
    const adminUrl = process.env.DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
    const database = await createScratchDatabase(adminUrl, 'inventory_soak');
    undo.push({ what: 'drop the scratch database', run: database.drop });
    const roleUrl = (role: DatabaseRole) =>
      urlForRole(database.url, role, new URL(adminUrl).password ? databaseRoles[role] : undefined);
    const urls = { runtime: roleUrl('runtime'), owner: roleUrl('owner'), system: roleUrl('system') };
    await prepareDatabase({ ...urls, admin: database.url }, false, log);

    const temporal = await startTemporalDevServer({
      dbFile: path.join(dir, 'temporal.db'),
      logFile: path.join(dir, 'temporal.log'),
    });
    undo.push({ what: 'stop the Temporal dev server', run: () => temporal.stop() });
    const issuer = await loadOrCreateDevIssuer(path.join(dir, 'auth'));
    const names = privateExchanges(`soak-${runId}`);
    const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
    const broker = await amqp.connect(amqpUrl);
    undo.push({
      what: 'delete the exchanges and queues',
      run: async () => {
        await deletePrivateExchanges(await broker.createChannel(), names);
        await broker.close();
      },
    });
    const env = await stackEnv({
      databaseUrls: urls,
      amqpUrl,
      exchanges: names,
      temporalAddress: temporal.address,
      jwksFile: issuer.jwksFile,
    });
    const running: RunningProcess[] = [];
    undo.push({
      what: "stop the service's processes",
      run: () => Promise.all(running.map((part) => part.stop())),
    });
    await startParts(env, dir, log, running);

    // A subscriber of the service's own events, bound before any is written: it must see every one.
    const watch = await broker.createChannel();
    await watch.assertExchange(names.EVENTS_EXCHANGE, 'topic', { durable: true });
    const { queue: watchQueue } = await watch.assertQueue('', { exclusive: true, autoDelete: true });
    await watch.bindQueue(watchQueue, names.EVENTS_EXCHANGE, '#');
    const deliveries = new Map<string, number>();
    await watch.consume(
      watchQueue,
      (message) => {
        const id = message?.properties.messageId as string | undefined;
        if (id) deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
      },
      { noAck: true },
    );
    const publisher = await broker.createConfirmChannel();
    await publisher.assertExchange(names.ORDER_EVENTS_EXCHANGE, 'topic', { durable: true });

    const observer = await openOrm(database.url, 4);
    undo.push({ what: 'close the database pool', run: () => observer.close(true) });
    const organizations = await stockedOrganizations(observer, (organizationId, subject, role) =>
      issuer.mint({ subject, organizationId, roles: [role], ttlSeconds: 2 * 86_400 }),
    );
    const temporalConnection = await Connection.connect({ address: temporal.address });
    undo.push({ what: 'close the Temporal connection', run: () => temporalConnection.close() });
    const temporalClient = new Client({ connection: temporalConnection });

    // ---------------------------------------------------------------- the load
    const processes = [temporal, ...running];
    const memory = () => ({
      stack: Object.fromEntries(processes.map((p) => [p.name, residentKiB(p.pid)])),
      load: residentKiB(process.pid),
      shared: sharedServiceMemory(),
    });
    const readyMemory = memory();
    const load = createSoakLoad({
      grpcAddress: `127.0.0.1:${env.GRPC_PORT}`,
      httpUrl: `http://127.0.0.1:${env.HTTP_PORT}`,
      organizations,
      rates,
      events: {
        publish: (routingKey, messageId, content) =>
          new Promise((resolve, reject) =>
            publisher.publish(
              names.ORDER_EVENTS_EXCHANGE,
              routingKey,
              content,
              { persistent: true, messageId, contentType: 'application/json' },
              (error) => (error ? reject(error) : resolve()),
            ),
          ),
      },
    });
    log(
      `load: ${rates.orders} orders/s, ${rates.transfers} transfers/s, ${rates.adjustments} adjustments/s, ${rates.availabilityChecks} availability checks/s over ${organizationCount} organizations, for ${minutes} min`,
    );
    let counted = await stackCounts(observer, deliveries);
    const perMinute: unknown[] = [];
    const startedAt = Date.now();
    load.start();
    for (let minute = 1; minute <= Math.ceil(minutes); minute += 1) {
      await sleep(startedAt + Math.min(minute, minutes) * 60_000 - Date.now());
      const operations = load.takeWindow();
      const now = await stackCounts(observer, deliveries);
      const seconds = (Math.min(minute, minutes) - (minute - 1)) * 60;
      const sample = {
        minute,
        operations,
        stack: difference(now, counted),
        memoryKiB: memory(),
        exited: processes.flatMap((p) => p.exited() ?? []),
      };
      counted = now;
      perMinute.push(sample);
      log(minuteLine(sample, seconds));
      for (const ended of sample.exited) log(`a process ended: ${ended}`);
    }
    const endMemory = memory();
    log('load stopped: finishing the orders and transfers under way');
    await load.stop();
    const stoppedAt = Date.now();

    // ---------------------------------------------------------------- settle, then check
    const published = load.publishedEvents();
    const settled = await settle(observer, deliveries, published.length, stoppedAt + (expiringTtlSeconds + 5) * 1000);
    log(`settled: ${JSON.stringify(settled)}`);
    const invariants: Record<string, string[]> = {};
    for (const org of organizations)
      invariants[org.id] = await violations({ em: observer.em, organizationId: org.id, client: temporalClient });
    const events = await eventChecks(observer, deliveries, published);
    const deadLettered = (await watch.checkQueue(`${names.CONSUMER_QUEUE_PREFIX}.dead-letter`)).messageCount;
    const exited = processes.flatMap((p) => p.exited() ?? []);
    const failures = [
      ...Object.entries(invariants).flatMap(([org, found]) => found.map((v) => `organization ${org}: ${v}`)),
      ...events.failures,
      ...(deadLettered > 0 ? [`${deadLettered} messages dead-lettered`] : []),
      ...exited.map((e) => `a process ended during the soak: ${e}`),
    ];

    // ---------------------------------------------------------------- report
    const firstMinute = (perMinute[0] as { memoryKiB: typeof endMemory } | undefined)?.memoryKiB ?? readyMemory;
    const memoryRows = processes.map((p) => {
      const [ready, first, end] = [readyMemory, firstMinute, endMemory].map((m) => m.stack[p.name]);
      return { process: p.name, pid: p.pid, readyKiB: ready, afterFirstMinuteKiB: first, endKiB: end };
    });
    const total = (m: typeof endMemory) => Object.values(m.stack).reduce<number>((sum, kib) => sum + (kib ?? 0), 0);
    const stackTotals = {
      readyKiB: total(readyMemory),
      afterFirstMinuteKiB: total(firstMinute),
      endKiB: total(endMemory),
    };
    const growth = (from: number | undefined, to: number | undefined) =>
      from && to ? Math.round(((to - from) / from) * 1000) / 10 : undefined;
    const results = {
      machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
      at: new Date(startedAt).toISOString(),
      minutes,
      rates,
      organizations: organizationCount,
      variantsPerOrganization,
      memory: {
        processes: memoryRows.map((r) => ({ ...r, growthPercent: growth(r.afterFirstMinuteKiB, r.endKiB) })),
        stack: { ...stackTotals, growthPercent: growth(stackTotals.afterFirstMinuteKiB, stackTotals.endKiB) },
        loadProcessKiB: { ready: readyMemory.load, end: endMemory.load },
        shared: { ready: readyMemory.shared, end: endMemory.shared },
        goals,
      },
      totals: load.totals(),
      perMinute,
      settled,
      checks: { invariants, events: events.figures, deadLettered, exited },
      errorSamples: load.errorSamples(),
      failures,
      passed: failures.length === 0,
    };
    const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(`${resultsDir}soak.json`, `${JSON.stringify(results, null, 2)}\n`);

    log('');
    log('process        pid      ready MiB  after 1 min  end MiB  growth (from 1 min)');
    for (const r of results.memory.processes)
      log(
        `${r.process.padEnd(14)} ${String(r.pid).padEnd(8)} ${String(mib(r.readyKiB)).padStart(9)}  ${String(mib(r.afterFirstMinuteKiB)).padStart(11)}  ${String(mib(r.endKiB)).padStart(7)}  ${r.growthPercent ?? '?'} %`,
      );
    const stackEnd = mib(stackTotals.endKiB) ?? 0;
    log(
      `${'whole stack'.padEnd(23)} ${String(mib(stackTotals.readyKiB)).padStart(9)}  ${String(mib(stackTotals.afterFirstMinuteKiB)).padStart(11)}  ${String(stackEnd).padStart(7)}  ${results.memory.stack.growthPercent ?? '?'} %   (goals: ≤ ${goals.stackMiB} MiB, < ${goals.growthPercent} % growth)`,
    );
    log(
      `shared, not the stack's alone: PostgreSQL ${mib(endMemory.shared.postgresql.residentKiB)} MiB in ${endMemory.shared.postgresql.processes} processes, RabbitMQ ${mib(endMemory.shared.rabbitmq.residentKiB)} MiB; the load generator ${mib(endMemory.load)} MiB`,
    );
    log('');
    log('operation                      ok      errors  per second');
    for (const [operation, t] of Object.entries(results.totals))
      log(
        `${operation.padEnd(28)} ${String(t.ok).padStart(6)}  ${String(t.errors).padStart(6)}  ${(t.ok / (minutes * 60)).toFixed(2)}`,
      );
    log('');
    log(
      `invariants over ${organizationCount} organizations: ${Object.values(invariants).every((v) => v.length === 0) ? 'all hold' : 'BROKEN'}`,
    );
    log(`events: ${JSON.stringify(events.figures)}; dead-lettered ${deadLettered}`);
    for (const failure of failures.slice(0, 50)) log(`FAILED: ${failure}`);
    log(
      `${results.passed ? 'passed' : `${failures.length} checks failed`}; results written to bench/results/soak.json`,
    );
    keepLogs = !results.passed;
    if (keepLogs) log(`the processes' logs are kept in ${dir}`);
    return results.passed ? 0 : 1;
  } finally {
    await cleanUp();
  }
}

/** Organizations with two warehouses each and plenty of every variant in both, and their callers' tokens. */
async function stockedOrganizations(
  observer: Orm,
  mint: (organizationId: string, subject: string, role: 'order-service' | 'operator') => Promise<string>,
): Promise<SoakOrganization[]> {
  const organizations: SoakOrganization[] = [];
  for (let n = 0; n < organizationCount; n += 1) {
    const id = randomUUID();
    const warehouses: [string, string] = [randomUUID(), randomUUID()];
    for (const [i, warehouseId] of warehouses.entries())
      await observer.em.execute(
        "insert into warehouse (id, organization_id, code, name, region) values (?, ?, ?, 'Soak', 'soak')",
        [warehouseId, id, `SOAK-${i}`],
      );
    const variants = Array.from({ length: variantsPerOrganization }, () => randomUUID());
    await scopeTo(observer.em, id).transaction((tx) =>
      applyOperation(tx, {
        operationKey: `soak-stock-${id}`,
        actor: 'soak',
        changes: warehouses.flatMap((warehouseId) =>
          variants.map((variantId) => ({
            variantId,
            warehouseId,
            type: 'receipt' as const,
            deltas: { available: 1_000_000 },
            createIfMissing: true,
          })),
        ),
      }),
    );
    organizations.push({
      id,
      warehouses,
      variants,
      orderServiceToken: await mint(id, 'order-service', 'order-service'),
      operatorToken: await mint(id, 'soak-operator', 'operator'),
    });
  }
  return organizations;
}

/** Running totals of what the stack did, read from the database and the events subscriber. */
async function stackCounts(observer: Orm, deliveries: Map<string, number>): Promise<Record<string, number>> {
  const db = observer.em.fork();
  const statuses = await db.execute<{ status: string; n: number }[]>(
    'select status, count(*)::int as n from reservation group by status',
  );
  const [outbox = { published: 0, pending: 0 }] = await db.execute<{ published: number; pending: number }[]>(
    `select count(*) filter (where published_at is not null)::int as published,
            count(*) filter (where published_at is null)::int as pending from outbox_event`,
  );
  const [inbox = { n: 0 }] = await db.execute<{ n: number }[]>('select count(*)::int as n from inbox_event');
  const [transfers = { n: 0 }] = await db.execute<{ n: number }[]>(
    "select count(*)::int as n from transfer where status in ('completed', 'completed_with_discrepancy')",
  );
  return {
    ...Object.fromEntries(statuses.map((s) => [`reservations ${s.status}`, s.n])),
    'transfers completed': transfers.n,
    'events published by the relay': outbox.published,
    'outbox pending': outbox.pending,
    'events seen by a subscriber': [...deliveries.values()].reduce((sum, n) => sum + n, 0),
    'order events applied': inbox.n,
  };
}

function difference(now: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(now).map(([key, n]) => [key, key === 'outbox pending' ? n : n - (before[key] ?? 0)]),
  );
}

function minuteLine(
  sample: { minute: number; operations: Record<string, OperationWindow>; stack: Record<string, number> } & {
    memoryKiB: { stack: Record<string, number | undefined> };
  },
  seconds: number,
): string {
  const operations = Object.entries(sample.operations)
    .map(
      ([name, w]) =>
        `${name} ${(w.ok / seconds).toFixed(2)}/s p50 ${w.p50Ms} p99 ${w.p99Ms} ms${w.errors ? ` ERR ${JSON.stringify(w.errorsBy)}` : ''}`,
    )
    .join('; ');
  const stack = Object.entries(sample.stack)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  const rss = Object.entries(sample.memoryKiB.stack)
    .map(([name, kib]) => `${name} ${mib(kib)}`)
    .join(', ');
  return `minute ${sample.minute}: ${operations}\n[soak]   stack: ${stack}\n[soak]   RSS MiB: ${rss}`;
}

/**
 * Waits until the holds left to expire have expired, the outbox is published, the subscriber has seen
 * every event and the consumer has applied every order event; at most `settleWithinMs`. Says what did not.
 */
async function settle(observer: Orm, deliveries: Map<string, number>, orderEvents: number, notBefore: number) {
  const started = Date.now();
  const deadline = started + settleWithinMs;
  let state: Record<string, number> = {};
  for (;;) {
    const [row = {}] = await observer.em.fork().execute<Record<string, number>[]>(
      `select (select count(*) from reservation where status = 'active' and expires_at < now())::int as "holds past expiry",
              (select count(*) from outbox_event where published_at is null)::int as "outbox pending",
              (select count(*) from outbox_event)::int as "outbox events",
              (select count(*) from inbox_event where source = 'order')::int as "order events applied"`,
    );
    state = { ...row, 'events seen by a subscriber': deliveries.size, 'order events published': orderEvents };
    const done =
      Date.now() >= notBefore &&
      state['holds past expiry'] === 0 &&
      state['outbox pending'] === 0 &&
      state['events seen by a subscriber'] === state['outbox events'] &&
      state['order events applied'] === orderEvents;
    if (done || Date.now() > deadline)
      return { ...state, settled: done, seconds: Math.round((Date.now() - started) / 1000) };
    await sleep(2000);
  }
}

/**
 * The relay published every outbox row and a subscriber saw each (at least once: duplicates are counted,
 * not failed); the consumer applied every order event the soak published exactly once (one inbox row each,
 * redeliveries included) and nothing else.
 */
async function eventChecks(
  observer: Orm,
  deliveries: Map<string, number>,
  published: { organizationId: string; eventId: string }[],
) {
  const db = observer.em.fork();
  const outbox = await db.execute<{ id: string; published: boolean }[]>(
    'select id, published_at is not null as published from outbox_event',
  );
  const inbox = await db.execute<{ organization_id: string; event_id: string }[]>(
    "select organization_id, event_id from inbox_event where source = 'order'",
  );
  const unpublished = outbox.filter((r) => !r.published).length;
  const unseen = outbox.filter((r) => !deliveries.has(r.id)).length;
  const outboxIds = new Set(outbox.map((r) => r.id));
  const foreign = [...deliveries.keys()].filter((id) => !outboxIds.has(id)).length;
  const seenTwice = [...deliveries.values()].filter((n) => n > 1).length;
  const key = (organizationId: string, eventId: string) => `${organizationId}/${eventId}`;
  const applied = new Set(inbox.map((r) => key(r.organization_id, r.event_id)));
  const sent = new Set(published.map((e) => key(e.organizationId, e.eventId)));
  const notApplied = [...sent].filter((k) => !applied.has(k)).length;
  const unexpected = [...applied].filter((k) => !sent.has(k)).length;
  const failures = [
    ...(unpublished ? [`${unpublished} outbox events not published`] : []),
    ...(unseen ? [`${unseen} published events never reached the subscriber`] : []),
    ...(foreign ? [`the subscriber saw ${foreign} events that are in no outbox row`] : []),
    ...(notApplied ? [`${notApplied} order events not applied`] : []),
    ...(unexpected ? [`${unexpected} inbox rows for events the soak never sent`] : []),
  ];
  return {
    figures: {
      outboxEvents: outbox.length,
      unpublished,
      unseenBySubscriber: unseen,
      deliveredMoreThanOnce: seenTwice,
      orderEventsPublished: sent.size,
      orderEventsApplied: applied.size,
      notApplied,
      unexpected,
    },
    failures,
  };
}
