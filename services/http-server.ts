/**
 * Entry point of the REST API (HTTP_HOST:HTTP_PORT). Run alone with `node services/http-server.ts`;
 * `npm start` runs it with the rest of the stack.
 */
import { loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { openOrm } from './db/orm.ts';
import { createTemporalClient } from './temporal.ts';
import { createReadinessProbe } from './readiness.ts';
import { createHttpApp } from './http/app.ts';
import { catalogClientFromConfig } from './catalog/catalog-client.ts';
import { tokenVerifierFromConfig } from './auth/token-verifier.ts';
import { dbSessionLimitsFrom, limitsFrom } from './limits/settings.ts';
import { createMetricsRegistry } from './metrics/registry.ts';
import { createHttpMetrics } from './metrics/http.ts';
import { registerCatalogBreakerGauge } from './metrics/catalog.ts';

const config = loadConfig();
const logger = createLogger(config, 'http');
const auth = tokenVerifierFromConfig(config);
if (auth.signaturesVerified) logger.info(`authentication: ${auth.description}`);
else logger.warn(`authentication: ${auth.description}`);
const orm = await openOrm(config.DATABASE_URL, config.DB_POOL_MAX, dbSessionLimitsFrom(config));
const temporal = createTemporalClient(config);
const catalog = catalogClientFromConfig(config, logger);
const metrics = createHttpMetrics(createMetricsRegistry('http'));
if (catalog) registerCatalogBreakerGauge(metrics.registry, catalog);
const readiness = createReadinessProbe({ orm, amqpUrl: config.AMQP_URL, temporal: temporal.connection, catalog, authentication: { verified: auth.signaturesVerified, detail: auth.description } });
const app = createHttpApp({
  orm,
  logger,
  readiness,
  verifyToken: auth.verify,
  limits: limitsFrom(config),
  catalog,
  temporal: { client: temporal.client, taskQueue: config.TEMPORAL_TASK_QUEUE, deadlineMs: config.WORKFLOW_ANSWER_DEADLINE_MS },
  metrics,
});
const server = app.listen(config.HTTP_PORT, config.HTTP_HOST, () => logger.info(`REST listening on http://${config.HTTP_HOST}:${config.HTTP_PORT}`));

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info(`${signal}: draining HTTP requests`);
  // In-flight requests get 10 s to finish; idle keep-alive connections are closed at once.
  const forced = setTimeout(() => server.closeAllConnections(), 10_000);
  server.closeIdleConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  clearTimeout(forced);
  await readiness.close();
  catalog?.close();
  await temporal.connection.close().catch(() => undefined);
  await orm.close();
  logger.info('REST stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
