import { LockMode, UniqueConstraintViolationException, type FilterQuery } from '@mikro-orm/core';
import type { ScopedTransaction } from '../organization-scope.ts';
import { WarehouseCodeTakenError, WarehouseNotFoundError } from '../errors.ts';
import { decodeCursor, toPage, type Page } from '../pagination.ts';
import { Warehouse } from './warehouse.entity.ts';
import { firstRow, itemAt } from '../../guaranteed.ts';

/**
 * Warehouses: every call takes a transaction bound to the organization, and names the organization in
 * its condition as a second layer under row-level security.
 *
 * Through MikroORM: reads (`em.findOne`/`em.find` on the Warehouse entity, keyset pagination by code),
 * creation and changes (the unit of work: load, assign, flush), and the row lock that deactivation
 * takes (`lockMode: PESSIMISTIC_WRITE`). Hand-written SQL only for what a warehouse holds (`usageOf`):
 * sums over the stock and transfer tables, which are other aggregates' and have no use for entities here.
 */

export interface WarehouseRecord {
  id: string;
  code: string;
  name: string;
  region: string;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface WarehouseFields {
  code: string;
  name: string;
  region: string;
}

/** What a warehouse still holds or expects, and its open transfers. */
export interface WarehouseUsage {
  total: number;
  reserved: number;
  in_transit: number;
  incoming: number;
  openTransfers: number;
}

/** The warehouse, or undefined when the organization has none with that id. */
export async function findWarehouse(tx: ScopedTransaction, warehouseId: string): Promise<WarehouseRecord | undefined> {
  const warehouse = await load(tx, warehouseId);
  return warehouse ? toRecord(warehouse) : undefined;
}

/** The warehouse, or WarehouseNotFoundError (another organization's warehouse is none). */
export async function requireWarehouse(tx: ScopedTransaction, warehouseId: string): Promise<WarehouseRecord> {
  return toRecord(await loadOrThrow(tx, warehouseId));
}

/** One page of the organization's warehouses by code, optionally only active ones, one region's, or some ids. */
export async function listWarehouses(
  tx: ScopedTransaction,
  filter: { active?: boolean; region?: string; ids?: readonly string[] },
  limit: number,
  cursor?: string,
): Promise<Page<WarehouseRecord>> {
  const where: FilterQuery<Warehouse> = { organizationId: tx.organizationId };
  if (filter.active !== undefined) where.active = filter.active;
  if (filter.region) where.region = filter.region;
  if (filter.ids) where.id = { $in: [...filter.ids] };
  if (cursor) where.code = { $gt: itemAt(decodeCursor(cursor, ['text']), 0, 'the warehouse cursor') };
  const rows = await tx.em.find(Warehouse, where, { orderBy: { code: 'asc' }, limit: limit + 1 });
  return toPage(rows, limit, (w) => [w.code], toRecord);
}

/** Inserts an active warehouse; WarehouseCodeTakenError when the code is in use in the organization. */
export async function insertWarehouse(tx: ScopedTransaction, fields: WarehouseFields): Promise<WarehouseRecord> {
  const warehouse = tx.em.create(Warehouse, { organizationId: tx.organizationId, ...fields });
  await flushTranslatingCode(tx, fields.code);
  return toRecord(warehouse);
}

/** Changes the given fields; WarehouseNotFoundError, or WarehouseCodeTakenError for a code in use. */
export async function updateWarehouseFields(
  tx: ScopedTransaction,
  warehouseId: string,
  fields: Partial<WarehouseFields>,
): Promise<WarehouseRecord> {
  const warehouse = await loadOrThrow(tx, warehouseId);
  const changes = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  if (Object.keys(changes).length > 0) {
    tx.em.assign(warehouse, changes);
    await flushTranslatingCode(tx, fields.code ?? '');
  }
  return toRecord(warehouse);
}

/**
 * Locks the warehouse row for the rest of the transaction (`for update`), so no stock arrives at it
 * while the caller decides; WarehouseNotFoundError when there is none.
 */
export async function lockWarehouse(tx: ScopedTransaction, warehouseId: string): Promise<WarehouseRecord> {
  const warehouse = await tx.em.findOne(
    Warehouse,
    { organizationId: tx.organizationId, id: warehouseId },
    { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
  );
  if (!warehouse) throw notFound(warehouseId);
  return toRecord(warehouse);
}

/** Sets the warehouse in or out of service; no change (and no new updated_at) when it already is. */
export async function setWarehouseActive(
  tx: ScopedTransaction,
  warehouseId: string,
  active: boolean,
): Promise<WarehouseRecord> {
  const warehouse = await loadOrThrow(tx, warehouseId);
  if (warehouse.active !== active) {
    warehouse.active = active;
    await tx.em.flush();
  }
  return toRecord(warehouse);
}

/** The units the warehouse holds (on hand, held, in transit), expects (incoming), and its open transfers. */
export async function usageOf(tx: ScopedTransaction, warehouseId: string): Promise<WarehouseUsage> {
  const usage = await tx.em.execute<Omit<WarehouseUsage, 'openTransfers'>[]>(
    `select coalesce(sum(total), 0)::int as total, coalesce(sum(reserved), 0)::int as reserved,
            coalesce(sum(in_transit), 0)::int as in_transit, coalesce(sum(incoming), 0)::int as incoming
     from stock where organization_id = ? and warehouse_id = ?`,
    [tx.organizationId, warehouseId],
  );
  const transfers = await tx.em.execute<{ open: number }[]>(
    `select count(*)::int as open from transfer where organization_id = ? and status in ('reserved', 'in_transit')
     and (origin_warehouse_id = ? or destination_warehouse_id = ?)`,
    [tx.organizationId, warehouseId, warehouseId],
  );
  return {
    ...firstRow(usage, 'summing the stock of a warehouse'),
    openTransfers: firstRow(transfers, 'counting the open transfers of a warehouse').open,
  };
}

function load(tx: ScopedTransaction, warehouseId: string): Promise<Warehouse | null> {
  return tx.em.findOne(Warehouse, { organizationId: tx.organizationId, id: warehouseId });
}

async function loadOrThrow(tx: ScopedTransaction, warehouseId: string): Promise<Warehouse> {
  const warehouse = await load(tx, warehouseId);
  if (!warehouse) throw notFound(warehouseId);
  return warehouse;
}

function notFound(warehouseId: string): WarehouseNotFoundError {
  return new WarehouseNotFoundError(`warehouse ${warehouseId} does not exist in this organization`, {
    warehouse_id: warehouseId,
  });
}

async function flushTranslatingCode(tx: ScopedTransaction, code: string): Promise<void> {
  try {
    await tx.em.flush();
  } catch (error) {
    if (
      error instanceof UniqueConstraintViolationException &&
      String(error.message).includes('warehouse_organization_code_unique')
    ) {
      throw new WarehouseCodeTakenError(`another warehouse already has the code ${code}`, { code });
    }
    throw error;
  }
}

function toRecord(w: Warehouse): WarehouseRecord {
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
