import { warehouseCondition, type ScopedTransaction } from '../organization-scope.ts';
import { decodeCursor, toPage, type Page } from '../pagination.ts';
import { toDate } from '../sql-values.ts';
import { Warehouse } from '../warehouses/warehouse.entity.ts';
import { Transfer, type TransferLine, type TransferStatus, type TransferTransition } from './transfer.entity.ts';

/**
 * Transfer rows, for the transfer use cases; every function runs in the caller's transaction.
 *
 * Through MikroORM: a transfer by id (em.findOne on the Transfer entity, identity map off, because the same
 * transaction changes the row with the SQL below and reads it back; a caller limited to some warehouses
 * sees it only when it starts or ends in one of them), its lines (em.nativeUpdate), and the warehouses a
 * transfer names (em.find on Warehouse).
 *
 * Hand-written SQL, and why:
 * - the list: keyset pagination on (created_at, id) needs the microsecond timestamp, which a JS Date drops
 *   (a cursor truncated to milliseconds would skip rows created in the same millisecond);
 * - the insert: the entity's warehouse relations exist to build the composite foreign keys
 *   (organization_id with each warehouse id; see warehouse.entity.ts), so the insert names the columns;
 * - the status moves: one conditional `update … where status in (…) returning`, appending to the jsonb
 *   transitions, so an undo recorded twice is recorded once;
 * - the variants stocked at the origin (the stock table, read for validation only).
 * Every query names organization_id as well, a second layer under row-level security.
 */

/** One transfer as the domain reads it. */
export interface TransferRecord {
  transferId: string;
  originWarehouseId: string;
  destinationWarehouseId: string;
  status: TransferStatus;
  lines: TransferLine[];
  notes: string | null;
  shipBy: Date | null;
  reason: string | null;
  transitions: TransferTransition[];
  createdAt: Date;
}

export interface TransferFilter {
  status?: TransferStatus;
  originWarehouseId?: string;
  destinationWarehouseId?: string;
  createdFrom?: Date;
  createdTo?: Date;
}

/** The transfer, or null when there is none (or none from or to one of `warehouseIds`, when given). */
export async function findTransfer(
  tx: ScopedTransaction,
  transferId: string,
  warehouseIds?: readonly string[],
): Promise<TransferRecord | null> {
  const entity = await tx.em.findOne(
    Transfer,
    { organizationId: tx.organizationId, id: transferId },
    { disableIdentityMap: true },
  );
  if (!entity) return null;
  const record = fromEntity(entity);
  const visibleHere = (id: string) => !warehouseIds || warehouseIds.includes(id);
  return visibleHere(record.originWarehouseId) || visibleHere(record.destinationWarehouseId) ? record : null;
}

/** Transfers newest first, filtered (and limited to `warehouseIds`, when given), one page at a time. */
export async function listTransfers(
  tx: ScopedTransaction,
  filter: TransferFilter,
  limit: number,
  cursor: string | undefined,
  warehouseIds?: readonly string[],
): Promise<Page<TransferRecord>> {
  const where = ['organization_id = ?'];
  const params: unknown[] = [tx.organizationId];
  const add = (clause: string, value: unknown) => {
    if (value === undefined) return;
    where.push(clause);
    params.push(value);
  };
  add('status = ?', filter.status);
  add('origin_warehouse_id = ?', filter.originWarehouseId);
  add('destination_warehouse_id = ?', filter.destinationWarehouseId);
  add('created_at >= ?', filter.createdFrom);
  add('created_at < ?', filter.createdTo);
  const inScope = warehouseCondition(visible(warehouseIds), 'origin_warehouse_id', 'destination_warehouse_id');
  if (inScope) {
    where.push(inScope.sql);
    params.push(...inScope.params);
  }
  if (cursor) {
    const [createdAt, id] = decodeCursor(cursor, ['timestamp', 'uuid']);
    where.push('(created_at, id) < (?::timestamptz, ?::uuid)');
    params.push(createdAt, id);
  }
  const rows = await tx.em.execute<(TransferRow & { created_at_exact: string })[]>(
    `select *, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at_exact
     from transfer where ${where.join(' and ')} order by created_at desc, id desc limit ?`,
    [...params, limit + 1],
  );
  return toPage(rows, limit, (r) => [r.created_at_exact, r.id], toRecord);
}

/** The organization's warehouses among `ids`, with whether each is active; ids of none are left out. */
export async function findWarehouseStates(
  tx: ScopedTransaction,
  ids: string[],
): Promise<{ id: string; active: boolean }[]> {
  const warehouses = await tx.em.find(
    Warehouse,
    { organizationId: tx.organizationId, id: { $in: ids } },
    { disableIdentityMap: true },
  );
  return warehouses.map((w) => ({ id: w.id, active: w.active }));
}

