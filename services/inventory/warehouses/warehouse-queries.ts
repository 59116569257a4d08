import type { OrganizationScope } from '../organization-scope.ts';
import type { Page } from '../pagination.ts';
import { listWarehouses as listWarehouseRows, requireWarehouse, type WarehouseRecord } from './warehouse.store.ts';

/** Reads of warehouses for the API, each in a transaction bound to the caller's organization. */

/** Any of the organization's warehouses, or WarehouseNotFoundError. */
export function getWarehouse(scope: OrganizationScope, warehouseId: string): Promise<WarehouseRecord> {
  return scope.transaction((tx) => requireWarehouse(tx, warehouseId));
}

/**
 * Warehouses ordered by code, optionally only active ones or one region's; a caller limited to some
 * warehouses sees only those.
 */
export function listWarehouses(
  scope: OrganizationScope,
  filter: { active?: boolean; region?: string },
  limit: number,
  cursor?: string,
): Promise<Page<WarehouseRecord>> {
  return scope.transaction((tx) =>
    listWarehouseRows(tx, { ...filter, ...(scope.warehouseIds ? { ids: scope.warehouseIds } : {}) }, limit, cursor),
  );
}
