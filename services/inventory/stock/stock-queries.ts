import { warehouseCondition, type OrganizationScope } from '../organization-scope.ts';
import { decodeCursor, toPage, type Page } from '../pagination.ts';
import { VariantNotFoundError, WarehouseNotFoundError } from '../errors.ts';
import { toDate } from '../sql-values.ts';

/** Read paths over stock rows. Reads go straight to PostgreSQL, never through Temporal. */

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

export interface StockFilter {
  variantId?: string;
  warehouseId?: string;
  /** Only rows at or below their minimum (available ≤ min_stock). */
  low?: boolean;
}

interface StockRow {
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

const toStockLevel = (r: StockRow): StockLevel => ({
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
});

/** Stock rows matching the filter, ordered by (variant, warehouse), one page at a time. */
export async function listStock(scope: OrganizationScope, filter: StockFilter, limit: number, cursor?: string): Promise<Page<StockLevel>> {
  const where = ['organization_id = ?', 'archived_at is null'];
  const params: unknown[] = [scope.organizationId];
  if (filter.variantId) {
    where.push('variant_id = ?');
    params.push(filter.variantId);
  }
  if (filter.warehouseId) {
    where.push('warehouse_id = ?');
    params.push(filter.warehouseId);
  }
  if (filter.low) where.push('available <= min_stock');
  const inScope = warehouseCondition(scope, 'warehouse_id');
  if (inScope) {
    where.push(inScope.sql);
    params.push(...inScope.params);
  }

  if (cursor) {
    const [variantId, warehouseId] = decodeCursor(cursor, ['uuid', 'uuid']);
    where.push('(variant_id, warehouse_id) > (?, ?)');
    params.push(variantId, warehouseId);
  }
  const rows = await scope.em.execute<StockRow[]>(
    `select * from stock where ${where.join(' and ')} order by variant_id, warehouse_id limit ?`,
    [...params, limit + 1],
  );
  return toPage(rows, limit, (r) => [r.variant_id, r.warehouse_id], toStockLevel);
}

/** Every warehouse's row for a variant; VariantNotFoundError when the organization holds none. */
export async function stockOfVariant(scope: OrganizationScope, variantId: string): Promise<StockLevel[]> {
  const inScope = warehouseCondition(scope, 'warehouse_id');
  const rows = await scope.em.execute<StockRow[]>(
    `select * from stock where organization_id = ? and variant_id = ? and archived_at is null ${inScope ? `and ${inScope.sql}` : ''} order by warehouse_id`,
    [scope.organizationId, variantId, ...(inScope?.params ?? [])],
  );
  if (rows.length === 0) throw new VariantNotFoundError(`variant ${variantId} has no stock in this organization`, { variant_id: variantId });
  return rows.map(toStockLevel);
}

/** Throws VariantNotFoundError unless the organization has at least one stock row for the variant. */
export async function assertVariantKnown(scope: OrganizationScope, variantId: string): Promise<void> {
  const rows = await scope.em.execute('select 1 from stock where organization_id = ? and variant_id = ? and archived_at is null limit 1', [scope.organizationId, variantId]);
  if (rows.length === 0) throw new VariantNotFoundError(`variant ${variantId} has no stock in this organization`, { variant_id: variantId });
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

/** The warehouse, or WarehouseNotFoundError. */
export async function findWarehouse(scope: OrganizationScope, warehouseId: string): Promise<WarehouseSummary> {
  const [row] = await scope.em.execute<WarehouseRow[]>(
    'select * from warehouse where organization_id = ? and id = ?',
    [scope.organizationId, warehouseId],
  );
  if (!row) throw new WarehouseNotFoundError(`warehouse ${warehouseId} does not exist in this organization`, { warehouse_id: warehouseId });
  return toWarehouseSummary(row);
}

/** Warehouses ordered by code, optionally only active ones or one region's. */
export async function listWarehouses(scope: OrganizationScope, filter: { active?: boolean; region?: string }, limit: number, cursor?: string): Promise<Page<WarehouseSummary>> {
  const where = ['organization_id = ?'];
  const params: unknown[] = [scope.organizationId];
  if (filter.active !== undefined) {
    where.push('active = ?');
    params.push(filter.active);
  }
  if (filter.region) {
    where.push('region = ?');
    params.push(filter.region);
  }
  const inScope = warehouseCondition(scope, 'id');
  if (inScope) {
    where.push(inScope.sql);
    params.push(...inScope.params);
  }
  if (cursor) {
    const [code] = decodeCursor(cursor, ['text']);
    where.push('code > ?');
    params.push(code);
  }
  const rows = await scope.em.execute<WarehouseRow[]>(
    `select * from warehouse where ${where.join(' and ')} order by code limit ?`,
    [...params, limit + 1],
  );
  return toPage(rows, limit, (r) => [r.code], toWarehouseSummary);
}

interface WarehouseRow {
  id: string;
  code: string;
  name: string;
  region: string;
  active: boolean;
  created_at: string | Date;
  updated_at: string | Date;
}

function toWarehouseSummary(r: WarehouseRow): WarehouseSummary {
  return { id: r.id, code: r.code, name: r.name, region: r.region, active: r.active, createdAt: toDate(r.created_at), updatedAt: toDate(r.updated_at) };
}
