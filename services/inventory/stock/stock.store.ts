import { raw } from '@mikro-orm/core';
import type { OrganizationRead, OrganizationScope, ScopedTransaction } from '../organization-scope.ts';
import { WarehouseNotFoundError } from '../errors.ts';
import { warehouseCondition } from '../organization-scope.ts';
import { decodeCursor, toPage, type Page } from '../pagination.ts';
import { toDate } from '../sql-values.ts';
import { Stock } from './stock.entity.ts';

/**
 * Stock rows (one variant in one warehouse): the one row type, its mapping to StockLevel, keyset
 * pagination and every read and settings write outside the ledger. Every function takes an open
 * transaction (`scope.transaction`), so row-level security sees the organization, except the availability
 * read, whose one statement binds it itself; the explicit `organization_id = ?` stays as a second layer and
 * for the indexes.
 *
 * Through MikroORM (the Stock entity, QueryBuilder): the threshold settings, read and written as
 * properties. Hand-written SQL: the list and per-variant reads (keyset pagination on a row-value
 * comparison and the warehouse-scope condition, both plain `where` fragments), the availability read
 * (a database function: a join on the active warehouses), the `for update` lock of a count's compare-and-swap,
 * and the first-receipt insert (`insert … select … on conflict do nothing`, which only creates a row in a
 * warehouse of the organization). The ledger's guarded quantity update stays in ledger.ts.
 */

/** The warehouses a caller may see (an operator's token scope): all of them when `warehouseIds` is undefined. */
type VisibleWarehouses = Pick<OrganizationScope, 'warehouseIds'>;

/** A stock row as raw SQL returns it (`select *` / `returning *`). */
export interface StockRow {
  id: string;
  variant_id: string;
  warehouse_id: string;
  total: number;
  available: number;
  reserved: number;
  damaged: number;
  in_transit: number;
  incoming: number;
  min_stock: number;
  max_stock: number;
  reorder_point: number;
  version: number;
  updated_at: string | Date;
}

export interface StockLevel {
  stockId: string;
  variantId: string;
  warehouseId: string;
  total: number;
  available: number;
  reserved: number;
  damaged: number;
  inTransit: number;
  incoming: number;
  minStock: number;
  maxStock: number;
  reorderPoint: number;
  version: number;
  updatedAt: Date;
}

export function toStockLevel(r: StockRow): StockLevel {
  return {
    stockId: r.id,
    variantId: r.variant_id,
    warehouseId: r.warehouse_id,
    total: r.total,
    available: r.available,
    reserved: r.reserved,
    damaged: r.damaged,
    inTransit: r.in_transit,
    incoming: r.incoming,
    minStock: r.min_stock,
    maxStock: r.max_stock,
    reorderPoint: r.reorder_point,
    version: r.version,
    updatedAt: toDate(r.updated_at),
  };
}

export interface StockFilter {
  variantId?: string;
  warehouseId?: string;
  /** Only rows at or below their minimum (available ≤ min_stock). */
  low?: boolean;
}

/** Live (not archived) rows matching the filter, ordered by (variant, warehouse), one page at a time. */
export async function pageStock(
  tx: ScopedTransaction,
  visible: VisibleWarehouses,
  filter: StockFilter,
  limit: number,
  cursor?: string,
): Promise<Page<StockLevel>> {
  const where = ['organization_id = ?', 'archived_at is null'];
  const params: unknown[] = [tx.organizationId];
  if (filter.variantId) {
    where.push('variant_id = ?');
    params.push(filter.variantId);
  }
  if (filter.warehouseId) {
    where.push('warehouse_id = ?');
    params.push(filter.warehouseId);
  }
  if (filter.low) where.push('available <= min_stock');
  const inScope = warehouseCondition(visible, 'warehouse_id');
  if (inScope) {
    where.push(inScope.sql);
    params.push(...inScope.params);
  }
  if (cursor) {
    const [variantId, warehouseId] = decodeCursor(cursor, ['uuid', 'uuid']);
    where.push('(variant_id, warehouse_id) > (?, ?)');
    params.push(variantId, warehouseId);
  }
  const rows = await tx.em.execute<StockRow[]>(
    `select * from stock where ${where.join(' and ')} order by variant_id, warehouse_id limit ?`,
    [...params, limit + 1],
  );
  return toPage(rows, limit, (r) => [r.variant_id, r.warehouse_id], toStockLevel);
}

/** A variant's live rows in the warehouses the caller may see, by warehouse id. */
export async function stockRowsOfVariant(
  tx: ScopedTransaction,
  visible: VisibleWarehouses,
  variantId: string,
): Promise<StockLevel[]> {
  const inScope = warehouseCondition(visible, 'warehouse_id');
  const rows = await tx.em.execute<StockRow[]>(
    `select * from stock where organization_id = ? and variant_id = ? and archived_at is null
     ${inScope ? `and ${inScope.sql}` : ''} order by warehouse_id`,
    [tx.organizationId, variantId, ...(inScope?.params ?? [])],
  );
  return rows.map(toStockLevel);
}

