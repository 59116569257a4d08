import { Counter, Gauge, type Registry } from 'prom-client';
import { withTimeout } from './registry.ts';

/**
 * How a delivery was settled: `applied` (its effect committed), `duplicate` (its inbox row was there
 * already), `retried` (failed, sent back with backoff), `dead_lettered` (failed `maxAttempts` times),
 * `refused` (dead-lettered at once: not from its source's exchange, malformed, not matching its schema).
 */
export type ConsumerOutcome = 'applied' | 'duplicate' | 'dead_lettered' | 'retried' | 'refused';

export interface ConsumerMetrics {
  registry: Registry;
  messages: Counter<'source' | 'outcome'>;
  /** Sets how the dead-letter gauge reads the queue's depth at scrape time (a passive declare, at most 2 s). */
  watchDeadLetterQueue(depth: () => Promise<number>): void;
}

/** The consumer's series, registered in `registry` (served on CONSUMER_METRICS_PORT). */
export function createConsumerMetrics(registry: Registry): ConsumerMetrics {
  let depth: (() => Promise<number>) | undefined;
  new Gauge({
    name: 'inventory_consumer_dead_letter_messages',
    help: 'Messages waiting in the dead-letter queue (NaN when the broker did not answer within 2 s)',
    registers: [registry],
    async collect() {
      if (!depth) return;
      const read = depth;
      this.set((await withTimeout(read, 2000)) ?? NaN);
    },
  });
  return {
    registry,
    messages: new Counter({
      name: 'inventory_consumer_messages_total',
      help: 'Consumed deliveries by source and how they were settled',
      labelNames: ['source', 'outcome'],
      registers: [registry],
    }),
    watchDeadLetterQueue(read) {
      depth = read;
    },
  };
}
