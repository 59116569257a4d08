import type { EntityManager } from '@mikro-orm/postgresql';
import { warehouseCondition, type OrganizationScope } from '../organization-scope.ts';
import { recordOperation, type StockChange } from '../stock/ledger.ts';
import { insertOutboxEvent } from '../../messaging/outbox.ts';
import { InvalidTransferError, TransferNotFoundError, WarehouseNotFoundError } from '../errors.ts';
import type { TransferLine, TransferStatus, TransferTransition } from './transfer.entity.ts';
import { decodeCursor, toPage, type Page } from '../pagination.ts';
import { toDate } from '../sql-values.ts';
import { nameBasedUuid, type WorkflowRef } from '../reservations/reservations.ts';
import { findWarehouse } from '../stock/stock-queries.ts';

/**
 * The steps of a transfer saga as its activities run them. Each is one ledger operation keyed
 * `transfer/{id}/{step}` (idempotent under retries) that also writes the transfer row and its events.
 * Compensations undo a completed step and are safe to repeat. `actor` is who asked for the step (an
 * operator), or the workflow itself (transferWorkflowActor) for what it does on its own: a ship_by
 * expiry, a compensation after a failed step; it names the ledger rows and the transitions.
 */

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

export interface NewTransfer {
  transferId: string;
  originWarehouseId: string;
  destinationWarehouseId: string;
  lines: { variant_id: string; quantity: number }[];
  notes?: string;
  shipBy?: string;
}

export interface Receipt {
  variant_id: string;
  received: number;
  damaged: number;
}

/** The actor of the saga's own steps, and of steps recorded before transfers carried their requester. */
export const transferWorkflowActor = 'transfer-workflow';
const reference = (transferId: string) => ({ type: 'transfer' as const, id: transferId });

/**
 * Checks what a create request names before any workflow starts: two different, existing, active
 * warehouses and variants stocked at the origin. Throws InvalidTransferError naming the problem, or
 * WarehouseNotFoundError for a warehouse that is not the organization's (another organization's or none).
 */
export async function validateNewTransfer(scope: OrganizationScope, request: Omit<NewTransfer, 'transferId'>): Promise<void> {
  if (request.originWarehouseId === request.destinationWarehouseId) throw new InvalidTransferError('origin and destination must be different warehouses');
  const warehouses = await scope.em.execute<{ id: string; active: boolean }[]>('select id, active from warehouse where organization_id = ? and id in (?)', [
    scope.organizationId,
    [request.originWarehouseId, request.destinationWarehouseId],
  ]);
  for (const [role, id] of [['origin', request.originWarehouseId], ['destination', request.destinationWarehouseId]] as const) {
    const warehouse = warehouses.find((w) => w.id === id);
    if (!warehouse) throw new WarehouseNotFoundError(`warehouse ${id} does not exist in this organization`, { warehouse_id: id });
    if (!warehouse.active) throw new InvalidTransferError(`the ${role} warehouse ${id} is inactive`, { field: `${role}_warehouse_id` });
  }
  const variantIds = [...new Set(request.lines.map((l) => l.variant_id))];
  const stocked = await scope.em.execute<{ variant_id: string }[]>('select variant_id from stock where organization_id = ? and warehouse_id = ? and variant_id in (?)', [
    scope.organizationId,
    request.originWarehouseId,
    variantIds,
  ]);
  const unknown = variantIds.filter((v) => !stocked.some((s) => s.variant_id === v));
  if (unknown.length > 0) throw new InvalidTransferError(`the origin warehouse has no stock of variant ${unknown.join(', ')}`, { variant_ids: unknown });
}

/** Step 1: holds the lines at the origin (all or none) and writes the transfer row, status reserved. */
export async function reserveAtOrigin(scope: OrganizationScope, transfer: NewTransfer, actor: string, workflow: WorkflowRef, at: Date): Promise<TransferRecord> {
  const existing = await findTransfer(scope, transfer.transferId);
  if (existing) return existing;
  // The client validated the request, but a workflow may be started by other means: check again
  // here, so a foreign warehouse is a typed failure rather than a foreign-key error retried forever.
  await findWarehouse(scope, transfer.originWarehouseId);
  await findWarehouse(scope, transfer.destinationWarehouseId);
  const lines: TransferLine[] = mergeLines(transfer.lines).map((l) => ({ ...l, received: 0, damaged: 0, missing: 0 }));
  await recordOperation(
    scope,
    {
      operationKey: `transfer/${transfer.transferId}/reserve`,
      actor,
      reference: reference(transfer.transferId),
      workflow,
      changes: lines.map((l) => ({ variantId: l.variant_id, warehouseId: transfer.originWarehouseId, type: 'reserve', deltas: { available: -l.quantity, reserved: l.quantity } })),
    },
    async (em) => {
      await em.execute(
        `insert into transfer (id, organization_id, origin_warehouse_id, destination_warehouse_id, status, lines, notes, ship_by, transitions, workflow_id)
         values (?, ?, ?, ?, 'reserved', ?, ?, ?, ?, ?)`,
        [
          transfer.transferId, scope.organizationId, transfer.originWarehouseId, transfer.destinationWarehouseId, JSON.stringify(lines),
          transfer.notes ?? null, transfer.shipBy ?? null, JSON.stringify([{ status: 'reserved', at: at.toISOString(), actor }]), workflow.workflowId,
        ],
      );
      await event(em, scope.organizationId, 'inventory.transfer.created', transfer.transferId, { origin_warehouse_id: transfer.originWarehouseId, destination_warehouse_id: transfer.destinationWarehouseId, lines });
    },
  );
  return (await findTransfer(scope, transfer.transferId))!;
}

