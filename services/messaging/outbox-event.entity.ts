import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * An event waiting to be published (transactional outbox). It is inserted in the transaction that
 * makes the change it announces, and the relay publishes rows in `sequence` order. Rows of one
 * aggregate (one stock row) are written under that row's lock, so their sequence is their commit order.
 */
export const OutboxEvent = defineEntity({
  name: 'OutboxEvent',
  tableName: 'outbox_event',
  properties: {
    id: p.uuid().primary(),
    sequence: p.bigint('number').autoincrement().unique('outbox_event_sequence_unique'),
    organizationId: p.uuid(),
    name: p.string().length(100),
    aggregateType: p.string().length(32),
    aggregateId: p.string().length(200),
    payload: p.json<Record<string, unknown>>(),
    createdAt: p.datetime().defaultRaw('clock_timestamp()'),
    publishedAt: p.datetime().nullable(),
    // The W3C trace context (traceparent, tracestate) of the transaction that wrote the event, which the relay
    // sends on as message headers; null when it was written outside a trace (README, Traces).
    traceContext: p.json<Record<string, string>>().nullable(),
  },
  indexes: [
    {
      name: 'outbox_event_unpublished_index',
      expression:
        'create index "outbox_event_unpublished_index" on "outbox_event" ("sequence") where "published_at" is null',
    },
  ],
});

export type OutboxEvent = InferEntity<typeof OutboxEvent>;
