import type { ScopedTransaction } from '../organization-scope.ts';
import { enqueueEvent, type OutboxDraft } from '../../messaging/outbox.store.ts';
import { Warehouse } from '../warehouses/warehouse.entity.ts';
import { thresholdEvents, type ThresholdRow } from './stock-thresholds.ts';
import type { ReasonCode } from './adjustment-reasons.ts';
import { insertMovement, movementsByOperationKeys } from './movement.store.ts';
import { findStockRow, insertStockIfMissing, type StockRow } from './stock.store.ts';
import {
  InsufficientStockError,
  InvalidArgumentError,
  InvalidStockChangeError,
  OperationKeyConflictError,
  StockNotFoundError,
  WarehouseNotFoundError,
  type Shortage,
} from '../errors.ts';

/**
 * The ledger is the only way stock changes. One call is one operation: every change it lists is
 * applied to its stock row, recorded as an append-only movement, and announced through the outbox
 * (inventory.stock.updated, plus the stock-level events of stock-thresholds.ts when a threshold is
 * crossed), all in the caller's transaction. The operation key makes it idempotent: a second call with the
 * same key changes nothing and returns the movements of the first.
 *
 * Hand-written SQL here, on purpose: the guarded update is one statement that takes the row lock,
 * re-checks every quantity against the committed row and returns the new row in one round trip (an
 * entity load + flush would read, compare in JS and write: two round trips, and a guard checked on a
 * stale copy unless the row were locked first). The movement insert and the reads go through
 * movement.store.ts, the first-receipt insert and the refusal's reads through stock.store.ts.
 */

import {
  quantityNames,
  type MovementType,
  type Quantities,
  type QuantityDeltas,
  type Reference,
} from '../vocabulary.ts';
import { itemAt } from '../../guaranteed.ts';

export interface StockChange {
  variantId: string;
  warehouseId: string;
  type: MovementType;
  /** Signed changes; `total` follows from them (incoming is outside total). */
  deltas: QuantityDeltas;
  /** A free note. */
  reason?: string;
  /** An adjustment's reason (adjustment-reasons.ts). */
  reasonCode?: ReasonCode;
  /** The purchase order a receipt fulfils. */
  purchaseOrderId?: string;
  /** The bin inside the warehouse, when known. */
  locationId?: string;
  /**
   * Create the stock row (all zero) when the variant has none in that warehouse yet, e.g. a first receipt.
   * Only in a warehouse of the operation's organization: any other is WarehouseNotFoundError.
   */
  createIfMissing?: boolean;
}

export interface Operation {
  /** Unique per organization; derived from the request (workflow id + step, Idempotency-Key, event id). */
  operationKey: string;
  actor: string;
  reference?: Reference;
  /**
   * The order the change serves (a reservation's hold, release or fulfilment), so an order's stock history
   * is one query. An operation referencing an order (`reference.type` 'order') serves that order without it.
   */
  orderId?: string;
  workflow?: { workflowId: string; runId: string };
  changes: StockChange[];
}

export interface RecordedMovement {
  id: string;
  operationKey: string;
  stockId: string;
  variantId: string;
  warehouseId: string;
  type: MovementType;
  deltas: Quantities;
  after: Quantities;
  /** The free note. */
  reason: string | null;
  reasonCode: ReasonCode | null;
  purchaseOrderId: string | null;
  orderId: string | null;
  reference: Reference | null;
  actor: string;
  workflowId: string | null;
  locationId: string | null;
  createdAt: Date;
}

export interface LedgerOutcome {
  /** True when the operation key had been used already and nothing changed this time. */
  replayed: boolean;
  movements: RecordedMovement[];
}

/**
 * Applies an operation once, inside the caller's transaction: the use case owns the unit of work and
 * writes what else belongs with the change (a reservation row, its events) after this returns.
 * Throws InsufficientStockError (with every short line) when `available` would go negative,
 * InvalidStockChangeError for any other quantity, StockNotFoundError for a missing row,
 * WarehouseNotFoundError for a warehouse that is not the organization's (another organization's or
 * none: the same answer), OperationKeyConflictError when the key was used for different changes; the
 * throw rolls the caller's transaction back, so nothing changes. A key used before with the same
 * changes answers `replayed: true` with the first movements and writes nothing.
 */
