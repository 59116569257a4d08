import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../logger.ts';
import { declareConsumerTopology, type ConsumerTopology } from './topology.ts';

/**
 * Consumes other services' events (order, catalog, purchasing): manual acks, prefetch, a recovering connection. A message is
 * acknowledged only after its effect and its inbox row are committed; a redelivered one finds its inbox
 * row and is acknowledged unapplied. A malformed message (bad JSON, unknown event, schema mismatch)
 * goes to the dead-letter queue at once; one that keeps failing is retried with backoff up to
 * `maxAttempts` deliveries, then dead-lettered with the error and the attempt count.
 */
export interface EventConsumerDeps {
  orm: Orm;
  amqpUrl: string;
  topology: ConsumerTopology;
  logger: Logger;
  maxAttempts: number;
  prefetch?: number;
  /** The event names it applies, and how: `recordInbox` writes the inbox row in the effect's transaction. */
  handlers: Record<string, EventHandler>;
}

export type RecordInbox = (em: EntityManager, outcome: string) => Promise<void>;
export type EventHandler = (raw: unknown, recordInbox: RecordInbox) => Promise<string>;

const attemptHeader = 'x-inventory-attempt';

export function createEventConsumer(deps: EventConsumerDeps) {
  const { logger, topology } = deps;
  let connection: Awaited<ReturnType<typeof connect>> | undefined;
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  function connect() {
    return amqp.connect(deps.amqpUrl, {
      recovery: {
        initialDelay: 200,
        maxDelay: 10_000,
        waitForConnect: false,
        // Topology and the consumer are set up again after every reconnect.
        setup: async (model: ChannelModel) => {
          const channel = await model.createChannel();
          // A lost connection errors its channels; recovery makes new ones, so this one only needs to be let go.
          channel.on('error', (error: Error) => logger.warn(`consumer channel closed: ${error.message}`));
          await declareConsumerTopology(channel, topology);
          await channel.prefetch(deps.prefetch ?? 20);
          for (const source of topology.sources) {
            await channel.consume(source.queue, (message: ConsumeMessage | null) => {
              if (!message) return;
              // Acking on a channel that died with its connection throws; the broker redelivers that message.
              const work = process(channel, source.queue, message)
                .catch((error: unknown) => void logger.warn(`a delivery was left unacknowledged and will be redelivered: ${String(error)}`))
                .finally(() => inFlight.delete(work));
              inFlight.add(work);
            });
          }
          markReady();
        },
      },
    });
  }

  async function process(channel: Channel, queue: string, message: ConsumeMessage): Promise<void> {
    const attempt = Number(message.properties.headers?.[attemptHeader] ?? 1);
    let raw: unknown;
    try {
      raw = JSON.parse(message.content.toString('utf8'));
    } catch {
      return deadLetter(channel, message, 'the body is not valid JSON', attempt);
    }
    const name = String((raw as { event?: unknown })?.event);
    const eventId = (raw as { event_id?: unknown })?.event_id;
    const handler = Object.hasOwn(deps.handlers, name) ? deps.handlers[name] : undefined;
    if (!handler || typeof eventId !== 'string') return deadLetter(channel, message, `not an event this service consumes, with an event_id (${name})`, attempt);

    const em = deps.orm.em.fork();
    const seen = await em.execute('select 1 from inbox_event where event_id = ?', [eventId]).catch(() => null);
    if (seen && seen.length > 0) {
      channel.ack(message);
      return;
    }
    try {
      const recordInbox: RecordInbox = (tx, outcome) =>
        tx.execute('insert into inbox_event (event_id, name, organization_id, outcome) values (?, ?, ?, ?) on conflict do nothing', [
          eventId,
          name,
          (raw as { organization_id?: string }).organization_id ?? null,
          outcome,
        ]).then(() => undefined);
      const outcome = await handler(raw, recordInbox);
      logger.info(`${name} ${eventId}: ${outcome}`);
      channel.ack(message);
    } catch (error) {
      if (error instanceof z.ZodError) return deadLetter(channel, message, `schema mismatch: ${error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, attempt);
      const reason = error instanceof Error ? error.message : String(error);
      if (attempt >= deps.maxAttempts) return deadLetter(channel, message, reason, attempt);
      // Retry later: republish with the attempt count, then drop this delivery.
      const delay = Math.min(200 * 2 ** (attempt - 1), 10_000);
      logger.warn(`${name} ${eventId} failed (attempt ${attempt} of ${deps.maxAttempts}), retrying in ${delay} ms: ${reason}`);
      await new Promise((r) => setTimeout(r, delay));
      channel.sendToQueue(queue, message.content, { ...message.properties, headers: { ...message.properties.headers, [attemptHeader]: attempt + 1 } });
      channel.ack(message);
    }
  }

  function deadLetter(channel: Channel, message: ConsumeMessage, error: string, attempts: number): void {
    logger.error(`dead-lettering a message after ${attempts} attempt(s): ${error}`);
    channel.sendToQueue(topology.deadLetterQueue, message.content, {
      ...message.properties,
      headers: { ...message.properties.headers, 'x-inventory-error': error.slice(0, 1000), 'x-inventory-attempts': attempts, 'x-inventory-original-routing-key': message.fields.routingKey },
    });
    channel.ack(message);
  }

  return {
    async start(): Promise<void> {
      connection = await connect();
      connection.on('disconnect', (error: Error) => !stopped && logger.warn(`RabbitMQ connection lost (${error.message}): reconnecting; unacknowledged events will be redelivered`));
      connection.on('error', (error: Error) => logger.warn(`RabbitMQ connection error: ${error.message}`));
    },
    /** Resolves once the topology is declared and the queues are consumed (the first connection). */
    ready: () => ready,
    async stop(): Promise<void> {
      stopped = true;
      await Promise.allSettled([...inFlight]);
      await connection?.close().catch(() => undefined);
    },
  };
}
