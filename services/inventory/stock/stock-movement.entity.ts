import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { Location } from '../warehouses/location.entity.ts';
import { Stock } from './stock.entity.ts';
import { Warehouse } from '../warehouses/warehouse.entity.ts';
import { reasonCodes } from './adjustment-reasons.ts';

/**
 * The append-only ledger: one row for every change to a stock row, written in the same transaction
 * as the change. Deltas are signed; the `*_after` columns are the row's quantities once applied, so
 * any past state can be read back. `operation_key` (unique per organization) makes a repeated
 * request a no-op. A trigger refuses UPDATE and DELETE: history is corrected by a new movement.
 * Its stock row, warehouse and bin are foreign keys that include organization_id (see
 * warehouse.entity.ts), so a movement can never mix organizations; none of them cascades (append-only).
 */
export const StockMovement = defineEntity({
  name: 'StockMovement',
  tableName: 'stock_movement',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    organizationId: p.uuid(),
    stock: () =>
      p
        .manyToOne(Stock)
        .joinColumns('organization_id', 'stock_id')
        .referencedColumnNames('organization_id', 'id')
        .foreignKeyName('stock_movement_stock_foreign')
        .deleteRule('restrict'),
    variantId: p.uuid(),
    warehouse: () =>
      p
        .manyToOne(Warehouse)
        .joinColumns('organization_id', 'warehouse_id')
        .referencedColumnNames('organization_id', 'id')
        .foreignKeyName('stock_movement_warehouse_foreign')
        .deleteRule('restrict'),
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
    /** The bin the change happened in, when the operator named one; it must be in the movement's warehouse. */
    location: () =>
      p
        .manyToOne(Location)
        .joinColumns('organization_id', 'warehouse_id', 'location_id')
        .referencedColumnNames('organization_id', 'warehouse_id', 'id')
        .foreignKeyName('stock_movement_location_foreign')
        .deleteRule('restrict')
        .nullable(),
    /** The operator's free note (an adjustment's reason code and purchase order have their own columns). */
    reason: p.text().nullable(),
    /** An adjustment's reason (adjustment-reasons.ts). */
    reasonCode: p.string().length(32).nullable(),
    /** The purchase order a receipt fulfils. */
    purchaseOrderId: p.string().length(200).nullable(),
    /** The order the change serves (a reservation's hold, release or fulfilment; an order's return). */
    orderId: p.string().length(200).nullable(),
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
  checks: [
    {
      name: 'stock_movement_reason_code_known',
      expression: `reason_code in (${reasonCodes.map((c) => `'${c}'`).join(', ')})`,
    },
  ],
  uniques: [{ name: 'stock_movement_operation_key_unique', properties: ['organizationId', 'operationKey'] }],
  indexes: [
    // A row's history in time order; its deltas ride along so reconciliation sums a key range of the ledger
    // from the index alone (an index-only scan, already grouped by row).
    {
      name: 'stock_movement_variant_ledger_index',
      properties: ['organizationId', 'variantId', 'warehouse', 'createdAt'],
      include: ['totalDelta', 'availableDelta', 'reservedDelta', 'damagedDelta', 'inTransitDelta', 'incomingDelta'],
    },
    { name: 'stock_movement_reference_index', properties: ['organizationId', 'referenceType', 'referenceId'] },
    { name: 'stock_movement_created_index', properties: ['organizationId', 'createdAt'] },
    { name: 'stock_movement_order_index', properties: ['organizationId', 'orderId', 'createdAt'] },
    // Not by `location`: that relation's key includes warehouse_id, and deleting a bin looks movements up by (organization, bin).
    {
      name: 'stock_movement_location_index',
      expression: 'create index "stock_movement_location_index" on "stock_movement" ("organization_id", "location_id")',
    },
  ],
});

export type StockMovement = InferEntity<typeof StockMovement>;
