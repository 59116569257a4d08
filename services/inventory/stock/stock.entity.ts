import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { Warehouse } from '../warehouses/warehouse.entity.ts';

/**
 * Stock of one variant in one warehouse. The quantities change only through the ledger
 * (stock/ledger.ts); the CHECK constraints below are the last line of defence:
 * nothing negative, and total = available + reserved + damaged + in_transit.
 * `incoming` (ordered or shipped towards this warehouse, not yet on hand) is outside total.
 */
export const Stock = defineEntity({
  name: 'Stock',
  tableName: 'stock',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    organizationId: p.uuid(),
    variantId: p.uuid(),
    // (organization_id, warehouse_id) → warehouse (organization_id, id): see warehouse.entity.ts.
    warehouse: () =>
      p
        .manyToOne(Warehouse)
        .joinColumns('organization_id', 'warehouse_id')
        .referencedColumnNames('organization_id', 'id')
        .foreignKeyName('stock_warehouse_foreign')
        .deleteRule('restrict'),
    total: p.integer().default(0),
    available: p.integer().default(0),
    reserved: p.integer().default(0),
    damaged: p.integer().default(0),
    inTransit: p.integer().default(0),
    incoming: p.integer().default(0),
    minStock: p.integer().default(0),
    maxStock: p.integer().default(0),
    reorderPoint: p.integer().default(0),
    version: p.integer().default(1),
    /** Set when the catalog deleted the variant and the row held nothing; any later change revives the row. */
    archivedAt: p.datetime().nullable(),
    createdAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
  uniques: [
    { name: 'stock_organization_variant_warehouse_unique', properties: ['organizationId', 'variantId', 'warehouse'] },
    { name: 'stock_organization_id_unique', properties: ['organizationId', 'id'] },
  ],
  indexes: [{ name: 'stock_organization_warehouse_index', properties: ['organizationId', 'warehouse'] }],
  checks: [
    {
      name: 'stock_quantities_non_negative',
      expression:
        'total >= 0 and available >= 0 and reserved >= 0 and damaged >= 0 and in_transit >= 0 and incoming >= 0',
    },
    { name: 'stock_total_is_sum_of_parts', expression: 'total = available + reserved + damaged + in_transit' },
    { name: 'stock_thresholds_non_negative', expression: 'min_stock >= 0 and max_stock >= 0 and reorder_point >= 0' },
  ],
});

export type Stock = InferEntity<typeof Stock>;
