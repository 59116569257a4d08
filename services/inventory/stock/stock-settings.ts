import type { OrganizationScope } from '../organization-scope.ts';
import { InvalidArgumentError, StockNotFoundError } from '../errors.ts';
import { lastMovementAtOrBefore } from './movement.store.ts';
import { findStockRow, findThresholds, setThresholds, type Thresholds } from './stock.store.ts';
import { getWarehouse } from '../warehouses/warehouse-queries.ts';
import type { Quantities } from '../vocabulary.ts';

/** Stock row settings and history reads that are not quantity changes. */

export type { Thresholds } from './stock.store.ts';

/**
 * Sets min / max / reorder point of a stock row (settings, not quantities: no ledger movement), in one
 * transaction. WarehouseNotFoundError for a warehouse that is not the organization's, StockNotFoundError
 * for no row, InvalidArgumentError when max_stock would fall below min_stock.
 */
export async function updateThresholds(
  scope: OrganizationScope,
  variantId: string,
  warehouseId: string,
  thresholds: Thresholds,
): Promise<void> {
  await getWarehouse(scope, warehouseId);
  await scope.transaction(async (tx) => {
    const row = await findThresholds(tx, variantId, warehouseId);
    if (!row) throw stockNotFound(variantId, warehouseId);
    const min = thresholds.minStock ?? row.minStock;
    const max = thresholds.maxStock ?? row.maxStock;
    // max_stock 0 means "no maximum set" (the default of a row created by a first receipt).
    if (max > 0 && max < min)
      throw new InvalidArgumentError(`max_stock (${max}) cannot be below min_stock (${min})`, { field: 'max_stock' });
    await setThresholds(tx, variantId, warehouseId, thresholds);
  });
}

/**
 * The row's quantities at a past instant, read from the ledger: the quantities after the last movement
 * at or before `at` (all zero before the first). StockNotFoundError when the row never existed.
 */
export function stockAsOf(
  scope: OrganizationScope,
  variantId: string,
  warehouseId: string,
  at: Date,
): Promise<{ quantities: Quantities; lastMovementAt: Date | null }> {
  return scope.transaction(async (tx) => {
    if (!(await findStockRow(tx, variantId, warehouseId))) throw stockNotFound(variantId, warehouseId);
    const last = await lastMovementAtOrBefore(tx, variantId, warehouseId, at);
    if (!last)
      return {
        quantities: { total: 0, available: 0, reserved: 0, damaged: 0, inTransit: 0, incoming: 0 },
        lastMovementAt: null,
      };
    return { quantities: last.after, lastMovementAt: last.createdAt };
  });
}

function stockNotFound(variantId: string, warehouseId: string): StockNotFoundError {
  return new StockNotFoundError(`no stock of variant ${variantId} in warehouse ${warehouseId}`, {
    variant_id: variantId,
    warehouse_id: warehouseId,
  });
}