/** Step 2: the held units leave the origin shelf (in transit) and appear as incoming at the destination. */
export async function markInTransit(scope: OrganizationScope, transferId: string, actor: string, workflow: WorkflowRef, at: Date): Promise<TransferRecord> {
  const t = await mustFind(scope, transferId);
  const changes: StockChange[] = t.lines.flatMap((l) => [
    { variantId: l.variant_id, warehouseId: t.originWarehouseId, type: 'transfer_out' as const, deltas: { reserved: -l.quantity, inTransit: l.quantity }, reason: 'shipped' },
    { variantId: l.variant_id, warehouseId: t.destinationWarehouseId, type: 'incoming' as const, deltas: { incoming: l.quantity }, reason: 'shipped towards this warehouse', createIfMissing: true },
  ]);
  await recordOperation(scope, { operationKey: `transfer/${transferId}/ship`, actor, reference: reference(transferId), workflow, changes }, async (em) => {
    await setStatus(em, scope.organizationId, transferId, 'in_transit', actor, at);
    await event(em, scope.organizationId, 'inventory.transfer.shipped', transferId, { origin_warehouse_id: t.originWarehouseId, destination_warehouse_id: t.destinationWarehouseId, lines: t.lines });
  });
  return await mustFind(scope, transferId);
}

/**
 * Step 3, one receipt of several: received units become available at the destination, damaged ones
 * damaged; both leave the origin's in-transit. `receiptNumber` keys the receipt, so a retried call applies once.
 */
export async function receiveAtDestination(scope: OrganizationScope, transferId: string, receiptNumber: number, receipts: Receipt[], actor: string, workflow: WorkflowRef, at: Date): Promise<TransferRecord> {
  const t = await mustFind(scope, transferId);
  const lines = applyReceipts(t.lines, receipts);
  const changes: StockChange[] = receipts
    .filter((r) => r.received + r.damaged > 0)
    .flatMap((r) => [
      { variantId: r.variant_id, warehouseId: t.originWarehouseId, type: 'transfer_out' as const, deltas: { inTransit: -(r.received + r.damaged) }, reason: 'delivered to the destination' },
      { variantId: r.variant_id, warehouseId: t.destinationWarehouseId, type: 'transfer_in' as const, deltas: { available: r.received, damaged: r.damaged, incoming: -(r.received + r.damaged) }, reason: r.damaged ? `${r.damaged} arrived damaged` : undefined },
    ]);
  if (changes.length === 0) return t;
  await recordOperation(scope, { operationKey: `transfer/${transferId}/receive/${receiptNumber}`, actor, reference: reference(transferId), workflow, changes }, async (em) => {
    await em.execute('update transfer set lines = ?, updated_at = now() where organization_id = ? and id = ?', [JSON.stringify(lines), scope.organizationId, transferId]);
    await event(em, scope.organizationId, 'inventory.transfer.received', transferId, { receipt: receiptNumber, lines: receipts });
  });
  return await mustFind(scope, transferId);
}

