import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * Events this service has consumed, by their event_id: a redelivered message finds its row and is
 * acknowledged without being applied again. Written once the event's effect is committed.
 */
export const InboxEvent = defineEntity({
  name: 'InboxEvent',
  tableName: 'inbox_event',
  properties: {
    eventId: p.string().length(200).primary(),
    name: p.string().length(100),
    organizationId: p.uuid().nullable(),
    outcome: p.string().length(64),
    receivedAt: p.datetime().defaultRaw('now()'),
  },
});

export type InboxEvent = InferEntity<typeof InboxEvent>;
