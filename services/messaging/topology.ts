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
