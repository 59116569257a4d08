import type { OrganizationScope } from '../organization-scope.ts';
import { InvalidArgumentError, StockNotFoundError } from '../errors.ts';
import { toRecordedMovement, type MovementRow, type Quantities } from './ledger.ts';
import { findWarehouse } from './stock-queries.ts';

/** Stock row settings and history reads that are not quantity changes. */

export interface Thresholds {
  minStock?: number;
  maxStock?: number;
  reorderPoint?: number;
}

/**
 * Sets min / max / reorder point of a stock row (settings, not quantities: no ledger movement).
 * WarehouseNotFoundError for a warehouse that is not the organization's, StockNotFoundError for no row.
 */
export async function updateThresholds(scope: OrganizationScope, variantId: string, warehouseId: string, thresholds: Thresholds): Promise<void> {
  await findWarehouse(scope, warehouseId);
  const [row] = await scope.em.execute<{ min_stock: number; max_stock: number }[]>(
    'select min_stock, max_stock from stock where organization_id = ? and variant_id = ? and warehouse_id = ?',
    [scope.organizationId, variantId, warehouseId],
  );
  if (!row) throw new StockNotFoundError(`no stock of variant ${variantId} in warehouse ${warehouseId}`, { variant_id: variantId, warehouse_id: warehouseId });
  const min = thresholds.minStock ?? row.min_stock;
  const max = thresholds.maxStock ?? row.max_stock;
  // max_stock 0 means "no maximum set" (the default of a row created by a first receipt).
  if (max > 0 && max < min) throw new InvalidArgumentError(`max_stock (${max}) cannot be below min_stock (${min})`, { field: 'max_stock' });
  await scope.em.execute(
    `update stock set min_stock = coalesce(?, min_stock), max_stock = coalesce(?, max_stock), reorder_point = coalesce(?, reorder_point), updated_at = clock_timestamp()
     where organization_id = ? and variant_id = ? and warehouse_id = ?`,
    [thresholds.minStock ?? null, thresholds.maxStock ?? null, thresholds.reorderPoint ?? null, scope.organizationId, variantId, warehouseId],
  );
}

/**
 * The row's quantities at a past instant, read from the ledger: the quantities after the last movement
 * at or before `at` (all zero before the first). StockNotFoundError when the row never existed.
 */
export async function stockAsOf(scope: OrganizationScope, variantId: string, warehouseId: string, at: Date): Promise<{ quantities: Quantities; lastMovementAt: Date | null }> {
  const exists = await scope.em.execute('select 1 from stock where organization_id = ? and variant_id = ? and warehouse_id = ?', [scope.organizationId, variantId, warehouseId]);
  if (exists.length === 0) throw new StockNotFoundError(`no stock of variant ${variantId} in warehouse ${warehouseId}`, { variant_id: variantId, warehouse_id: warehouseId });
  const [last] = await scope.em.execute<MovementRow[]>(
    `select * from stock_movement where organization_id = ? and variant_id = ? and warehouse_id = ? and created_at <= ?
     order by created_at desc, id desc limit 1`,
    [scope.organizationId, variantId, warehouseId, at],
  );
  if (!last) return { quantities: { total: 0, available: 0, reserved: 0, damaged: 0, inTransit: 0, incoming: 0 }, lastMovementAt: null };
  const movement = toRecordedMovement(last);
  return { quantities: movement.after, lastMovementAt: movement.createdAt };
}
