import type { OrganizationScope, ScopedTransaction } from '../organization-scope.ts';
import { applyOperation, type Operation, type StockChange } from '../stock/ledger.ts';
import { enqueueEvent, enqueueEventOnce } from '../../messaging/outbox.store.ts';
import { InvalidTransferError, TransferNotFoundError, WarehouseNotFoundError } from '../errors.ts';
import type { Page } from '../pagination.ts';
import { nameBasedUuid } from '../name-based-uuid.ts';
import {
  applyReceipts,
  closing,
  newTransferLines,
  openTransferStatuses,
  receiptChanges,
  reserveChanges,
  shipChanges,
  undoReserveChanges,
  undoShipChanges,
  type Receipt,
} from './transfer-steps.ts';
import * as store from './transfer.store.ts';
import type { TransferFilter, TransferRecord } from './transfer.store.ts';

export type { Receipt } from './transfer-steps.ts';
export type { TransferFilter, TransferRecord } from './transfer.store.ts';

/**
 * The steps of a transfer saga as its activities run them. Each is one transaction (the use case opens it
 * with `scope.transaction` and calls the leaves: the ledger, the transfer store, the outbox) holding one
 * ledger operation keyed `transfer/{id}/{step}` (idempotent under retries); the transfer row and its events
 * are written with it unless the ledger says the step had already been applied. The stock arithmetic is in
 * transfer-steps.ts. Compensations undo a completed step and are safe to repeat. `actor` is who asked for
 * the step (an operator), or the workflow itself (transferWorkflowActor) for what it does on its own: a
 * ship_by expiry, a compensation after a failed step; it names the ledger rows and the transitions.
 */

/** The workflow execution a step runs for, as the ledger records it. */
type WorkflowRef = NonNullable<Operation['workflow']>;

export interface NewTransfer {
  transferId: string;
  originWarehouseId: string;
  destinationWarehouseId: string;
  lines: { variant_id: string; quantity: number }[];
  notes?: string;
  shipBy?: string;
}

/** The actor of the saga's own steps, and of steps recorded before transfers carried their requester. */
export const transferWorkflowActor = 'transfer-workflow';

/**
 * Checks what a create request names before any workflow starts: two different, existing, active
 * warehouses and variants stocked at the origin. Throws InvalidTransferError naming the problem, or
 * WarehouseNotFoundError for a warehouse that is not the organization's (another organization's or none).
 */
export async function validateNewTransfer(
  scope: OrganizationScope,
  request: Omit<NewTransfer, 'transferId'>,
): Promise<void> {
  if (request.originWarehouseId === request.destinationWarehouseId) {
    throw new InvalidTransferError('origin and destination must be different warehouses');
  }
  await scope.transaction(async (tx) => {
    const warehouses = await store.findWarehouseStates(tx, [request.originWarehouseId, request.destinationWarehouseId]);
    const roles = [
      ['origin', request.originWarehouseId],
      ['destination', request.destinationWarehouseId],
    ] as const;
    for (const [role, id] of roles) {
      const warehouse = warehouses.find((w) => w.id === id);
      if (!warehouse)
        throw new WarehouseNotFoundError(`warehouse ${id} does not exist in this organization`, { warehouse_id: id });
      if (!warehouse.active)
        throw new InvalidTransferError(`the ${role} warehouse ${id} is inactive`, { field: `${role}_warehouse_id` });
    }
    const variantIds = [...new Set(request.lines.map((l) => l.variant_id))];
    const stocked = await store.findStockedVariants(tx, request.originWarehouseId, variantIds);
    const unknown = variantIds.filter((v) => !stocked.includes(v));
    if (unknown.length > 0) {
      throw new InvalidTransferError(`the origin warehouse has no stock of variant ${unknown.join(', ')}`, {
        variant_ids: unknown,
      });
    }
  });
}