export async function applyOperation(tx: ScopedTransaction, operation: Operation): Promise<LedgerOutcome> {
  validate(operation);
  const changes = inLockOrder(operation.changes);
  const keys = changes.map((_, i) => movementKey(operation.operationKey, i, changes.length));

  await lockOperationKey(tx, operation.operationKey);
  const previous = await movementsByOperationKeys(tx, keys);
  if (previous.length > 0) return replay(operation, changes, previous);

  const movements: RecordedMovement[] = [];
  for (const [i, change] of changes.entries()) {
    const { movement, version, thresholds } = await applyChange(
      tx,
      operation,
      change,
      itemAt(keys, i, 'movement keys'),
    );
    movements.push(movement);
    await enqueueEvent(tx, stockUpdatedEvent(movement, version));
    const before = movement.after.available - movement.deltas.available;
    for (const event of thresholdEvents(thresholds, before, movement.after.available)) {
      await enqueueEvent(tx, {
        name: event.name,
        aggregateType: 'stock',
        aggregateId: movement.stockId,
        data: event.data,
      });
    }
  }
  return { replayed: false, movements };
}

/**
 * Two calls with one key queue here until the first's transaction ends, so the second sees the first's
 * committed movements and replays them instead of failing on the unique key after doing its work.
 */
async function lockOperationKey(tx: ScopedTransaction, operationKey: string): Promise<void> {
  await tx.em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [
    `ledger:${tx.organizationId}:${operationKey}`,
  ]);
}

function validate(operation: Operation): void {
  if (!operation.operationKey) throw new InvalidArgumentError('an operation key is required');
  if (operation.changes.length === 0) throw new InvalidArgumentError('an operation needs at least one change');
  for (const change of operation.changes) {
    const values = Object.values(change.deltas);
    if (!values.every((v) => Number.isSafeInteger(v)))
      throw new InvalidArgumentError('quantity deltas must be integers');
    if (!values.some((v) => v !== 0)) throw new InvalidArgumentError('a change must move at least one quantity');
  }
}

/** Rows are always locked in (variant, warehouse) order, so two operations can never wait on each other in a cycle. */
function inLockOrder(changes: StockChange[]): StockChange[] {
  return [...changes].sort(
    (a, b) => a.variantId.localeCompare(b.variantId) || a.warehouseId.localeCompare(b.warehouseId),
  );
}

function movementKey(operationKey: string, index: number, count: number): string {
  return count === 1 ? operationKey : `${operationKey}#${index + 1}`;
}

function totalDelta(d: QuantityDeltas): number {
  return (d.available ?? 0) + (d.reserved ?? 0) + (d.damaged ?? 0) + (d.inTransit ?? 0);
}

async function applyChange(
  tx: ScopedTransaction,
  op: Operation,
  change: StockChange,
  operationKey: string,
): Promise<{ movement: RecordedMovement; version: number; thresholds: ThresholdRow }> {
  const d = change.deltas;
  const delta: Quantities = {
    available: d.available ?? 0,
    reserved: d.reserved ?? 0,
    damaged: d.damaged ?? 0,
    inTransit: d.inTransit ?? 0,
    incoming: d.incoming ?? 0,
    total: totalDelta(d),
  };
  // Only into a warehouse of this organization, so no caller can forget to check. Another
  // organization's warehouse inserts nothing, the update below finds no row, and refusal() says why.
  if (change.createIfMissing) await insertStockIfMissing(tx, change.variantId, change.warehouseId);
  // A conditional update: it takes the row lock, re-checks the guard against the committed row,
  // and touches nothing when any quantity would go negative. This is what makes oversell impossible.
  const rows = await tx.em.execute<StockRow[]>(
    `update stock set
       available = available + ?, reserved = reserved + ?, damaged = damaged + ?,
       in_transit = in_transit + ?, incoming = incoming + ?, total = total + ?,
       version = version + 1, updated_at = clock_timestamp(), archived_at = null
     where organization_id = ? and variant_id = ? and warehouse_id = ?
       and available + ? >= 0 and reserved + ? >= 0 and damaged + ? >= 0 and in_transit + ? >= 0 and incoming + ? >= 0
     returning *`,
    // biome-ignore format: the values line up with the statement's placeholders, row by row
    [
      delta.available, delta.reserved, delta.damaged, delta.inTransit, delta.incoming, delta.total,
      tx.organizationId, change.variantId, change.warehouseId,
      delta.available, delta.reserved, delta.damaged, delta.inTransit, delta.incoming,
    ],
  );
  const stock = rows[0];
  if (!stock) throw await refusal(tx, change, delta);

  const movement = await insertMovement(tx, {
    operationKey,
    stockId: stock.id,
    variantId: change.variantId,
    warehouseId: change.warehouseId,
    type: change.type,
    deltas: delta,
    after: {
      total: stock.total,
      available: stock.available,
      reserved: stock.reserved,
      damaged: stock.damaged,
      inTransit: stock.in_transit,
      incoming: stock.incoming,
    },
    reason: change.reason ?? null,
    reasonCode: change.reasonCode ?? null,
    purchaseOrderId: change.purchaseOrderId ?? null,
    orderId: op.orderId ?? (op.reference?.type === 'order' ? op.reference.id : null),
    reference: op.reference ?? null,
    actor: op.actor,
    workflow: op.workflow ?? null,
    locationId: change.locationId ?? null,
  });
  const thresholds: ThresholdRow = {
    stockId: stock.id,
    variantId: change.variantId,
    warehouseId: change.warehouseId,
    minStock: stock.min_stock,
    maxStock: stock.max_stock,
    reorderPoint: stock.reorder_point,
  };
  return { movement, version: stock.version, thresholds };
}

