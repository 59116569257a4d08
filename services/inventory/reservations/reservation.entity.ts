import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

import {
  reservationStatuses,
  type ReservationAllocation,
  type ReservationLine,
  type ReservationStatus,
  type ReservationTransition,
} from '../vocabulary.ts';

/**
 * A stock hold for one order. The ReservationWorkflow owns its life; this row mirrors every status so
 * reads and reports never depend on Temporal's retention. One per (organization, order): a failed
 * attempt is replaced by the next one, any other status answers for the order for good.
 */
export const Reservation = defineEntity({
  name: 'Reservation',
  tableName: 'reservation',
  properties: {
    id: p.uuid().primary(),
    organizationId: p.uuid(),
    orderId: p.string().length(200),
    status: p.string().length(16).$type<ReservationStatus>(),
    items: p.json<ReservationLine[]>(),
    preferredWarehouseId: p.uuid().nullable(),
    allocations: p.json<ReservationAllocation[]>(),
    /** The request as the service compares it (lines merged and sorted): the same order with other items is refused. */
    requestFingerprint: p.string().length(64),
    expiresAt: p.datetime().nullable(),
    releaseReason: p.text().nullable(),
    failure: p.json<Record<string, unknown>>().nullable(),
    transitions: p.json<ReservationTransition[]>(),
    workflowId: p.string().length(300),
    workflowRunId: p.string().length(64),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
  uniques: [{ name: 'reservation_organization_order_unique', properties: ['organizationId', 'orderId'] }],
  indexes: [
    { name: 'reservation_status_expiry_index', properties: ['organizationId', 'status', 'expiresAt'] },
    // Every organization's open holds, counted at each metrics scrape.
    { name: 'reservation_open_index', properties: ['status', 'expiresAt'] },
  ],
  checks: [
    {
      name: 'reservation_status_known',
      expression: `status in (${reservationStatuses.map((s) => `'${s}'`).join(', ')})`,
    },
  ],
});

export type Reservation = InferEntity<typeof Reservation>;