/** Step 1: holds the lines at the origin (all or none) and writes the transfer row, status reserved. */
export async function reserveAtOrigin(
  scope: OrganizationScope,
  transfer: NewTransfer,
  actor: string,
  workflow: WorkflowRef,
  at: Date,
): Promise<TransferRecord> {
  return await scope.transaction(async (tx) => {
    const existing = await store.findTransfer(tx, transfer.transferId);
    if (existing) return existing;
    // The client validated the request, but a workflow may be started by other means: check again
    // here, so a foreign warehouse is a typed failure rather than a foreign-key error retried forever.
    const ids = [transfer.originWarehouseId, transfer.destinationWarehouseId];
    const found = await store.findWarehouseStates(tx, ids);
    for (const id of ids) {
      if (!found.some((w) => w.id === id)) {
        throw new WarehouseNotFoundError(`warehouse ${id} does not exist in this organization`, { warehouse_id: id });
      }
    }
    const lines = newTransferLines(transfer.lines);
    const outcome = await applyOperation(tx, {
      ...operationBase(transfer.transferId, 'reserve', actor, workflow),
      changes: reserveChanges({ originWarehouseId: transfer.originWarehouseId, lines }),
    });
    if (!outcome.replayed) {
      await store.insertTransfer(tx, { ...transfer, lines }, actor, workflow.workflowId, at);
      await transferEvent(tx, 'inventory.transfer.created', transfer.transferId, {
        origin_warehouse_id: transfer.originWarehouseId,
        destination_warehouse_id: transfer.destinationWarehouseId,
        lines,
      });
    }
    return await mustFind(tx, transfer.transferId);
  });
}

/** Step 2: the held units leave the origin shelf (in transit) and appear as incoming at the destination. */
export async function markInTransit(
  scope: OrganizationScope,
  transferId: string,
  actor: string,
  workflow: WorkflowRef,
  at: Date,
): Promise<TransferRecord> {
  return await scope.transaction(async (tx) => {
    const t = await mustFind(tx, transferId);
    const outcome = await applyOperation(tx, {
      ...operationBase(transferId, 'ship', actor, workflow),
      changes: shipChanges(t),
    });
    if (!outcome.replayed) {
      await store.transitionTransfer(tx, transferId, 'in_transit', actor, at);
      await transferEvent(tx, 'inventory.transfer.shipped', transferId, {
        origin_warehouse_id: t.originWarehouseId,
        destination_warehouse_id: t.destinationWarehouseId,
        lines: t.lines,
      });
    }
    return await mustFind(tx, transferId);
  });
}

/**
 * Step 3, one receipt of several: received units become available at the destination, damaged ones
 * damaged; both leave the origin's in-transit. `receiptNumber` keys the receipt, so a retried call applies
 * once. InvalidTransferError when a line would receive more than was shipped, or is not in the transfer.
 */
export async function receiveAtDestination(
  scope: OrganizationScope,
  transferId: string,
  receiptNumber: number,
  receipts: Receipt[],
  actor: string,
  workflow: WorkflowRef,
  at: Date,
): Promise<TransferRecord> {
  return await scope.transaction(async (tx) => {
    const t = await mustFind(tx, transferId);
    const lines = applyReceipts(t.lines, receipts);
    const changes = receiptChanges(t, receipts);
    if (changes.length === 0) return t;
    const outcome = await applyOperation(tx, {
      ...operationBase(transferId, `receive/${receiptNumber}`, actor, workflow),
      changes,
    });
    if (!outcome.replayed) {
      await store.updateTransferLines(tx, transferId, lines, at);
      await transferEvent(tx, 'inventory.transfer.received', transferId, { receipt: receiptNumber, lines: receipts });
    }
    return await mustFind(tx, transferId);
  });
}

/**
 * Closes the receipt: units still missing are written off as a `loss` at both ends; status completed, or
 * completed_with_discrepancy when anything went missing or arrived damaged.
 */
export async function closeReceipt(
  scope: OrganizationScope,
  transferId: string,
  actor: string,
  workflow: WorkflowRef,
  at: Date,
): Promise<TransferRecord> {
  return await scope.transaction(async (tx) => {
    const t = await mustFind(tx, transferId);
    if (t.status !== 'in_transit') return t;
    const { lines, changes, status } = closing(t);
    const replayed =
      changes.length > 0 &&
      (await applyOperation(tx, { ...operationBase(transferId, 'close', actor, workflow), changes })).replayed;
    if (!replayed) {
      await store.updateTransferLines(tx, transferId, lines, at);
      await store.transitionTransfer(tx, transferId, status, actor, at);
      await transferEvent(tx, 'inventory.transfer.completed', transferId, { status, lines });
    }
    return await mustFind(tx, transferId);
  });
}

/**
 * Compensation of step 2: units still in transit go back on the origin's hold; the destination stops
 * expecting them. Safe to repeat; a no-op unless the row is in transit (the ship step commits that status
 * with its movements, so a ship that never committed, or a receipt already closed, has nothing to undo).
 */
export async function returnToOriginIfInTransit(
  scope: OrganizationScope,
  transferId: string,
  actor: string,
  workflow: WorkflowRef,
): Promise<void> {
  await scope.transaction(async (tx) => {
    const t = await mustFind(tx, transferId);
    if (t.status !== 'in_transit') return;
    await applyIfAny(tx, { ...operationBase(transferId, 'undo-ship', actor, workflow), changes: undoShipChanges(t) });
  });
}

