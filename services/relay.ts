/**
 * Entry point of the outbox relay: publishes the outbox to RabbitMQ (exchange EVENTS_EXCHANGE).
 * Run alone with `node services/relay.ts`; `npm start` runs it with the rest of the stack.
 * Several may run: one publishes, the others stand by.
 */
import { loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { openOrm } from './db/orm.ts';
import { dbSessionLimitsFrom } from './limits/settings.ts';
import { createOutboxRelay } from './messaging/outbox-relay.ts';
import { outboxBacklog } from './messaging/outbox.store.ts';
import { openHolds } from './inventory/reservations/open-holds.store.ts';
import { createMetricsRegistry, startMetricsServer, withTimeout } from './metrics/registry.ts';
import { createPartHealth } from './readiness.ts';
import { createRelayMetrics } from './metrics/relay.ts';
import { startTracing, tracingSettingsFrom } from './tracing/tracing.ts';
import { registerDbPoolGauges } from './metrics/db-pool.ts';

const config = loadConfig();
const logger = createLogger(config, 'relay');
// Traces (README, Traces): off unless the OTEL_* variables name an exporter or an endpoint.
const tracing = startTracing(tracingSettingsFrom(config), 'relay', { logger });
logger.info(tracing.description);
// The relay publishes every organization's events: it runs as the system role alone (README, Security model).
const orm = await openOrm(config.DATABASE_SYSTEM_URL, 2, dbSessionLimitsFrom(config));
const metrics = createRelayMetrics(
  createMetricsRegistry('relay'),
  () => outboxBacklog(orm.em),
  () => openHolds(orm.em),
);
registerDbPoolGauges(metrics.registry, { system: orm });
const relay = createOutboxRelay({
  orm,
  databaseUrl: config.DATABASE_SYSTEM_URL,
  amqpUrl: config.AMQP_URL,
  exchange: config.EVENTS_EXCHANGE,
  logger,
  batchSize: config.OUTBOX_BATCH_SIZE,
  confirmTimeoutMs: config.OUTBOX_CONFIRM_TIMEOUT_MS,
  pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
  metrics,
});
/**
 * GET /ready: `ready` while connected to RabbitMQ (the publisher opens its confirm channel on it; a standby
 * waits for the leadership), `degraded` with the backlog while the broker is away (events wait in the
 * outbox), `unready` when PostgreSQL does not answer: the relay cannot read the outbox.
 */
const health = createPartHealth(async () => {
  const { connected, leader, published, lastError } = relay.status();
  const backlog = await withTimeout(() => outboxBacklog(orm.em), 1500);
  const outbox = backlog ? { pending: backlog.pending, oldest_age_seconds: backlog.oldestAgeSeconds } : null;
  if (!backlog)
    return {
      status: 'unready',
      detail: 'PostgreSQL did not answer within 1500 ms',
      rabbitmq: connected ? 'up' : 'down',
      leader,
    };
  if (!connected)
    return {
      status: 'degraded',
      detail: `RabbitMQ is not reachable${lastError ? ` (${lastError})` : ''}: events wait in the outbox`,
      rabbitmq: 'down',
      leader,
      outbox,
    };
  return { status: 'ready', rabbitmq: 'up', leader, published, outbox };
});
await relay.start();
const metricsServer =
  config.RELAY_METRICS_PORT === 0
    ? undefined
    : await startMetricsServer({
        registry: metrics.registry,
        health,
        host: config.METRICS_HOST,
        port: config.RELAY_METRICS_PORT,
        logger,
      });
logger.info(`relay started: outbox → exchange ${config.EVENTS_EXCHANGE}`);

let stopping = false;
/**
 * Drains: /ready answers 503 first, then the relay stops taking batches and waits at most SHUTDOWN_GRACE_MS
 * for the broker's confirms of the batch it sent (marked published once confirmed), then exits 0.
 */
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  health.drain();
  logger.info(
    `${signal}: /ready answers 503 draining; waiting for the confirms of the batch in flight (at most ${config.SHUTDOWN_GRACE_MS} ms)`,
  );
  await relay.stop({ graceMs: config.SHUTDOWN_GRACE_MS });
  logger.info('relay drained: closing connections');
  await metricsServer?.close();
  await orm.close();
  await tracing.shutdown();
  logger.info(`relay stopped after publishing ${relay.status().published} events`);
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
