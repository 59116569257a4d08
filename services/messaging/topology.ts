import type { Channel } from 'amqplib';

/**
 * The one place the service declares its RabbitMQ topology. Declarations are idempotent, so every
 * process that publishes or consumes runs this after each (re)connect.
 */
export interface Topology {
  /** Where the service's own events go: a durable topic exchange, routing key = event name. */
  eventsExchange: string;
}

export async function declareTopology(channel: Channel, topology: Topology): Promise<void> {
  await channel.assertExchange(topology.eventsExchange, 'topic', { durable: true });
}

/** One source of events the consumer reads: another service's exchange, bound into our quorum queue. */
export interface ConsumedSource {
  exchange: string;
  queue: string;
  events: readonly string[];
}

export interface ConsumerTopology {
  sources: ConsumedSource[];
  deadLetterQueue: string;
}

export const orderEventNames = ['order.confirmed', 'order.cancelled', 'order.shipped', 'order.returned'] as const;
export const catalogEventNames = ['catalog.variant.created', 'catalog.variant.deleted'] as const;
export const purchasingEventNames = ['purchase_order.created'] as const;

export async function declareConsumerTopology(channel: Channel, topology: ConsumerTopology): Promise<void> {
  // Quorum queues: replicated, and they keep a poison message's delivery count.
  await channel.assertQueue(topology.deadLetterQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  for (const source of topology.sources) {
    await channel.assertExchange(source.exchange, 'topic', { durable: true });
    await channel.assertQueue(source.queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    for (const name of source.events) await channel.bindQueue(source.queue, source.exchange, name);
  }
}
