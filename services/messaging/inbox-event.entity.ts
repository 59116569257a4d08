import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * Events this service has consumed, by (source, organization, event_id): a redelivered message finds
 * its row and is acknowledged without being applied again. Written once the event's effect is
 * committed. The key names the source and the organization so that an event id reused by another
 * service or for another organization is an event of its own, not a duplicate that swallows it.
 */
export const InboxEvent = defineEntity({
  name: 'InboxEvent',
  tableName: 'inbox_event',
  properties: {
    source: p.string().length(32).primary(),
    organizationId: p.uuid().primary(),
    eventId: p.string().length(200).primary(),
    name: p.string().length(100),
    outcome: p.string().length(64),
    receivedAt: p.datetime().defaultRaw('now()'),
  },
  // Retention deletes by age, in batches: without it each batch would scan the table.
  indexes: [{ name: 'inbox_event_received_index', properties: ['receivedAt'] }],
});

export type InboxEvent = InferEntity<typeof InboxEvent>;
