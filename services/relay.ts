/**
 * Entry point of the outbox relay: publishes the outbox to RabbitMQ (exchange EVENTS_EXCHANGE).
 * Run alone with `node services/relay.ts`; `npm start` runs it with the rest of the stack.
 * Several may run: one publishes, the others stand by.
 */
import { loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { openOrm } from './db/orm.ts';
import { dbSessionLimitsFrom } from './limits/settings.ts';
import { createOutboxRelay, outboxBacklog } from './messaging/outbox-relay.ts';
import { createMetricsRegistry, startMetricsServer } from './metrics/registry.ts';
import { createRelayMetrics } from './metrics/relay.ts';

const config = loadConfig();
const logger = createLogger(config, 'relay');
const orm = await openOrm(config.DATABASE_URL, 2, dbSessionLimitsFrom(config));
const metrics = createRelayMetrics(createMetricsRegistry('relay'), () => outboxBacklog(orm.em));
const relay = createOutboxRelay({
  orm,
  databaseUrl: config.DATABASE_URL,
  amqpUrl: config.AMQP_URL,
  exchange: config.EVENTS_EXCHANGE,
  logger,
  batchSize: config.OUTBOX_BATCH_SIZE,
  pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
  metrics,
});
await relay.start();
const metricsServer = config.RELAY_METRICS_PORT === 0 ? undefined : await startMetricsServer({ registry: metrics.registry, host: config.METRICS_HOST, port: config.RELAY_METRICS_PORT, logger });
logger.info(`relay started: outbox → exchange ${config.EVENTS_EXCHANGE}`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info(`${signal}: stopping the relay`);
  await relay.stop();
  await metricsServer?.close();
  await orm.close();
  logger.info(`relay stopped after publishing ${relay.status().published} events`);
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