/** Explains why the guarded update touched no row; the transaction is rolled back by the throw. */
async function refusal(tx: ScopedTransaction, change: StockChange, delta: Quantities): Promise<Error> {
  const row = await findStockRow(tx, change.variantId, change.warehouseId);
  if (!row) {
    const warehouses = await tx.em.count(Warehouse, { organizationId: tx.organizationId, id: change.warehouseId });
    if (warehouses === 0)
      return new WarehouseNotFoundError(`warehouse ${change.warehouseId} does not exist in this organization`, {
        warehouse_id: change.warehouseId,
      });
    return new StockNotFoundError(`no stock of variant ${change.variantId} in warehouse ${change.warehouseId}`, {
      variant_id: change.variantId,
      warehouse_id: change.warehouseId,
    });
  }
  if (row.available + delta.available < 0) {
    const shortage: Shortage = {
      variant_id: change.variantId,
      warehouse_id: change.warehouseId,
      requested: -delta.available,
      available: row.available,
    };
    return new InsufficientStockError([shortage]);
  }
  const broken = (['reserved', 'damaged', 'in_transit', 'incoming'] as const).filter(
    (q) => row[q] + delta[q === 'in_transit' ? 'inTransit' : q] < 0,
  );
  return new InvalidStockChangeError(
    `${change.type} would take ${broken.join(', ')} below zero for variant ${change.variantId} in warehouse ${change.warehouseId}`,
    {
      variant_id: change.variantId,
      warehouse_id: change.warehouseId,
      quantities: broken.map((q) => ({ quantity: q, current: row[q] })),
    },
  );
}

function stockUpdatedEvent(m: RecordedMovement, version: number): OutboxDraft {
  return {
    name: 'inventory.stock.updated',
    aggregateType: 'stock',
    aggregateId: m.stockId,
    data: {
      stock_id: m.stockId,
      variant_id: m.variantId,
      warehouse_id: m.warehouseId,
      movement_id: m.id,
      movement_type: m.type,
      operation_key: m.operationKey,
      reference: m.reference,
      deltas: snakeQuantities(m.deltas),
      quantities: snakeQuantities(m.after),
      version,
    },
  };
}

/** The key was used before: the same changes get the first outcome back; different changes are a conflict. */
function replay(operation: Operation, changes: StockChange[], previous: RecordedMovement[]): LedgerOutcome {
  const byKey = new Map(previous.map((m) => [m.operationKey, m]));
  const ordered = changes.map((change, i) => {
    const m = byKey.get(movementKey(operation.operationKey, i, changes.length));
    const same =
      m !== undefined &&
      m.variantId === change.variantId &&
      m.warehouseId === change.warehouseId &&
      m.type === change.type &&
      quantityNames.every((q) => m.deltas[q] === (change.deltas[q] ?? 0));
    if (!same) throw keyConflict(operation);
    return m;
  });
  if (previous.length !== ordered.length) throw keyConflict(operation);
  return { replayed: true, movements: ordered };
}

function keyConflict(operation: Operation): OperationKeyConflictError {
  const key = operation.operationKey;
  return new OperationKeyConflictError(`operation key ${key} was already used for a different change`, {
    operation_key: key,
  });
}

export function snakeQuantities(q: Quantities): Record<string, number> {
  return {
    total: q.total,
    available: q.available,
    reserved: q.reserved,
    damaged: q.damaged,
    in_transit: q.inTransit,
    incoming: q.incoming,
  };
}
