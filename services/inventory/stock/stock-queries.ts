import type { OrganizationScope } from '../organization-scope.ts';
import { decodeCursor, toPage, type Page } from '../pagination.ts';
import { VariantNotFoundError, WarehouseNotFoundError } from '../errors.ts';
import { Warehouse } from '../warehouses/warehouse.entity.ts';
import { pageStock, stockRowsOfVariant, variantsWithStock, type StockFilter, type StockLevel } from './stock.store.ts';

/** Read paths over stock rows, each in its own transaction. Reads go straight to PostgreSQL, never through Temporal. */

export type { StockFilter, StockLevel } from './stock.store.ts';

/** Stock rows matching the filter, ordered by (variant, warehouse), one page at a time. */
export function listStock(
  scope: OrganizationScope,
  filter: StockFilter,
  limit: number,
  cursor?: string,
): Promise<Page<StockLevel>> {
  return scope.transaction((tx) => pageStock(tx, scope, filter, limit, cursor));
}

/** Every warehouse's row for a variant; VariantNotFoundError when the organization holds none. */
export async function stockOfVariant(scope: OrganizationScope, variantId: string): Promise<StockLevel[]> {
  const rows = await scope.transaction((tx) => stockRowsOfVariant(tx, scope, variantId));
  if (rows.length === 0) throw variantNotFound(variantId);
  return rows;
}

/** Throws VariantNotFoundError unless the organization has at least one live stock row for the variant. */
export async function assertVariantKnown(scope: OrganizationScope, variantId: string): Promise<void> {
  // Not limited to the caller's warehouses: a variant is known to the organization.
  const known = await scope.transaction((tx) => variantsWithStock(tx, [variantId]));
  if (!known.has(variantId)) throw variantNotFound(variantId);
}

function variantNotFound(variantId: string): VariantNotFoundError {
  return new VariantNotFoundError(`variant ${variantId} has no stock in this organization`, { variant_id: variantId });
}

export interface WarehouseSummary {
  id: string;
  code: string;
  name: string;
  region: string;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * The warehouse, or WarehouseNotFoundError.
 * @deprecated Transitional (issue #11): the warehouses store (warehouses/) takes the warehouse reads over;
 * kept here, through the Warehouse entity, while other folders still import it from this file.
 */
export async function findWarehouse(scope: OrganizationScope, warehouseId: string): Promise<WarehouseSummary> {
  const warehouse = await scope.transaction((tx) =>
    tx.em.findOne(Warehouse, { organizationId: tx.organizationId, id: warehouseId }),
  );
  if (!warehouse)
    throw new WarehouseNotFoundError(`warehouse ${warehouseId} does not exist in this organization`, {
      warehouse_id: warehouseId,
    });
  return toWarehouseSummary(warehouse);
}

/**
 * Warehouses ordered by code, optionally only active ones or one region's.
 * @deprecated Transitional (issue #11): see findWarehouse.
 */
export async function listWarehouses(
  scope: OrganizationScope,
  filter: { active?: boolean; region?: string },
  limit: number,
  cursor?: string,
): Promise<Page<WarehouseSummary>> {
  if (scope.warehouseIds?.length === 0) return { items: [], nextCursor: null };
  const after = cursor ? decodeCursor(cursor, ['text'])[0] : undefined;
  const rows = await scope.transaction((tx) =>
    tx.em.find(
      Warehouse,
      {
        organizationId: tx.organizationId,
        ...(filter.active !== undefined ? { active: filter.active } : {}),
        ...(filter.region ? { region: filter.region } : {}),
        ...(scope.warehouseIds ? { id: { $in: [...scope.warehouseIds] } } : {}),
        ...(after !== undefined ? { code: { $gt: after } } : {}),
      },
      { orderBy: { code: 'asc' }, limit: limit + 1 },
    ),
  );
  return toPage(rows, limit, (w) => [w.code], toWarehouseSummary);
}

function toWarehouseSummary(w: Warehouse): WarehouseSummary {
  return {
    id: w.id,
    code: w.code,
    name: w.name,
    region: w.region,
    active: w.active,
    createdAt: w.createdAt,
    updatedAt: w.updatedAt,
  };
}
