import type { OrganizationScope, ScopedTransaction } from '../organization-scope.ts';
import { LocationConflictError, LocationNotFoundError } from '../errors.ts';
import type { Page } from '../pagination.ts';
import { requireWarehouse } from './warehouse.store.ts';
import {
  deleteLocationRow,
  findLocation as findLocationRow,
  insertLocation,
  listLocations as listLocationRows,
  movementsNaming,
  updateLocationFields,
  type LocationRecord,
} from './location.store.ts';

/**
 * Bins inside warehouses; each use case is one transaction. A location named by a ledger movement
 * cannot be deleted: history keeps pointing at it. A caller limited to some warehouses sees only their bins.
 */

export type { LocationRecord } from './location.store.ts';

/**
 * Creates a location; WarehouseNotFoundError for a warehouse not the organization's, LocationConflictError
 * for a code in use.
 */
export function createLocation(
  scope: OrganizationScope,
  fields: { warehouseId: string; code: string; name: string },
): Promise<LocationRecord> {
  return scope.transaction(async (tx) => {
    await requireWarehouse(tx, fields.warehouseId);
    return await insertLocation(tx, fields);
  });
}

/** The location; LocationNotFoundError when there is none (or none the caller's warehouse scope shows). */
export function findLocation(scope: OrganizationScope, locationId: string): Promise<LocationRecord> {
  return scope.transaction((tx) => requireLocation(tx, locationId, scope.warehouseIds));
}

/** Throws LocationNotFoundError unless the location exists in that warehouse. */
export function assertLocationIn(scope: OrganizationScope, locationId: string, warehouseId: string): Promise<void> {
  return scope.transaction((tx) => requireLocationIn(tx, locationId, warehouseId, scope.warehouseIds));
}

/** In the caller's transaction: LocationNotFoundError unless the location exists in that warehouse (and scope). */
export async function requireLocationIn(
  tx: ScopedTransaction,
  locationId: string,
  warehouseId: string,
  warehouseIds?: readonly string[],
): Promise<void> {
  const location = await requireLocation(tx, locationId, warehouseIds);
  if (location.warehouseId !== warehouseId)
    throw new LocationNotFoundError(`location ${locationId} is not in warehouse ${warehouseId}`, {
      location_id: locationId,
    });
}

/** Locations by (warehouse, code), one page at a time, optionally of one warehouse. */
export function listLocations(
  scope: OrganizationScope,
  filter: { warehouseId?: string },
  limit: number,
  cursor?: string,
): Promise<Page<LocationRecord>> {
  return scope.transaction((tx) =>
    listLocationRows(
      tx,
      { ...filter, ...(scope.warehouseIds ? { warehouseIds: scope.warehouseIds } : {}) },
      limit,
      cursor,
    ),
  );
}

/** Recodes or renames a location; LocationNotFoundError, LocationConflictError for a code in use. */
export function updateLocation(
  scope: OrganizationScope,
  locationId: string,
  fields: { code?: string; name?: string },
): Promise<LocationRecord> {
  return scope.transaction(async (tx) => {
    await requireLocation(tx, locationId, scope.warehouseIds);
    await updateLocationFields(tx, locationId, fields);
    return await requireLocation(tx, locationId, scope.warehouseIds);
  });
}

/** Deletes a location nothing refers to; LocationNotFoundError; LocationConflictError while movements name it. */
export function deleteLocation(scope: OrganizationScope, locationId: string): Promise<void> {
  return scope.transaction(async (tx) => {
    await requireLocation(tx, locationId, scope.warehouseIds);
    const n = await movementsNaming(tx, locationId);
    if (n > 0)
      throw new LocationConflictError(`location ${locationId} is named by ${n} stock movements: it cannot be deleted`, {
        movements: n,
      });
    await deleteLocationRow(tx, locationId);
  });
}

async function requireLocation(
  tx: ScopedTransaction,
  locationId: string,
  warehouseIds?: readonly string[],
): Promise<LocationRecord> {
  const location = await findLocationRow(tx, locationId, warehouseIds);
  if (!location) throw new LocationNotFoundError(`location ${locationId} does not exist`, { location_id: locationId });
  return location;
}