/** The row of a variant in a warehouse (archived or not), or null. */
export async function findStockRow(
  tx: ScopedTransaction,
  variantId: string,
  warehouseId: string,
): Promise<StockRow | null> {
  const [row] = await tx.em.execute<StockRow[]>(
    'select * from stock where organization_id = ? and variant_id = ? and warehouse_id = ?',
    [tx.organizationId, variantId, warehouseId],
  );
  return row ?? null;
}

/** The variants among `variantIds` that have at least one live row in the organization. */
export async function variantsWithStock(tx: ScopedTransaction, variantIds: string[]): Promise<Set<string>> {
  const rows = await tx.em.execute<{ variant_id: string }[]>(
    'select distinct variant_id from stock where organization_id = ? and variant_id in (?) and archived_at is null',
    [tx.organizationId, variantIds],
  );
  return new Set(rows.map((r) => r.variant_id));
}

export interface AvailableRow {
  variantId: string;
  warehouseId: string;
  available: number;
}

// What available_in_active_warehouses raises for an unknown preferred warehouse (its migration).
const preferredWarehouseMissing = 'IW404';

/**
 * The variants' live rows in active warehouses, per variant the most available first (ties by warehouse code),
 * in one statement that binds the organization itself (the function of Migration20261130160000_availability_read):
 * one round trip, no transaction to open. With `preferredWarehouseId`, WarehouseNotFoundError when the
 * organization has no such warehouse (active or not).
 */
export async function availableInActiveWarehouses(
  read: OrganizationRead,
  variantIds: string[],
  preferredWarehouseId?: string,
): Promise<AvailableRow[]> {
  try {
    const rows = await read.run<{ variant_id: string; warehouse_id: string; available: number }>(
      'available_in_active_warehouses',
      'select variant_id, warehouse_id, available from available_in_active_warehouses($1, $2, $3)',
      [read.organizationId, variantIds, preferredWarehouseId ?? null],
    );
    return rows.map((r) => ({ variantId: r.variant_id, warehouseId: r.warehouse_id, available: r.available }));
  } catch (error) {
    if ((error as { code?: unknown }).code === preferredWarehouseMissing && preferredWarehouseId)
      throw new WarehouseNotFoundError(`warehouse ${preferredWarehouseId} does not exist in this organization`, {
        warehouse_id: preferredWarehouseId,
      });
    throw error;
  }
}

/** Locks the row until the transaction ends and returns its available units, or null when there is no row. */
export async function lockAvailable(
  tx: ScopedTransaction,
  variantId: string,
  warehouseId: string,
): Promise<number | null> {
  const [row] = await tx.em.execute<{ available: number }[]>(
    'select available from stock where organization_id = ? and variant_id = ? and warehouse_id = ? for update',
    [tx.organizationId, variantId, warehouseId],
  );
  return row?.available ?? null;
}

/**
 * Creates the all-zero row of a variant in a warehouse of the organization, unless it exists. Another
 * organization's warehouse (or none) inserts nothing: the insert selects the warehouse within the organization.
 */
export async function insertStockIfMissing(
  tx: ScopedTransaction,
  variantId: string,
  warehouseId: string,
): Promise<void> {
  await tx.em.execute(
    `insert into stock (organization_id, variant_id, warehouse_id)
     select w.organization_id, ?, w.id from warehouse w where w.organization_id = ? and w.id = ?
     on conflict (organization_id, variant_id, warehouse_id) do nothing`,
    [variantId, tx.organizationId, warehouseId],
  );
}

export interface Thresholds {
  minStock?: number;
  maxStock?: number;
  reorderPoint?: number;
}

/** The row's min and max, or null when there is no row. */
export async function findThresholds(
  tx: ScopedTransaction,
  variantId: string,
  warehouseId: string,
): Promise<{ minStock: number; maxStock: number } | null> {
  const row = await tx.em.findOne(Stock, rowKey(tx, variantId, warehouseId), { fields: ['minStock', 'maxStock'] });
  return row ? { minStock: row.minStock, maxStock: row.maxStock } : null;
}

/** Sets the given thresholds of the row (the others stay); settings, not quantities: no version change. */
export async function setThresholds(
  tx: ScopedTransaction,
  variantId: string,
  warehouseId: string,
  thresholds: Thresholds,
): Promise<void> {
  await tx.em
    .createQueryBuilder(Stock)
    .update({
      ...(thresholds.minStock !== undefined ? { minStock: thresholds.minStock } : {}),
      ...(thresholds.maxStock !== undefined ? { maxStock: thresholds.maxStock } : {}),
      ...(thresholds.reorderPoint !== undefined ? { reorderPoint: thresholds.reorderPoint } : {}),
      updatedAt: raw('clock_timestamp()'),
    })
    .where(rowKey(tx, variantId, warehouseId))
    .execute();
}

/** The entity's key of a row: its warehouse relation is the pair (organization_id, warehouse_id). */
function rowKey(tx: ScopedTransaction, variantId: string, warehouseId: string) {
  return {
    organizationId: tx.organizationId,
    variantId,
    warehouse: [tx.organizationId, warehouseId] as [string, string],
  };
}