/**
 * Compensation of step 1: the origin's hold goes back to available. Safe to repeat; a transfer with no
 * row (a reserve step that never committed) or already closed holds nothing.
 */
export async function releaseOriginHoldIfHeld(
  scope: OrganizationScope,
  transferId: string,
  actor: string,
  workflow: WorkflowRef,
): Promise<void> {
  await scope.transaction(async (tx) => {
    const t = await store.findTransfer(tx, transferId);
    if (!t || !openTransferStatuses.includes(t.status)) return;
    await applyIfAny(tx, {
      ...operationBase(transferId, 'undo-reserve', actor, workflow),
      changes: undoReserveChanges(t),
    });
  });
}

/**
 * Records the end of an undone transfer: cancelled (by an operator or ship_by) or compensated (a step
 * failed), with `inventory.transfer.cancelled`, once. Null when there is no row (a reserve step that never committed).
 */
export async function recordUndone(
  scope: OrganizationScope,
  transferId: string,
  status: 'cancelled' | 'compensated',
  reason: string,
  actor: string,
  at: Date,
): Promise<TransferRecord | null> {
  return await scope.transaction(async (tx) => {
    const moved = await store.transitionTransfer(tx, transferId, status, actor, at, {
      from: openTransferStatuses,
      reason,
    });
    if (moved) await transferEvent(tx, 'inventory.transfer.cancelled', transferId, { status, reason });
    return await store.findTransfer(tx, transferId);
  });
}

/**
 * Announces that a compensation failed for good (`inventory.transfer.compensation_failed`): the transfer
 * is left part undone, as its row and the ledger show, until ops repair it (README: Transfers). Once per
 * workflow run and compensation: the event's id is derived from them.
 */
export async function recordCompensationFailed(
  scope: OrganizationScope,
  transferId: string,
  failure: { compensation: string; reason: string; message: string },
  workflow: WorkflowRef,
  at: Date,
): Promise<void> {
  await scope.transaction(async (tx) => {
    const t = await store.findTransfer(tx, transferId);
    await enqueueEventOnce(
      tx,
      nameBasedUuid(`transfer-compensation-failed/${tx.organizationId}/${workflow.runId}/${failure.compensation}`),
      {
        name: 'inventory.transfer.compensation_failed',
        aggregateType: 'transfer',
        aggregateId: transferId,
        data: {
          transfer_id: transferId,
          status: t?.status ?? null,
          compensation: failure.compensation,
          reason: failure.reason,
          message: failure.message,
          workflow_id: workflow.workflowId,
          failed_at: at.toISOString(),
        },
      },
    );
  });
}

/** The transfer, or null when there is none (or, for a caller limited to some warehouses, none it may see). */
export async function findTransfer(scope: OrganizationScope, transferId: string): Promise<TransferRecord | null> {
  return await scope.transaction((tx) => store.findTransfer(tx, transferId, scope.warehouseIds));
}

/** Transfers newest first, filtered, one page at a time; a caller limited to some warehouses sees only theirs. */
export async function listTransfers(
  scope: OrganizationScope,
  filter: TransferFilter,
  limit: number,
  cursor?: string,
): Promise<Page<TransferRecord>> {
  return await scope.transaction((tx) => store.listTransfers(tx, filter, limit, cursor, scope.warehouseIds));
}

function operationBase(transferId: string, step: string, actor: string, workflow: WorkflowRef) {
  return {
    operationKey: `transfer/${transferId}/${step}`,
    actor,
    reference: { type: 'transfer' as const, id: transferId },
    workflow,
  };
}

/** A compensation with nothing left to undo writes nothing. */
async function applyIfAny(
  tx: ScopedTransaction,
  operation: ReturnType<typeof operationBase> & { changes: StockChange[] },
): Promise<void> {
  if (operation.changes.length > 0) await applyOperation(tx, operation);
}

async function transferEvent(
  tx: ScopedTransaction,
  name: string,
  transferId: string,
  data: Record<string, unknown>,
): Promise<void> {
  await enqueueEvent(tx, {
    name,
    aggregateType: 'transfer',
    aggregateId: transferId,
    data: { transfer_id: transferId, ...data },
  });
}

async function mustFind(tx: ScopedTransaction, transferId: string): Promise<TransferRecord> {
  const record = await store.findTransfer(tx, transferId);
  if (!record) throw new TransferNotFoundError(`transfer ${transferId} does not exist`, { transfer_id: transferId });
  return record;
}
