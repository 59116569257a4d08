import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { Reconciliation } from './reconciliation.entity.ts';
import type { Difference, SnakeQuantities as Quantities, StockDrift as Drift } from '../vocabulary.ts';

/**
 * A stock row found to differ from its rebuild (its movements, its open holds) by a reconciliation,
 * still there when checked a second time. One per (reconciliation, stock row): recording it again is a
 * no-op, so a retried activity neither announces nor repairs anything twice.
 */
export const StockDrift = defineEntity({
  name: 'StockDrift',
  tableName: 'stock_drift',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    reconciliation: () => p.manyToOne(Reconciliation).deleteRule('cascade'),
    organizationId: p.uuid(),
    stockId: p.uuid(),
    variantId: p.uuid(),
    warehouseId: p.uuid(),
    recorded: p.json<Quantities>(),
    expected: p.json<Drift['expected']>(),
    differences: p.json<Difference[]>(),
    repaired: p.boolean(),
    repairNote: p.text().nullable(),
    detectedAt: p.datetime().defaultRaw('now()'),
  },
  uniques: [{ name: 'stock_drift_reconciliation_stock_unique', properties: ['reconciliation', 'stockId'] }],
  indexes: [{ name: 'stock_drift_stock_index', properties: ['organizationId', 'stockId'] }],
});

export type StockDrift = InferEntity<typeof StockDrift>;
