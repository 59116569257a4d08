import { randomUUID } from 'node:crypto';
import type { Orm } from '../../services/db/orm.ts';
import amqp, { type ChannelModel } from 'amqplib';
import { createEventConsumer } from '../../services/messaging/event-consumer.ts';
import { createOrderEventHandlers } from '../../services/messaging/order-events.ts';
import { createCatalogEventHandlers } from '../../services/messaging/catalog-events.ts';
import { createPurchasingEventHandlers } from '../../services/messaging/purchasing-events.ts';
import {
  catalogEventNames,
  orderEventNames,
  purchasingEventNames,
  type ConsumerTopology,
} from '../../services/messaging/topology.ts';
import type { Client } from '@temporalio/client';
import type { Logger } from '../../services/logger.ts';
import { createReservationClient } from '../../services/workflow-clients/reservation-client.ts';
import { reservationClientFor } from './temporal.ts';
import { testStack } from './stack.ts';

export type SourceName = 'order' | 'catalog' | 'purchasing';
export const eventsBySource: Record<SourceName, readonly string[]> = {
  order: orderEventNames,
  catalog: catalogEventNames,
  purchasing: purchasingEventNames,
};

export interface PrivateConsumer {
  exchanges: Record<SourceName, string>;
  topology: ConsumerTopology;
  /** A connection of the test's own, to publish and to read the dead-letter queue. */
  broker: ChannelModel;
  close(): Promise<void>;
}

/**
 * The service's event consumer with its real handlers, on exchanges and queues of its own (named after
 * `label`), so what a test publishes reaches it alone; `close` stops it and deletes them. The consumer
 * connects to `amqpUrl` (the stack's broker by default: a proxy in front of it, say); the test's own
 * `broker` connection always goes straight to the stack's broker. `temporalClient` and `logger` replace the
 * stack's (a client with the tracing interceptors, a logger whose lines the test reads); `orm` the runtime
 * role's pool (one through a proxy, say).
 */
export async function startPrivateConsumer(
  label: string,
  taskQueue: string,
  options: { amqpUrl?: string; temporalClient?: Client; logger?: Logger; orm?: Orm } = {},
): Promise<PrivateConsumer> {
  const stack = testStack();
  const orm = options.orm ?? stack.orm;
  const run = `${label}.${randomUUID().slice(0, 8)}`;
  const exchanges: Record<SourceName, string> = {
    order: `order.events.${run}`,
    catalog: `catalog.events.${run}`,
    purchasing: `purchasing.events.${run}`,
  };
  const topology: ConsumerTopology = {
    sources: (Object.keys(exchanges) as SourceName[]).map((name) => ({
      name,
      exchange: exchanges[name],
      queue: `inventory.${run}.${name}-events`,
      events: eventsBySource[name] as never,
    })),
    deadLetterQueue: `inventory.${run}.dead-letter`,
  };
  const consumer = createEventConsumer({
    orm,
    amqpUrl: options.amqpUrl ?? stack.amqpUrl,
    logger: options.logger ?? stack.logger,
    maxAttempts: 2,
    topology,
    handlers: {
      order: createOrderEventHandlers({
        orm,
        reservations: options.temporalClient
          ? createReservationClient({ client: options.temporalClient, taskQueue, orm })
          : reservationClientFor(taskQueue),
        logger: options.logger ?? stack.logger,
      }),
      catalog: createCatalogEventHandlers({ orm }),
      purchasing: createPurchasingEventHandlers({ orm }),
    },
  });
  await consumer.start();
  await consumer.ready();
  const broker = await amqp.connect(stack.amqpUrl);
  return {
    exchanges,
    topology,
    broker,
    async close() {
      await consumer.stop();
      const channel = await broker.createChannel();
      for (const source of topology.sources) {
        await channel.deleteQueue(source.queue);
        await channel.deleteExchange(source.exchange);
      }
      await channel.deleteQueue(topology.deadLetterQueue);
      await broker.close();
    },
  };
}
