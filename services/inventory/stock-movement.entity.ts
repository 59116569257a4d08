import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { organizationFilter } from '../db/organization-filter.ts';

/**
 * The append-only ledger: one row for every change to a stock row, written in the same transaction
 * as the change. Deltas are signed; the `*_after` columns are the row's quantities once applied, so
 * any past state can be read back. `operation_key` (unique per organization) makes a repeated
 * request a no-op. A trigger refuses UPDATE and DELETE: history is corrected by a new movement.
 */
export const StockMovement = defineEntity({
  name: 'StockMovement',
  tableName: 'stock_movement',
  filters: organizationFilter,
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    organizationId: p.uuid(),
    stockId: p.uuid(),
    variantId: p.uuid(),
    warehouseId: p.uuid(),
    type: p.string().length(32),
    totalDelta: p.integer(),
    availableDelta: p.integer(),
    reservedDelta: p.integer(),
    damagedDelta: p.integer(),
    inTransitDelta: p.integer(),
    incomingDelta: p.integer(),
    totalAfter: p.integer(),
    availableAfter: p.integer(),
    reservedAfter: p.integer(),
    damagedAfter: p.integer(),
    inTransitAfter: p.integer(),
    incomingAfter: p.integer(),
    /** The bin the change happened in, when the operator named one. */
    locationId: p.uuid().nullable(),
    reason: p.text().nullable(),
    referenceType: p.string().length(32).nullable(),
    referenceId: p.string().length(200).nullable(),
    actor: p.string().length(200),
    workflowId: p.string().length(300).nullable(),
    workflowRunId: p.string().length(64).nullable(),
    operationKey: p.string().length(400),
    createdAt: p.datetime().defaultRaw('clock_timestamp()'),
  },
  triggers: [
    {
      name: 'stock_movement_append_only',
      timing: 'before',
      events: ['update', 'delete'],
      forEach: 'row',
      body: "raise exception 'stock_movement is append-only: % refused', tg_op using errcode = 'restrict_violation';",
    },
  ],
  uniques: [{ name: 'stock_movement_operation_key_unique', properties: ['organizationId', 'operationKey'] }],
  indexes: [
    { name: 'stock_movement_variant_history_index', properties: ['organizationId', 'variantId', 'warehouseId', 'createdAt'] },
    { name: 'stock_movement_reference_index', properties: ['organizationId', 'referenceType', 'referenceId'] },
    { name: 'stock_movement_created_index', properties: ['organizationId', 'createdAt'] },
    { name: 'stock_movement_location_index', properties: ['organizationId', 'locationId'] },
  ],
});

export type StockMovement = InferEntity<typeof StockMovement>;
