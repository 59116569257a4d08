import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { warehouseCondition, type OrganizationScope } from '../organization-scope.ts';
import { LocationConflictError, LocationNotFoundError } from '../errors.ts';
import { findWarehouse } from '../stock/stock-queries.ts';
import { decodeCursor, toPage, type Page } from '../pagination.ts';
import { toDate } from '../sql-values.ts';

/** Bins inside warehouses. A location named by a ledger movement cannot be deleted: history keeps pointing at it. */

export interface LocationRecord {
  id: string;
  warehouseId: string;
  code: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

export async function createLocation(scope: OrganizationScope, fields: { warehouseId: string; code: string; name: string }): Promise<LocationRecord> {
  await findWarehouse(scope, fields.warehouseId);
  const [row] = await codeConflict(fields.code, () =>
    scope.em.execute<LocationRow[]>('insert into location (organization_id, warehouse_id, code, name) values (?, ?, ?, ?) returning *', [scope.organizationId, fields.warehouseId, fields.code, fields.name]),
  );
  return toRecord(row);
}

/** The location; LocationNotFoundError when there is none (or none the caller's warehouse scope shows). */
export async function findLocation(scope: OrganizationScope, locationId: string): Promise<LocationRecord> {
  const inScope = warehouseCondition(scope, 'warehouse_id');
  const [row] = await scope.em.execute<LocationRow[]>(`select * from location where organization_id = ? and id = ? ${inScope ? `and ${inScope.sql}` : ''}`, [
    scope.organizationId,
    locationId,
    ...(inScope?.params ?? []),
  ]);
  if (!row) throw new LocationNotFoundError(`location ${locationId} does not exist`, { location_id: locationId });
  return toRecord(row);
}

/** Throws LocationNotFoundError unless the location exists in that warehouse. */
export async function assertLocationIn(scope: OrganizationScope, locationId: string, warehouseId: string): Promise<void> {
  const location = await findLocation(scope, locationId);
  if (location.warehouseId !== warehouseId) throw new LocationNotFoundError(`location ${locationId} is not in warehouse ${warehouseId}`, { location_id: locationId });
}

export async function listLocations(scope: OrganizationScope, filter: { warehouseId?: string }, limit: number, cursor?: string): Promise<Page<LocationRecord>> {
  const where = ['organization_id = ?'];
  const params: unknown[] = [scope.organizationId];
  if (filter.warehouseId) {
    where.push('warehouse_id = ?');
    params.push(filter.warehouseId);
  }
  const inScope = warehouseCondition(scope, 'warehouse_id');
  if (inScope) {
    where.push(inScope.sql);
    params.push(...inScope.params);
  }
  if (cursor) {
    const [warehouseId, code] = decodeCursor(cursor, ['uuid', 'text']);
    where.push('(warehouse_id, code) > (?, ?)');
    params.push(warehouseId, code);
  }
  const rows = await scope.em.execute<LocationRow[]>(`select * from location where ${where.join(' and ')} order by warehouse_id, code limit ?`, [...params, limit + 1]);
  return toPage(rows, limit, (r) => [r.warehouse_id, r.code], toRecord);
}

export async function updateLocation(scope: OrganizationScope, locationId: string, fields: { code?: string; name?: string }): Promise<LocationRecord> {
  await findLocation(scope, locationId);
  const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
  if (entries.length > 0) {
    await codeConflict(fields.code ?? '', () =>
      scope.em.execute(`update location set ${entries.map(([k]) => `${k} = ?`).join(', ')}, updated_at = now() where organization_id = ? and id = ?`, [...entries.map(([, v]) => v), scope.organizationId, locationId]),
    );
  }
  return await findLocation(scope, locationId);
}

/** Deletes a location nothing refers to; LocationConflictError while ledger movements name it. */
export async function deleteLocation(scope: OrganizationScope, locationId: string): Promise<void> {
  await findLocation(scope, locationId);
  const [{ n }] = await scope.em.execute<{ n: number }[]>('select count(*)::int as n from stock_movement where organization_id = ? and location_id = ?', [scope.organizationId, locationId]);
  if (n > 0) throw new LocationConflictError(`location ${locationId} is named by ${n} stock movements: it cannot be deleted`, { movements: n });
  await scope.em.execute('delete from location where organization_id = ? and id = ?', [scope.organizationId, locationId]);
}

async function codeConflict<T>(code: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw new LocationConflictError(`the warehouse already has a location ${code}`, { code });
    throw error;
  }
}

interface LocationRow {
  id: string;
  warehouse_id: string;
  code: string;
  name: string;
  created_at: string | Date;
  updated_at: string | Date;
}

function toRecord(r: LocationRow): LocationRecord {
  return { id: r.id, warehouseId: r.warehouse_id, code: r.code, name: r.name, createdAt: toDate(r.created_at), updatedAt: toDate(r.updated_at) };
}
