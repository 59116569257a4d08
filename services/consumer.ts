/**
 * Entry point of the event consumer: applies the order, catalog and purchasing services' events
 * through the reservation workflows and the ledger. Run alone with `node services/consumer.ts`;
 * `npm start` runs it with the rest. Several may run: RabbitMQ spreads the messages.
 */
import { loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { openRuntimeOrm } from './db/orm.ts';
import { dbSessionLimitsFrom } from './limits/settings.ts';
import { createTemporalClient } from './temporal.ts';
import { createReservationClient } from './workflow-clients/reservation-client.ts';
import { createOrderEventHandlers } from './messaging/order-events.ts';
import { createCatalogEventHandlers } from './messaging/catalog-events.ts';
import { createPurchasingEventHandlers } from './messaging/purchasing-events.ts';
import { consumerTopologyFrom } from './messaging/consumer-topology.ts';
import { createEventConsumer } from './messaging/event-consumer.ts';
import { catalogClientFromConfig } from './catalog/catalog-client.ts';
import { createMetricsRegistry, startMetricsServer } from './metrics/registry.ts';
import { createConsumerMetrics } from './metrics/consumer.ts';
import { registerCatalogBreakerGauge } from './metrics/catalog.ts';
import { registerDbPoolGauges } from './metrics/db-pool.ts';
import { createPartHealth } from './readiness.ts';
import { startTracing, tracingSettingsFrom } from './tracing/tracing.ts';

const config = loadConfig();
const logger = createLogger(config, 'consumer');
// Traces (README, Traces): off unless the OTEL_* variables name an exporter or an endpoint.
const tracing = startTracing(tracingSettingsFrom(config), 'consumer', { logger });
logger.info(tracing.description);
// The runtime role (README, Security model): the process refuses to start as a role row-level security does not hold.
const orm = await openRuntimeOrm(config.DATABASE_URL, config.DB_POOL_MAX, dbSessionLimitsFrom(config), (m) =>
  logger.warn(m),
);
const temporal = createTemporalClient(config, tracing);
const catalog = catalogClientFromConfig(config, logger);
const reservations = createReservationClient({
  client: temporal.client,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  orm,
  deadlineMs: config.WORKFLOW_ANSWER_DEADLINE_MS,
});
const topology = consumerTopologyFrom(config);
const metrics = createConsumerMetrics(createMetricsRegistry('consumer'));
if (catalog) registerCatalogBreakerGauge(metrics.registry, catalog);
registerDbPoolGauges(metrics.registry, { runtime: orm });
const consumer = createEventConsumer({
  orm,
  amqpUrl: config.AMQP_URL,
  logger,
  maxAttempts: config.CONSUMER_MAX_ATTEMPTS,
  topology,
  metrics,
  handlers: {
    order: createOrderEventHandlers({ orm, reservations, logger }),
    catalog: createCatalogEventHandlers({ orm }),
    purchasing: createPurchasingEventHandlers({ orm, catalog, logger }),
  },
});
const unchecked = topology.sources.filter((s) => !s.publisher).map((s) => s.name);
if (unchecked.length > 0)
  logger.info(
    `no publisher set for the ${unchecked.join(', ')} events: any RabbitMQ user that may write to their exchanges can publish them (README, Events consumed)`,
  );
// GET /ready: ready once the topology is declared and the queues are consumed on an open channel.
const health = createPartHealth(() => {
  const { consuming, inFlight } = consumer.state();
  return consuming
    ? { status: 'ready', queues: topology.sources.map((s) => s.queue), in_flight: inFlight }
    : {
        status: 'unready',
        detail: 'not consuming: RabbitMQ is not reachable or the topology is not declared yet (reconnecting)',
      };
});
await consumer.start();
metrics.watchDeadLetterQueue(() => consumer.deadLetterDepth());
const metricsServer =
  config.CONSUMER_METRICS_PORT === 0
    ? undefined
    : await startMetricsServer({
        registry: metrics.registry,
        health,
        host: config.METRICS_HOST,
        port: config.CONSUMER_METRICS_PORT,
        logger,
      });
// Without a broker the consumer keeps retrying; this line comes once it consumes.
void consumer
  .ready()
  .then(() =>
    logger.info(
      `consuming ${config.ORDER_EVENTS_EXCHANGE}, ${config.CATALOG_EVENTS_EXCHANGE} and ${config.PURCHASING_EVENTS_EXCHANGE} into ${config.CONSUMER_QUEUE_PREFIX}.* queues`,
    ),
  );

let stopping = false;
/**
 * Drains: /ready answers 503 first, then the consumer cancels its consumers (no new deliveries) and
 * finishes the messages in hand for at most SHUTDOWN_GRACE_MS (what is left unacknowledged is redelivered),
 * then exits 0.
 */
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  health.drain();
  logger.info(
    `${signal}: /ready answers 503 draining; consuming stopped, finishing ${consumer.state().inFlight} messages in flight (at most ${config.SHUTDOWN_GRACE_MS} ms)`,
  );
  await consumer.stop({ graceMs: config.SHUTDOWN_GRACE_MS });
  logger.info('messages drained: closing connections');
  await metricsServer?.close();
  catalog?.close();
  await temporal.connection.close().catch(() => undefined);
  await orm.close();
  await tracing.shutdown();
  logger.info('consumer stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
