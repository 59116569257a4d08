/**
 * Entry point of the Temporal worker: runs the workflows and activities on task queue
 * TEMPORAL_TASK_QUEUE. Run alone with `node services/worker.ts`; `npm start` runs it with the rest.
 * SIGINT / SIGTERM drain it: /ready answers 503, polling stops, and the tasks in hand get SHUTDOWN_GRACE_MS to
 * finish (activities still running then are cancelled); then it exits 0. GET /health and /ready are served on
 * WORKER_HEALTH_PORT (its metrics port belongs to the Temporal SDK's exporter).
 */
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { loadConfig, temporalConnectConfig } from './config.ts';
import { createLogger, temporalLoggerFrom } from './logger.ts';
import { openOrm, openRuntimeOrm } from './db/orm.ts';
import { createActivities } from '../activities/index.ts';
import { ensureReconciliationSchedule } from './workflow-clients/reconciliation-schedule.ts';
import { ensureRetentionSchedule } from './workflow-clients/retention-schedule.ts';
import { dbSessionLimitsFrom, retentionFrom } from './limits/settings.ts';
import { createPartHealth } from './readiness.ts';
import { startMetricsServer } from './metrics/registry.ts';
import { startTracing, tracingSettingsFrom } from './tracing/tracing.ts';
import { workerTracing, workflowTracingInterceptors } from './tracing/temporal.ts';
import { sampleDbPoolGauges } from './metrics/db-pool.ts';

const config = loadConfig();
const logger = createLogger(config, 'worker');
// Traces (README, Traces): off unless the OTEL_* variables name an exporter or an endpoint.
const tracing = startTracing(tracingSettingsFrom(config), 'worker', { logger });
logger.info(tracing.description);
// The SDK's own logs (core included), workflow `log` and activity `log` all go through winston.
// The SDK's own metrics (task slots, poll and schedule-to-start latencies, activity and workflow outcomes, all
// prefixed temporal_) are exported by its core for Prometheus on WORKER_METRICS_PORT (0 = off).
// The SDK's own signal handling is off: this process turns its readiness false before the worker drains.
Runtime.install({
  logger: temporalLoggerFrom(logger),
  shutdownSignals: [],
  telemetryOptions: {
    logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} },
    ...(config.WORKER_METRICS_PORT === 0
      ? {}
      : {
          metrics: {
            prometheus: {
              bindAddress: `${config.METRICS_HOST.includes(':') ? `[${config.METRICS_HOST}]` : config.METRICS_HOST}:${config.WORKER_METRICS_PORT}`,
              useSecondsForDurations: true,
            },
          },
        }),
  },
});
if (config.WORKER_METRICS_PORT !== 0)
  logger.info(`Temporal SDK metrics on http://${config.METRICS_HOST}:${config.WORKER_METRICS_PORT}/metrics`);

let worker: Worker | undefined;
// GET /ready: ready while the worker polls its task queue (state RUNNING); 503 while it starts or drains.
const health = createPartHealth(() => {
  const state = worker?.getState() ?? 'STARTING';
  return state === 'RUNNING'
    ? { status: 'ready', state, task_queue: config.TEMPORAL_TASK_QUEUE }
    : { status: 'unready', state, task_queue: config.TEMPORAL_TASK_QUEUE };
});
const healthServer =
  config.WORKER_HEALTH_PORT === 0
    ? undefined
    : await startMetricsServer({ health, host: config.METRICS_HOST, port: config.WORKER_HEALTH_PORT, logger });
let stopping = false;
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  health.drain();
  if (worker?.getState() === 'RUNNING') {
    logger.info(
      `${signal}: /ready answers 503 draining; polling stopped, finishing the tasks in hand (at most ${config.SHUTDOWN_GRACE_MS} ms)`,
    );
    worker.shutdown();
  } else {
    // Nothing runs yet: the schedules are set again at the next start.
    logger.info(`${signal} while starting: stopping`);
    process.exit(0);
  }
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

// The runtime role (README, Security model): the process refuses to start as a role row-level security does not hold.
const orm = await openRuntimeOrm(config.DATABASE_URL, config.DB_POOL_MAX, dbSessionLimitsFrom(config), (m) =>
  logger.warn(m),
);
// Retention and the list of organizations to reconcile span every organization: the system role's, a small pool.
const systemOrm = await openOrm(config.DATABASE_SYSTEM_URL, 2, dbSessionLimitsFrom(config));
// The pools' gauges go out through the SDK's exporter, the worker's one metrics port.
const stopPoolGauges =
  config.WORKER_METRICS_PORT === 0
    ? () => undefined
    : sampleDbPoolGauges(Runtime.instance().metricMeter, { runtime: orm, system: systemOrm });
const temporal = temporalConnectConfig(config);
const namespace = temporal.namespace ?? config.TEMPORAL_NAMESPACE;
const connection = await connectWithRetry();
const { interceptors, sinks } = workerTracing(tracing);
worker = await Worker.create({
  connection,
  namespace,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  // A prebuilt bundle has the workflow tracing interceptors in it already (scripts/bundle-workflows.ts).
  ...(config.WORKFLOW_BUNDLE_PATH
    ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH }, interceptors }
    : {
        workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
        interceptors: { ...interceptors, workflowModules: [workflowTracingInterceptors] },
      }),
  sinks,
  activities: createActivities({ orm, systemOrm }),
  shutdownGraceTime: config.SHUTDOWN_GRACE_MS,
  // A backstop: run() throws if the drain has not ended this long after the grace period.
  shutdownForceTime: config.SHUTDOWN_GRACE_MS + 5000,
});
// The worker owns the schedules of the workflows it runs: RECONCILIATION_CRON and RETENTION_CRON are applied at every start.
const scheduler = new Client({ connection, namespace });
await ensureReconciliationSchedule({
  client: scheduler,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  cron: config.RECONCILIATION_CRON,
  logger,
});
await ensureRetentionSchedule({
  client: scheduler,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  cron: config.RETENTION_CRON,
  retention: retentionFrom(config),
  logger,
});
logger.info(`worker polling task queue ${config.TEMPORAL_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS}`);
try {
  await worker.run();
} catch (error) {
  // Not asked to stop: a crash, which `npm start` or the orchestrator restarts.
  if (!stopping) throw error;
  logger.warn(`the worker was stopped hard after its grace period: ${(error as Error).message}`);
}
logger.info('tasks drained: closing connections');
stopPoolGauges();
await connection.close();
await orm.close();
await systemOrm.close();
await healthServer?.close();
await tracing.shutdown();
logger.info('worker stopped');
process.exit(0);

/** The server may still be starting (npm start launches both together): retry for a minute before giving up. */
async function connectWithRetry(): Promise<NativeConnection> {
  const deadline = Date.now() + 60_000;
  for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
    try {
      return await NativeConnection.connect(temporal.connectionOptions);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      logger.warn(`Temporal is not reachable yet at ${config.TEMPORAL_ADDRESS}: retrying`, {
        error: (error as Error).message,
      });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
