import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { ScopedTransaction } from '../organization-scope.ts';
import { LocationConflictError } from '../errors.ts';
import { decodeCursor, toPage, type Page } from '../pagination.ts';
import { toDate } from '../sql-values.ts';
import { firstRow } from '../../guaranteed.ts';

/**
 * Locations (bins inside warehouses): every call takes a transaction bound to the organization and
 * names the organization in its condition as a second layer under row-level security.
 *
 * Hand-written SQL, all of it: the Location entity's warehouse relation is a composite foreign key
 * (organization_id, warehouse_id) onto the warehouse's (organization_id, id) unique key, which
 * MikroORM builds for the schema but cannot load or write through (it knows only the primary key as a
 * reference), and `organization_id` is shared with the entity's own property. The entity stays the
 * schema's definition; these queries are plain and indexed.
 */

export interface LocationRecord {
  id: string;
  warehouseId: string;
  code: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

/** Inserts a location; LocationConflictError when the warehouse already has one with that code. */
export async function insertLocation(
  tx: ScopedTransaction,
  fields: { warehouseId: string; code: string; name: string },
): Promise<LocationRecord> {
  const rows = await translatingCode(fields.code, () =>
    tx.em.execute<LocationRow[]>(
      'insert into location (organization_id, warehouse_id, code, name) values (?, ?, ?, ?) returning *',
      [tx.organizationId, fields.warehouseId, fields.code, fields.name],
    ),
  );
  return toRecord(firstRow(rows, 'insert into location'));
}

/** The location, or undefined; with `warehouseIds`, only one in those warehouses. */
export async function findLocation(
  tx: ScopedTransaction,
  locationId: string,
  warehouseIds?: readonly string[],
): Promise<LocationRecord | undefined> {
  const inScope = scopeCondition(warehouseIds);
  const [row] = await tx.em.execute<LocationRow[]>(
    `select * from location where organization_id = ? and id = ? ${inScope.sql}`,
    [tx.organizationId, locationId, ...inScope.params],
  );
  return row ? toRecord(row) : undefined;
}

/** One page of locations by (warehouse, code), optionally of one warehouse; with `warehouseIds`, only theirs. */
export async function listLocations(
  tx: ScopedTransaction,
  filter: { warehouseId?: string; warehouseIds?: readonly string[] },
  limit: number,
  cursor?: string,
): Promise<Page<LocationRecord>> {
  const where = ['organization_id = ?'];
  const params: unknown[] = [tx.organizationId];
  if (filter.warehouseId) {
    where.push('warehouse_id = ?');
    params.push(filter.warehouseId);
  }
  const inScope = scopeCondition(filter.warehouseIds);
  if (cursor) {
    const [warehouseId, code] = decodeCursor(cursor, ['uuid', 'text']);
    where.push('(warehouse_id, code) > (?, ?)');
    params.push(warehouseId, code);
  }
  const rows = await tx.em.execute<LocationRow[]>(
    `select * from location where ${where.join(' and ')} ${inScope.sql} order by warehouse_id, code limit ?`,
    [...params, ...inScope.params, limit + 1],
  );
  return toPage(rows, limit, (r) => [r.warehouse_id, r.code], toRecord);
}

/** Changes the given fields; LocationConflictError for a code the warehouse already uses. */
export async function updateLocationFields(
  tx: ScopedTransaction,
  locationId: string,
  fields: { code?: string; name?: string },
): Promise<void> {
  // Only these two columns, named here: the keys never come from the caller's text.
  const sets: string[] = [];
  const values: unknown[] = [];
  if (fields.code !== undefined) {
    sets.push('code = ?');
    values.push(fields.code);
  }
  if (fields.name !== undefined) {
    sets.push('name = ?');
    values.push(fields.name);
  }
  if (sets.length === 0) return;
  await translatingCode(fields.code ?? '', () =>
    tx.em.execute(`update location set ${sets.join(', ')}, updated_at = now() where organization_id = ? and id = ?`, [
      ...values,
      tx.organizationId,
      locationId,
    ]),
  );
}

/** How many ledger movements name the location (history keeps pointing at it). */
export async function movementsNaming(tx: ScopedTransaction, locationId: string): Promise<number> {
  const rows = await tx.em.execute<{ n: number }[]>(
    'select count(*)::int as n from stock_movement where organization_id = ? and location_id = ?',
    [tx.organizationId, locationId],
  );
  return firstRow(rows, 'counting the movements of a location').n;
}

export async function deleteLocationRow(tx: ScopedTransaction, locationId: string): Promise<void> {
  await tx.em.execute('delete from location where organization_id = ? and id = ?', [tx.organizationId, locationId]);
}

/** The condition (with a leading `and`) that keeps rows inside the given warehouses; none when undefined. */
function scopeCondition(warehouseIds: readonly string[] | undefined): { sql: string; params: unknown[] } {
  if (!warehouseIds) return { sql: '', params: [] };
  if (warehouseIds.length === 0) return { sql: 'and false', params: [] };
  return { sql: 'and warehouse_id in (?)', params: [[...warehouseIds]] };
}

async function translatingCode<T>(code: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException)
      throw new LocationConflictError(`the warehouse already has a location ${code}`, { code });
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
  return {
    id: r.id,
    warehouseId: r.warehouse_id,
    code: r.code,
    name: r.name,
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  };
}
