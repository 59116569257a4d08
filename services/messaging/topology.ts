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
  /** Which service this is ('order', 'catalog', 'purchasing'): it picks the handler set and is part of the inbox key. */
  name: string;
  exchange: string;
  queue: string;
  events: readonly string[];
  /**
   * The RabbitMQ user that alone may publish this source's events. RabbitMQ refuses a message whose
   * `user_id` is not the publishing connection's user, so a matching `user_id` proves the publisher.
   */
  publisher?: string;
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
