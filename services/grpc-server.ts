/**
 * Entry point of the gRPC API (inventory.v1.InventoryService on GRPC_HOST:GRPC_PORT).
 * Run alone with `node services/grpc-server.ts`; `npm start` runs it with the rest of the stack.
 */
import { loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { openRuntimeOrm } from './db/orm.ts';
import { createTemporalClient } from './temporal.ts';
import { tokenVerifierFromConfig } from './auth/token-verifier.ts';
import { dbSessionLimitsFrom, limitsFrom } from './limits/settings.ts';
import { bindGrpcServer, createGrpcServer, serviceName } from './grpc/server.ts';
import { createMetricsRegistry, startMetricsServer } from './metrics/registry.ts';
import { createGrpcMetrics } from './metrics/grpc.ts';
import { registerDbPoolGauges } from './metrics/db-pool.ts';
import { createPartHealth, finishedWithin } from './readiness.ts';
import { startTracing, tracingSettingsFrom } from './tracing/tracing.ts';

const config = loadConfig();
const logger = createLogger(config, 'grpc');
// Traces (README, Traces): off unless the OTEL_* variables name an exporter or an endpoint.
const tracing = startTracing(tracingSettingsFrom(config), 'grpc', { logger });
logger.info(tracing.description);
const auth = tokenVerifierFromConfig(config);
if (auth.signaturesVerified) logger.info(`authentication: ${auth.description}`);
else logger.warn(`authentication: ${auth.description}`);
// The runtime role (README, Security model): the process refuses to start as a role row-level security does not hold.
const orm = await openRuntimeOrm(config.DATABASE_URL, config.DB_POOL_MAX, dbSessionLimitsFrom(config), (m) =>
  logger.warn(m),
);
const temporal = createTemporalClient(config, tracing);
const metrics = createGrpcMetrics(createMetricsRegistry('grpc'));
registerDbPoolGauges(metrics.registry, { runtime: orm });
const { server, health: grpcHealth } = createGrpcServer({
  orm,
  logger,
  verifyToken: auth.verify,
  limits: limitsFrom(config),
  temporal: {
    client: temporal.client,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    deadlineMs: config.WORKFLOW_ANSWER_DEADLINE_MS,
    confirmedOverdueSeconds: config.CONFIRMED_HOLD_REPORT_AFTER_HOURS * 3600,
  },
  metrics,
  traced: tracing.enabled,
});
const port = await bindGrpcServer(server, config.GRPC_HOST, config.GRPC_PORT);
logger.info(`gRPC listening on ${config.GRPC_HOST}:${port} (${serviceName}, reflection, health)`);
// The metrics port answers GET /health and /ready too, for orchestrators that probe over HTTP; the standard
// gRPC health service says the same on the gRPC port.
const health = createPartHealth(() => ({ status: 'ready', service: serviceName }));
const metricsServer =
  config.GRPC_METRICS_PORT === 0
    ? undefined
    : await startMetricsServer({
        registry: metrics.registry,
        health,
        host: config.METRICS_HOST,
        port: config.GRPC_METRICS_PORT,
        logger,
      });

let stopping = false;
/**
 * Drains: the gRPC health service says NOT_SERVING and /ready 503 first, then the server stops accepting
 * calls and finishes those in flight for at most SHUTDOWN_GRACE_MS (then it stops hard), then exits 0.
 */
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  grpcHealth.setStatus('', 'NOT_SERVING');
  grpcHealth.setStatus(serviceName, 'NOT_SERVING');
  health.drain();
  logger.info(
    `${signal}: health NOT_SERVING, /ready answers 503 draining; finishing the calls in flight (at most ${config.SHUTDOWN_GRACE_MS} ms)`,
  );
  const drained = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  if (!(await finishedWithin(config.SHUTDOWN_GRACE_MS, drained))) {
    logger.warn(`calls still in flight after ${config.SHUTDOWN_GRACE_MS} ms: stopping hard`);
    server.forceShutdown();
  }
  logger.info('calls drained: closing connections');
  await metricsServer?.close();
  await temporal.connection.close().catch(() => undefined);
  await orm.close();
  await tracing.shutdown();
  logger.info('gRPC stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
