import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * How often the consumer has failed to apply an event, by the inbox's key. The count is the consumer's
 * own: a header on the message would be the publisher's to set. `fingerprint` is the hash of the
 * message as it was admitted (routing key, publisher, body); a retry copy must match it, which makes
 * a retry copy nobody else can forge. Reset to zero when the event is dead-lettered, so a replay from
 * the dead-letter queue gets its attempts again.
 */
export const ConsumerAttempt = defineEntity({
  name: 'ConsumerAttempt',
  tableName: 'consumer_attempt',
  properties: {
    source: p.string().length(32).primary(),
    organizationId: p.uuid().primary(),
    eventId: p.string().length(200).primary(),
    attempts: p.integer().default(0),
    fingerprint: p.string().length(64),
    lastError: p.text().nullable(),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
});

export type ConsumerAttempt = InferEntity<typeof ConsumerAttempt>;
