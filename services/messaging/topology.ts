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

/** What the order-event consumer reads from: the order service's exchange, bound into our quorum queue. */
export interface ConsumerTopology {
  orderExchange: string;
  orderQueue: string;
  deadLetterQueue: string;
}

export const orderEventNames = ['order.confirmed', 'order.cancelled', 'order.shipped', 'order.returned'] as const;

export async function declareConsumerTopology(channel: Channel, topology: ConsumerTopology): Promise<void> {
  await channel.assertExchange(topology.orderExchange, 'topic', { durable: true });
  // Quorum queues: replicated, and they keep a poison message's delivery count.
  await channel.assertQueue(topology.orderQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.assertQueue(topology.deadLetterQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  for (const name of orderEventNames) await channel.bindQueue(topology.orderQueue, topology.orderExchange, name);
}
