import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * The first response to a write sent with an Idempotency-Key, kept so a retried request gets the
 * same answer instead of a second effect. `request_hash` names the request (method, path, body): the
 * same key with another request is refused.
 */
export const IdempotencyKey = defineEntity({
  name: 'IdempotencyKey',
  tableName: 'idempotency_key',
  properties: {
    organizationId: p.uuid().primary(),
    key: p.string().length(200).primary(),
    requestHash: p.string().length(64),
    state: p.string().length(16).$type<'in_flight' | 'completed'>(),
    responseStatus: p.integer().nullable(),
    responseBody: p.json<unknown>().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    completedAt: p.datetime().nullable(),
  },
  checks: [{ name: 'idempotency_key_state_known', expression: "state in ('in_flight', 'completed')" }],
  // Retention deletes by age, in batches: without it each batch would scan the table.
  indexes: [{ name: 'idempotency_key_created_index', properties: ['createdAt'] }],
});

export type IdempotencyKey = InferEntity<typeof IdempotencyKey>;