/** The variants among `variantIds` that have a stock row in the warehouse. */
export async function findStockedVariants(
  tx: ScopedTransaction,
  warehouseId: string,
  variantIds: string[],
): Promise<string[]> {
  const rows = await tx.em.execute<{ variant_id: string }[]>(
    'select variant_id from stock where organization_id = ? and warehouse_id = ? and variant_id in (?)',
    [tx.organizationId, warehouseId, variantIds],
  );
  return rows.map((r) => r.variant_id);
}

/** Writes a new transfer, status reserved. */
export async function insertTransfer(
  tx: ScopedTransaction,
  transfer: {
    transferId: string;
    originWarehouseId: string;
    destinationWarehouseId: string;
    lines: TransferLine[];
    notes?: string;
    shipBy?: string;
  },
  actor: string,
  workflowId: string,
  at: Date,
): Promise<void> {
  await tx.em.execute(
    `insert into transfer (id, organization_id, origin_warehouse_id, destination_warehouse_id, status, lines, notes,
       ship_by,
       transitions, workflow_id)
     values (?, ?, ?, ?, 'reserved', ?, ?, ?, ?, ?)`,
    [
      transfer.transferId,
      tx.organizationId,
      transfer.originWarehouseId,
      transfer.destinationWarehouseId,
      JSON.stringify(transfer.lines),
      transfer.notes ?? null,
      transfer.shipBy ?? null,
      JSON.stringify([{ status: 'reserved', at: at.toISOString(), actor }]),
      workflowId,
    ],
  );
}

/** Replaces the transfer's lines (receipts, the close's missing counts). */
export async function updateTransferLines(
  tx: ScopedTransaction,
  transferId: string,
  lines: TransferLine[],
  at: Date,
): Promise<void> {
  await tx.em.nativeUpdate(Transfer, { organizationId: tx.organizationId, id: transferId }, { lines, updatedAt: at });
}

/**
 * Moves the transfer to `to` and records the transition (with `reason`, which the row keeps too, when
 * given); only from one of `from` when given. False when it was not in `from`: nothing changed.
 */
export async function transitionTransfer(
  tx: ScopedTransaction,
  transferId: string,
  to: TransferStatus,
  actor: string,
  at: Date,
  options: { from?: readonly TransferStatus[]; reason?: string } = {},
): Promise<boolean> {
  const { from, reason } = options;
  const entry: TransferTransition = { status: to, at: at.toISOString(), ...(reason ? { reason } : {}), actor };
  const rows = await tx.em.execute<{ id: string }[]>(
    `update transfer set status = ?, reason = coalesce(?, reason), transitions = transitions || ?::jsonb,
       updated_at = now()
     where organization_id = ? and id = ? ${from ? 'and status in (?)' : ''} returning id`,
    [to, reason ?? null, JSON.stringify([entry]), tx.organizationId, transferId, ...(from ? [[...from]] : [])],
  );
  return rows.length > 0;
}

/** warehouseCondition's view of an optional warehouse list. */
function visible(warehouseIds: readonly string[] | undefined): { warehouseIds?: readonly string[] } {
  return warehouseIds ? { warehouseIds } : {};
}

interface TransferRow {
  id: string;
  origin_warehouse_id: string;
  destination_warehouse_id: string;
  status: TransferStatus;
  lines: TransferLine[];
  notes: string | null;
  ship_by: string | Date | null;
  reason: string | null;
  transitions: TransferTransition[];
  created_at: string | Date;
}

function fromEntity(t: Transfer): TransferRecord {
  return {
    transferId: t.id,
    originWarehouseId: t.origin.id,
    destinationWarehouseId: t.destination.id,
    status: t.status,
    lines: t.lines,
    notes: t.notes ?? null,
    shipBy: t.shipBy ?? null,
    reason: t.reason ?? null,
    transitions: t.transitions,
    createdAt: t.createdAt,
  };
}

function toRecord(r: TransferRow): TransferRecord {
  return {
    transferId: r.id,
    originWarehouseId: r.origin_warehouse_id,
    destinationWarehouseId: r.destination_warehouse_id,
    status: r.status,
    lines: r.lines,
    notes: r.notes,
    shipBy: r.ship_by ? toDate(r.ship_by) : null,
    reason: r.reason,
    transitions: r.transitions,
    createdAt: toDate(r.created_at),
  };
}