/** Closes the receipt: units still missing are written off as a `loss` at both ends; status completed or completed_with_discrepancy. */
export async function closeReceipt(scope: OrganizationScope, transferId: string, actor: string, workflow: WorkflowRef, at: Date): Promise<TransferRecord> {
  const t = await mustFind(scope, transferId);
  if (t.status !== 'in_transit') return t;
  const lines = t.lines.map((l) => ({ ...l, missing: l.quantity - l.received - l.damaged }));
  const changes: StockChange[] = lines
    .filter((l) => l.missing > 0)
    .flatMap((l) => [
      { variantId: l.variant_id, warehouseId: t.originWarehouseId, type: 'loss' as const, deltas: { inTransit: -l.missing }, reason: `lost in transfer ${transferId}` },
      { variantId: l.variant_id, warehouseId: t.destinationWarehouseId, type: 'loss' as const, deltas: { incoming: -l.missing }, reason: `never arrived from transfer ${transferId}` },
    ]);
  const discrepancy = lines.some((l) => l.missing > 0 || l.damaged > 0);
  const status: TransferStatus = discrepancy ? 'completed_with_discrepancy' : 'completed';
  const finish = async (em: EntityManager) => {
    await em.execute('update transfer set lines = ?, updated_at = now() where organization_id = ? and id = ?', [JSON.stringify(lines), scope.organizationId, transferId]);
    await setStatus(em, scope.organizationId, transferId, status, actor, at);
    await event(em, scope.organizationId, 'inventory.transfer.completed', transferId, { status, lines });
  };
  if (changes.length > 0) await recordOperation(scope, { operationKey: `transfer/${transferId}/close`, actor, reference: reference(transferId), workflow, changes }, finish);
  else await scope.em.transactional(finish);
  return await mustFind(scope, transferId);
}

/**
 * Compensation of step 2: units still in transit go back on the origin's hold; the destination stops
 * expecting them. Safe to repeat; a no-op unless the row is in transit (the ship step commits that status
 * with its movements, so a ship that never committed, or a receipt already closed, has nothing to undo).
 */
export async function returnToOriginIfInTransit(scope: OrganizationScope, transferId: string, actor: string, workflow: WorkflowRef): Promise<void> {
  const t = await mustFind(scope, transferId);
  if (t.status !== 'in_transit') return;
  const pending = t.lines.map((l) => ({ ...l, pending: l.quantity - l.received - l.damaged })).filter((l) => l.pending > 0);
  if (pending.length === 0) return;
  await recordOperation(scope, {
    operationKey: `transfer/${transferId}/undo-ship`,
    actor,
    reference: reference(transferId),
    workflow,
    changes: pending.flatMap((l) => [
      { variantId: l.variant_id, warehouseId: t.originWarehouseId, type: 'transfer_in' as const, deltas: { inTransit: -l.pending, reserved: l.pending }, reason: 'returned to origin' },
      { variantId: l.variant_id, warehouseId: t.destinationWarehouseId, type: 'incoming' as const, deltas: { incoming: -l.pending }, reason: 'no longer expected' },
    ]),
  });
}

/**
 * Compensation of step 1: the origin's hold goes back to available. Safe to repeat; a transfer with no
 * row (a reserve step that never committed) or already closed holds nothing.
 */
export async function releaseOriginHoldIfHeld(scope: OrganizationScope, transferId: string, actor: string, workflow: WorkflowRef): Promise<void> {
  const t = await findTransfer(scope, transferId);
  if (!t || (t.status !== 'reserved' && t.status !== 'in_transit')) return;
  const held = t.lines.map((l) => ({ ...l, held: l.quantity - l.received - l.damaged })).filter((l) => l.held > 0);
  if (held.length === 0) return;
  await recordOperation(scope, {
    operationKey: `transfer/${transferId}/undo-reserve`,
    actor,
    reference: reference(transferId),
    workflow,
    changes: held.map((l) => ({ variantId: l.variant_id, warehouseId: t.originWarehouseId, type: 'release' as const, deltas: { reserved: -l.held, available: l.held }, reason: 'transfer undone' })),
  });
}

/**
 * Records the end of an undone transfer: cancelled (by an operator or ship_by) or compensated (a step
 * failed), with `inventory.transfer.cancelled`. Null when there is no row (a reserve step that never committed).
 */
export async function recordUndone(scope: OrganizationScope, transferId: string, status: 'cancelled' | 'compensated', reason: string, actor: string, at: Date): Promise<TransferRecord | null> {
  await scope.em.transactional(async (em) => {
    const rows = await em.execute<{ id: string }[]>(
      `update transfer set status = ?, reason = ?, transitions = transitions || ?::jsonb, updated_at = now()
       where organization_id = ? and id = ? and status in ('reserved', 'in_transit') returning id`,
      [status, reason, JSON.stringify([{ status, at: at.toISOString(), reason, actor }]), scope.organizationId, transferId],
    );
    if (rows.length > 0) await event(em, scope.organizationId, 'inventory.transfer.cancelled', transferId, { status, reason });
  });
  return await findTransfer(scope, transferId);
}

/**
 * Announces that a compensation failed for good (`inventory.transfer.compensation_failed`): the transfer
 * is left part undone, as its row and the ledger show, until ops repair it (README: Transfers). Once per
 * workflow run and compensation: the event's id is derived from them.
 */
