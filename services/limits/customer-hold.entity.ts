import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * Which customer an order's hold is for, when ReserveStock names one: written at the edge before the
 * reservation starts, so the customer quota can count the customer's open holds (this row joined to
 * the order's reservation while that is active or confirmed). Rows whose reservation is no longer open
 * are pruned by retention.
 */
export const CustomerHold = defineEntity({
  name: 'CustomerHold',
  tableName: 'customer_hold',
  properties: {
    organizationId: p.uuid().primary(),
    orderId: p.string().length(200).primary(),
    customerId: p.string().length(200),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  indexes: [{ name: 'customer_hold_customer_index', properties: ['organizationId', 'customerId'] }],
});

export type CustomerHold = InferEntity<typeof CustomerHold>;
