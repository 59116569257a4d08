import amqp, { type ChannelModel, type ConsumeMessage, type GetMessage } from 'amqplib';
import { testStack } from './stack.ts';
import { waitFor } from './wait.ts';

export interface ReceivedEvent {
  messageId: string;
  routingKey: string;
  properties: ConsumeMessage['properties'];
  body: {
    event: string;
    version: string;
    timestamp: string;
    organization_id: string;
    event_id: string;
    data: Record<string, any>;
  };
}

export interface EventQueue {
  /** Every message received so far, in arrival order (duplicates included). */
  received: ReceivedEvent[];
  /** Waits until `predicate` holds over the received messages, or fails after `timeoutMs`. */
  waitFor(predicate: (received: ReceivedEvent[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

/** An exclusive, auto-deleted queue bound to the run's events exchange: what a consumer service would see. */
export async function bindEventQueue(pattern = 'inventory.#', exchange = testStack().exchange): Promise<EventQueue> {
  const connection: ChannelModel = await amqp.connect(testStack().amqpUrl);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, exchange, pattern);
  const received: ReceivedEvent[] = [];
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      received.push({
        messageId: String(message.properties.messageId),
        routingKey: message.fields.routingKey,
        properties: message.properties,
        body: JSON.parse(message.content.toString('utf8')),
      });
    },
    { noAck: true },
  );
  return {
    received,
    async waitFor(predicate, timeoutMs = 20_000, what = 'the expected events') {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (received ${received.length})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => connection.close(),
  };
}

/** Takes (and acknowledges) messages from a queue until `count` have come, oldest first; fails after `timeoutMs`. */
export async function takeMessages(queue: string, count: number, timeoutMs = 15_000): Promise<GetMessage[]> {
  const connection = await amqp.connect(testStack().amqpUrl);
  const taken: GetMessage[] = [];
  try {
    const channel = await connection.createChannel();
    const drain = async () => {
      for (
        let message = await channel.get(queue, { noAck: true });
        message;
        message = await channel.get(queue, { noAck: true })
      )
        taken.push(message);
      return taken.length;
    };
    await waitFor(drain, (n) => n >= count, `${count} message(s) in ${queue}`, timeoutMs);
  } finally {
    await connection.close();
  }
  return taken;
}

/** The user the test stack's AMQP connections authenticate as: what RabbitMQ accepts as their user_id. */
export function amqpUser(): string {
  return decodeURIComponent(new URL(testStack().amqpUrl).username) || 'guest';
}