export async function recordCompensationFailed(scope: OrganizationScope, transferId: string, failure: { compensation: string; reason: string; message: string }, workflow: WorkflowRef, at: Date): Promise<void> {
  const t = await findTransfer(scope, transferId);
  await scope.em.execute('insert into outbox_event (id, organization_id, name, aggregate_type, aggregate_id, payload) values (?, ?, ?, ?, ?, ?) on conflict (id) do nothing', [
    nameBasedUuid(`transfer-compensation-failed/${scope.organizationId}/${workflow.runId}/${failure.compensation}`),
    scope.organizationId,
    'inventory.transfer.compensation_failed',
    'transfer',
    transferId,
    JSON.stringify({ transfer_id: transferId, status: t?.status ?? null, compensation: failure.compensation, reason: failure.reason, message: failure.message, workflow_id: workflow.workflowId, failed_at: at.toISOString() }),
  ]);
}

/** The transfer, or null when there is none (or, for a caller limited to some warehouses, none it may see). */
export async function findTransfer(scope: OrganizationScope, transferId: string): Promise<TransferRecord | null> {
  const inScope = warehouseCondition(scope, 'origin_warehouse_id', 'destination_warehouse_id');
  const [row] = await scope.em.execute<TransferRow[]>(`select * from transfer where organization_id = ? and id = ? ${inScope ? `and ${inScope.sql}` : ''}`, [
    scope.organizationId,
    transferId,
    ...(inScope?.params ?? []),
  ]);
  return row ? toRecord(row) : null;
}

export interface TransferFilter {
  status?: TransferStatus;
  originWarehouseId?: string;
  destinationWarehouseId?: string;
  createdFrom?: Date;
  createdTo?: Date;
}

/** Transfers newest first, filtered, one page at a time (from the database). */
export async function listTransfers(scope: OrganizationScope, filter: TransferFilter, limit: number, cursor?: string): Promise<Page<TransferRecord>> {
  const where = ['organization_id = ?'];
  const params: unknown[] = [scope.organizationId];
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
  const inScope = warehouseCondition(scope, 'origin_warehouse_id', 'destination_warehouse_id');
  if (inScope) {
    where.push(inScope.sql);
    params.push(...inScope.params);
  }
  if (cursor) {
    const [createdAt, id] = decodeCursor(cursor, ['timestamp', 'uuid']);
    where.push('(created_at, id) < (?::timestamptz, ?::uuid)');
    params.push(createdAt, id);
  }
  const rows = await scope.em.execute<(TransferRow & { created_at_exact: string })[]>(
    `select *, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at_exact
     from transfer where ${where.join(' and ')} order by created_at desc, id desc limit ?`,
    [...params, limit + 1],
  );
  return toPage(rows, limit, (r) => [r.created_at_exact, r.id], toRecord);
}

/** Adds receipts to the lines; InvalidTransferError when a line would receive more than was shipped, or is not in the transfer. */
export function applyReceipts(lines: TransferLine[], receipts: Receipt[]): TransferLine[] {
  const next = lines.map((l) => ({ ...l }));
  for (const r of receipts) {
    const line = next.find((l) => l.variant_id === r.variant_id);
    if (!line) throw new InvalidTransferError(`variant ${r.variant_id} is not in this transfer`, { variant_id: r.variant_id });
    line.received += r.received;
    line.damaged += r.damaged;
    if (line.received + line.damaged > line.quantity) {
      throw new InvalidTransferError(`variant ${r.variant_id}: ${line.received + line.damaged} would be received, only ${line.quantity} were shipped`, { variant_id: r.variant_id, shipped: line.quantity });
    }
  }
  return next;
}

function mergeLines(lines: { variant_id: string; quantity: number }[]): { variant_id: string; quantity: number }[] {
  const merged = new Map<string, number>();
  for (const l of lines) merged.set(l.variant_id, (merged.get(l.variant_id) ?? 0) + l.quantity);
  return [...merged.entries()].map(([variant_id, quantity]) => ({ variant_id, quantity }));
}

async function setStatus(em: EntityManager, organizationId: string, transferId: string, status: TransferStatus, actor: string, at: Date): Promise<void> {
  await em.execute('update transfer set status = ?, transitions = transitions || ?::jsonb, updated_at = now() where organization_id = ? and id = ?', [
    status,
    JSON.stringify([{ status, at: at.toISOString(), actor }]),
    organizationId,
    transferId,
  ]);
}

async function event(em: EntityManager, organizationId: string, name: string, transferId: string, data: Record<string, unknown>): Promise<void> {
  await insertOutboxEvent(em, organizationId, { name, aggregateType: 'transfer', aggregateId: transferId, data: { transfer_id: transferId, ...data } });
}

async function mustFind(scope: OrganizationScope, transferId: string): Promise<TransferRecord> {
  const record = await findTransfer(scope, transferId);
  if (!record) throw new TransferNotFoundError(`transfer ${transferId} does not exist`, { transfer_id: transferId });
  return record;
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
