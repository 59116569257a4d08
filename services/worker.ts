/**
 * Entry point of the Temporal worker: runs the workflows and activities on task queue
 * TEMPORAL_TASK_QUEUE. Run alone with `node services/worker.ts`; `npm start` runs it with the rest.
 * SIGINT / SIGTERM stop it gracefully: running activities get shutdownGraceTime to finish.
 */
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { loadConfig, temporalConnectConfig } from './config.ts';
import { createLogger, temporalLoggerFrom } from './logger.ts';
import { openOrm } from './db/orm.ts';
import { createActivities } from '../activities/index.ts';
import { ensureReconciliationSchedule } from './workflow-clients/reconciliation-schedule.ts';
import { ensureRetentionSchedule } from './workflow-clients/retention-schedule.ts';
import { dbSessionLimitsFrom, retentionFrom } from './limits/settings.ts';

const config = loadConfig();
const logger = createLogger(config, 'worker');
// The SDK's own logs (core included), workflow `log` and activity `log` all go through winston.
// The SDK's own metrics (task slots, poll and schedule-to-start latencies, activity and workflow outcomes, all
// prefixed temporal_) are exported by its core for Prometheus on WORKER_METRICS_PORT (0 = off).
Runtime.install({
  logger: temporalLoggerFrom(logger),
  telemetryOptions: {
    logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} },
    ...(config.WORKER_METRICS_PORT === 0 ? {} : { metrics: { prometheus: { bindAddress: `${config.METRICS_HOST.includes(':') ? `[${config.METRICS_HOST}]` : config.METRICS_HOST}:${config.WORKER_METRICS_PORT}`, useSecondsForDurations: true } } }),
  },
});
if (config.WORKER_METRICS_PORT !== 0) logger.info(`Temporal SDK metrics on http://${config.METRICS_HOST}:${config.WORKER_METRICS_PORT}/metrics`);

const orm = await openOrm(config.DATABASE_URL, config.DB_POOL_MAX, dbSessionLimitsFrom(config));
const temporal = temporalConnectConfig(config);
const namespace = temporal.namespace ?? config.TEMPORAL_NAMESPACE;
const connection = await connectWithRetry();
const worker = await Worker.create({
  connection,
  namespace,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  ...(config.WORKFLOW_BUNDLE_PATH
    ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH } }
    : { workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)) }),
  activities: createActivities({ orm }),
  shutdownGraceTime: '10 seconds',
});
// The worker owns the schedules of the workflows it runs: RECONCILIATION_CRON and RETENTION_CRON are applied at every start.
const scheduler = new Client({ connection, namespace });
await ensureReconciliationSchedule({
  client: scheduler,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  cron: config.RECONCILIATION_CRON,
  logger,
});
await ensureRetentionSchedule({ client: scheduler, taskQueue: config.TEMPORAL_TASK_QUEUE, cron: config.RETENTION_CRON, retention: retentionFrom(config), logger });
logger.info(`worker polling task queue ${config.TEMPORAL_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS}`);
await worker.run();
await connection.close();
await orm.close();
logger.info('worker stopped');

/** The server may still be starting (npm start launches both together): retry for a minute before giving up. */
async function connectWithRetry(): Promise<NativeConnection> {
  const deadline = Date.now() + 60_000;
  for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
    try {
      return await NativeConnection.connect(temporal.connectionOptions);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      logger.warn(`Temporal is not reachable yet at ${config.TEMPORAL_ADDRESS}: retrying`, { error: (error as Error).message });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
