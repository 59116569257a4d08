/**
 * Entry point of the REST API (HTTP_HOST:HTTP_PORT). Run alone with `node services/http-server.ts`;
 * `npm start` runs it with the rest of the stack.
 */
import { createServer, type ServerResponse } from 'node:http';
import { loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { openOrm, openRuntimeOrm } from './db/orm.ts';
import { createTemporalClient } from './temporal.ts';
import { createReadinessProbe, finishedWithin } from './readiness.ts';
import { createHttpApp } from './http/app.ts';
import { catalogClientFromConfig } from './catalog/catalog-client.ts';
import { tokenVerifierFromConfig } from './auth/token-verifier.ts';
import { dbSessionLimitsFrom, limitsFrom } from './limits/settings.ts';
import { createMetricsRegistry } from './metrics/registry.ts';
import { registerDbPoolGauges } from './metrics/db-pool.ts';
import { createHttpMetrics } from './metrics/http.ts';
import { registerCatalogBreakerGauge } from './metrics/catalog.ts';
import { startTracing, tracingSettingsFrom } from './tracing/tracing.ts';

const config = loadConfig();
const logger = createLogger(config, 'http');
// Traces (README, Traces): off unless the OTEL_* variables name an exporter or an endpoint.
const tracing = startTracing(tracingSettingsFrom(config), 'http', { logger });
logger.info(tracing.description);
const auth = tokenVerifierFromConfig(config);
if (auth.signaturesVerified) logger.info(`authentication: ${auth.description}`);
else logger.warn(`authentication: ${auth.description}`);
// The runtime role (README, Security model): the process refuses to start as a role row-level security does not hold.
const orm = await openRuntimeOrm(config.DATABASE_URL, config.DB_POOL_MAX, dbSessionLimitsFrom(config), (m) =>
  logger.warn(m),
);
// One connection of the system role, for /ready's count of the outbox backlog (every organization's) alone.
const systemOrm = await openOrm(config.DATABASE_SYSTEM_URL, 1, dbSessionLimitsFrom(config));
const temporal = createTemporalClient(config, tracing);
const catalog = catalogClientFromConfig(config, logger);
const metrics = createHttpMetrics(createMetricsRegistry('http'));
if (catalog) registerCatalogBreakerGauge(metrics.registry, catalog);
registerDbPoolGauges(metrics.registry, { runtime: orm, system: systemOrm });
const readiness = createReadinessProbe({
  orm,
  systemOrm,
  amqpUrl: config.AMQP_URL,
  temporal: temporal.connection,
  catalog,
  authentication: { verified: auth.signaturesVerified, detail: auth.description },
});
const app = createHttpApp({
  orm,
  logger,
  readiness,
  verifyToken: auth.verify,
  limits: limitsFrom(config),
  catalog,
  temporal: {
    client: temporal.client,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    deadlineMs: config.WORKFLOW_ANSWER_DEADLINE_MS,
  },
  metrics,
  traced: tracing.enabled,
});
// Answered while draining too: the orchestrator's probes and the last scrape.
const probes = new Set(['/health', '/ready', '/metrics']);
// Requests in progress, so a shutdown knows when the last one has finished.
const inFlight = new Set<ServerResponse>();
let draining = false;
let lastFinished: (() => void) | undefined;
const server = createServer((req, res) => {
  const [path = ''] = (req.url ?? '/').split('?');
  if (draining && !probes.has(path)) {
    // Shutting down: nothing new starts here (nothing ran, so the same request may be sent again, to another instance).
    res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1', connection: 'close' }).end(
      JSON.stringify({
        type: 'urn:inventory:problem:ShuttingDown',
        title: 'Service unavailable',
        status: 503,
        detail: 'this instance is shutting down: send the request again',
        instance: req.url,
      }),
    );
    return;
  }
  inFlight.add(res);
  res.once('close', () => {
    inFlight.delete(res);
    if (inFlight.size === 0) lastFinished?.();
  });
  void app(req, res);
});
server.listen(config.HTTP_PORT, config.HTTP_HOST, () =>
  logger.info(`REST listening on http://${config.HTTP_HOST}:${config.HTTP_PORT}`),
);

let stopping = false;
/**
 * Drains: /ready answers 503 `draining` and any new request 503 `ShuttingDown` (Retry-After: 1) while the
 * requests in flight finish, for at most SHUTDOWN_GRACE_MS; then the server closes every connection (what is
 * still running after the grace period is cut) and the process exits 0. The listener stays open meanwhile,
 * so a load balancer's probes get a definite answer rather than a refused connection.
 */
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  draining = true;
  readiness.drain();
  logger.info(
    `${signal}: /ready answers 503 draining; finishing ${inFlight.size} requests in flight (at most ${config.SHUTDOWN_GRACE_MS} ms), refusing new ones`,
  );
  const finished = inFlight.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (lastFinished = resolve));
  if (!(await finishedWithin(config.SHUTDOWN_GRACE_MS, finished)))
    logger.warn(
      `${inFlight.size} requests still in flight after ${config.SHUTDOWN_GRACE_MS} ms: closing their connections`,
    );
  logger.info('requests drained: closing connections');
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
  await readiness.close();
  catalog?.close();
  await temporal.connection.close().catch(() => undefined);
  await orm.close();
  await systemOrm.close();
  await tracing.shutdown();
  logger.info('REST stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
