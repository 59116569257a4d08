/**
 * Entry point of the gRPC API (inventory.v1.InventoryService on GRPC_HOST:GRPC_PORT).
 * Run alone with `node services/grpc-server.ts`; `npm start` runs it with the rest of the stack.
 */
import { loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { openOrm } from './db/orm.ts';
import { createTemporalClient } from './temporal.ts';
import { tokenVerifierFromConfig } from './auth/token-verifier.ts';
import { dbSessionLimitsFrom, limitsFrom } from './limits/settings.ts';
import { bindGrpcServer, createGrpcServer, serviceName } from './grpc/server.ts';
import { createMetricsRegistry, startMetricsServer } from './metrics/registry.ts';
import { createGrpcMetrics } from './metrics/grpc.ts';

const config = loadConfig();
const logger = createLogger(config, 'grpc');
const auth = tokenVerifierFromConfig(config);
if (auth.signaturesVerified) logger.info(`authentication: ${auth.description}`);
else logger.warn(`authentication: ${auth.description}`);
const orm = await openOrm(config.DATABASE_URL, config.DB_POOL_MAX, dbSessionLimitsFrom(config));
const temporal = createTemporalClient(config);
const metrics = createGrpcMetrics(createMetricsRegistry('grpc'));
const { server, health } = createGrpcServer({
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
});
const port = await bindGrpcServer(server, config.GRPC_HOST, config.GRPC_PORT);
logger.info(`gRPC listening on ${config.GRPC_HOST}:${port} (${serviceName}, reflection, health)`);
const metricsServer = config.GRPC_METRICS_PORT === 0 ? undefined : await startMetricsServer({ registry: metrics.registry, host: config.METRICS_HOST, port: config.GRPC_METRICS_PORT, logger });

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info(`${signal}: draining gRPC calls`);
  health.setStatus('', 'NOT_SERVING');
  health.setStatus(serviceName, 'NOT_SERVING');
  // In-flight calls get 10 s to finish; then the server stops hard.
  const forced = setTimeout(() => server.forceShutdown(), 10_000);
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  clearTimeout(forced);
  await metricsServer?.close();
  await temporal.connection.close().catch(() => undefined);
  await orm.close();
  logger.info('gRPC stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
