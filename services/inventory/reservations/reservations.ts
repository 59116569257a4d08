import type { OrganizationScope, ScopedTransaction } from '../organization-scope.ts';
import { applyOperation, type Operation, type StockChange } from '../stock/ledger.ts';
import { enqueueEvent, enqueueEventOnce, type OutboxDraft } from '../../messaging/outbox.store.ts';
import {
  InsufficientStockError,
  ReservationConflictError,
  ReservationNotFoundError,
  WarehouseInactiveError,
  WarehouseNotFoundError,
  type Shortage,
} from '../errors.ts';
import { nameBasedUuid } from '../name-based-uuid.ts';
import { allocate } from './allocation.ts';
import {
  expectStatus,
  failureReason,
  fulfilDecision,
  holdDecision,
  holdingStatuses,
  releaseDecision,
} from './reservation-status.ts';
import * as store from './reservation.store.ts';
import type { ReservationRecord, WorkflowRef } from './reservation.store.ts';
import type { ReservationAllocation, ReservationLine } from '../vocabulary.ts';

export type { ReservationRecord, WorkflowRef } from './reservation.store.ts';

/**
 * Reservation steps as the workflow's activities run them. Each is one transaction (the use case opens it
 * with `scope.transaction` and calls the leaves: the ledger, the reservation store, the outbox) and is
 * idempotent by the reservation id (a unique id per attempt): the stock changes go through the ledger with
 * operation keys `reservation/{id}/{step}` naming the order they serve, and the reservation row and the
 * events are written in the same transaction unless the ledger says the step had already been applied.
 */

export interface HoldRequest {
  reservationId: string;
  orderId: string;
  items: ReservationLine[];
  preferredWarehouseId?: string;
  fingerprint: string;
  /** How long the hold lives, counted from the moment it commits. */
  ttlSeconds: number;
  /**
   * A fixed expiry, from workflows started before the TTL was counted from the commit (they computed it
   * before the hold ran). Absent: the expiry is the commit time plus `ttlSeconds`.
   */
  expiresAt?: Date;
  /** Who asked (the caller's token subject); the workflow when absent. */
  actor?: string;
}

/** Why a hold failed for good, as the workflow reports it. */
export interface HoldFailure {
  type: string;
  message: string;
  shortages?: Shortage[];
}

/**
 * The ledger's actor for what the workflow does on its own (an expiry), and for callers from before actors
 * were named.
 */
const workflowActor = 'reservation-workflow';

/** How many times a hold allocates again from fresh numbers after losing a line to a concurrent order. */
const holdAttempts = 3;

/** Finds the reservation by its id or its order id; null when there is none. */
export async function findReservation(
  scope: OrganizationScope,
  by: { reservationId?: string; orderId?: string },
): Promise<ReservationRecord | null> {
  return await scope.transaction((tx) => store.findReservation(tx, by));
}

/**
 * Holds every line or none: each line goes to its own warehouse when named, else to the preferred
 * warehouse when it has enough, else to the active warehouse with the most available (allocation.ts). The
 * hold's TTL starts when it commits: expires_at is taken from the database clock at the transaction's last
 * write, so a hold retried for a while never commits already expired. Idempotent by the reservation id: a
 * retry after a commit returns the committed hold, with its expiry. Throws InsufficientStockError listing
 * every short line, VariantNotFoundError, WarehouseNotFoundError, WarehouseInactiveError, or
 * ReservationConflictError when the order already holds another reservation.
 */
export async function holdStock(
  scope: OrganizationScope,
  request: HoldRequest,
  workflow: WorkflowRef,
  at: Date,
): Promise<ReservationRecord> {
  // Allocation reads a snapshot; the ledger's guarded update decides. A line that loses a race to
  // another order is allocated again, in a new transaction, from fresh numbers before the hold is refused.
  for (let attempt = 1; ; attempt++) {
    try {
      return await scope.transaction((tx) => holdOnce(tx, request, workflow, at));
    } catch (error) {
      if (!(error instanceof InsufficientStockError) || attempt >= holdAttempts) throw error;
    }
  }
}

async function holdOnce(
  tx: ScopedTransaction,
  request: HoldRequest,
  workflow: WorkflowRef,
  at: Date,
): Promise<ReservationRecord> {
  const { attempt: done, holder } = await store.findAttemptAndHolder(tx, request.reservationId, request.orderId);
  if (done && holdDecision(done.status) === 'answer') return done;
  if (holder && holder.status !== 'failed' && holder.reservationId !== request.reservationId) {
    throw new ReservationConflictError(`order ${request.orderId} already holds reservation ${holder.reservationId}`, {
      reservation_id: holder.reservationId,
    });
  }
  const named = [...request.items.map((i) => i.warehouse_id), request.preferredWarehouseId].filter(
    (w): w is string => !!w,
  );
  await assertWarehousesUsable(tx, named);
  const variantIds = [...new Set(request.items.map((i) => i.variant_id))];
  const allocations = allocate(
    request.items,
    await store.findStockCandidates(tx, variantIds),
    request.preferredWarehouseId,
  );

  const outcome = await applyOperation(tx, {
    ...operationBase(request.reservationId, request.orderId, 'reserve', request.actor ?? workflowActor, workflow),
    changes: allocations.map((a) => ({
      variantId: a.variant_id,
      warehouseId: a.warehouse_id,
      type: 'reserve' as const,
      deltas: { available: -a.quantity, reserved: a.quantity },
    })),
  });
  // A replayed key means this attempt committed before: its row answers.
  if (outcome.replayed) return await mustFind(tx, request.reservationId);
  // The row and its event are the last writes, and the record comes back from the insert rather than a
  // read: the stock row stays locked until the commit, and every order racing for it waits that long.
  const held = await store.insertHeldReservation(tx, request, allocations, workflow, at);
  // Another reservation won the order between our check and now: throwing rolls the hold back.
  if (!held) throw new ReservationConflictError(`order ${request.orderId} already holds another reservation`);
  await enqueueEvent(
    tx,
    reservationEvent('inventory.reservation.created', request.reservationId, {
      order_id: request.orderId,
      status: 'active',
      allocations,
      expires_at: held.expiresAt?.toISOString(),
    }),
  );
  return held;
}

/**
 * Records a hold that failed for good (status failed) and announces `inventory.reservation.failed`, once
 * per attempt of the order. When an attempt of this hold had committed before later attempts ran out
 * (an answer lost with its worker or connection), its units go back to available first
 * (`inventory.stock.released`, ledger key `reservation/{id}/release`), in the same transaction: a failed
 * reservation never holds stock. When the request itself holds text the database cannot store (a NUL
 * in the order id), no row can be written: the event alone is published, with such characters replaced
 * by U+FFFD. Safe to repeat.
 */
export async function recordHoldFailure(
  scope: OrganizationScope,
  request: HoldRequest,
  failure: HoldFailure,
  workflow: WorkflowRef,
  at: Date,
): Promise<void> {
  const failed = reservationEvent('inventory.reservation.failed', request.reservationId, {
    order_id: request.orderId,
    reason: failureReason(failure.type),
    message: failure.message,
    shortages: failure.shortages ?? [],
  });
  const rowNeeded = await scope.transaction(async (tx) => {
    const committed = await store.findReservation(tx, { reservationId: request.reservationId });
    if (committed?.status === 'active') {
      await releaseCommittedHold(tx, committed, failure, workflow, at, failed);
      return false;
    }
    return !committed || committed.status === 'failed';
  });
  if (!rowNeeded) return;
  try {
    await scope.transaction(async (tx) => {
      const written = await store.upsertFailedReservation(tx, request, { ...failure }, failure.message, workflow, at);
      if (written) await enqueueEvent(tx, failed);
    });
  } catch (error) {
    if (!isDataException(error)) throw error;
    // The order id (or a line) cannot be stored: there is no row to write, but the order service still hears.
    await scope.transaction(async (tx) => {
      const id = nameBasedUuid(`reservation-failed/${tx.organizationId}/${request.reservationId}`);
      await enqueueEventOnce(tx, id, { ...failed, data: storable(failed.data) });
    });
  }
}

/** A hold that committed unbeknown to its workflow gives its units back and is marked failed. */
async function releaseCommittedHold(
  tx: ScopedTransaction,
  committed: ReservationRecord,
  failure: HoldFailure,
  workflow: WorkflowRef,
  at: Date,
  failed: OutboxDraft,
): Promise<void> {
  const id = committed.reservationId;
  const outcome = await applyOperation(tx, {
    ...operationBase(id, committed.orderId, 'release', workflowActor, workflow),
    changes: releaseChanges(committed.allocations, 'hold failed'),
  });
  if (outcome.replayed) return;
  await store.transitionReservation(tx, id, ['active'], 'failed', at, failure.message);
  await store.recordReservationFailure(tx, id, { ...failure });
  await enqueueEvent(
    tx,
    reservationEvent('inventory.stock.released', id, {
      order_id: committed.orderId,
      reason: 'hold failed',
      items: committed.allocations,
    }),
  );
  await enqueueEvent(tx, failed);
}

/**
 * Announces that a confirmed hold has stayed open longer than `overdueSeconds` since it was confirmed
 * (`inventory.reservation.confirmed_overdue`), for someone to fulfil or release it. Changes no stock
 * and no status. Once per reservation: the event's id is derived from the reservation id.
 */
export async function reportConfirmedOverdue(
  scope: OrganizationScope,
  reservationId: string,
  overdueSeconds: number,
  at: Date,
): Promise<void> {
  await scope.transaction(async (tx) => {
    const current = await mustFind(tx, reservationId);
    if (current.status !== 'confirmed') return;
    const confirmedAt = [...current.transitions].reverse().find((t) => t.status === 'confirmed')?.at ?? null;
    await enqueueEventOnce(
      tx,
      nameBasedUuid(`reservation-confirmed-overdue/${tx.organizationId}/${reservationId}`),
      reservationEvent('inventory.reservation.confirmed_overdue', reservationId, {
        order_id: current.orderId,
        confirmed_at: confirmedAt,
        overdue_after_seconds: overdueSeconds,
        reported_at: at.toISOString(),
        allocations: current.allocations,
      }),
    );
  });
}

/** Payment done. Idempotent; InvalidReservationStateError unless active or already confirmed. */
export async function confirmReservation(
  scope: OrganizationScope,
  reservationId: string,
  at: Date,
): Promise<ReservationRecord> {
  return await scope.transaction(async (tx) => {
    const record = await store.transitionReservation(tx, reservationId, ['active'], 'confirmed', at);
    if (!record) {
      const current = await mustFind(tx, reservationId);
      expectStatus(reservationId, current.status, ['confirmed'], 'confirmed');
      return current;
    }
    await enqueueEvent(
      tx,
      reservationEvent('inventory.reservation.confirmed', reservationId, {
        order_id: record.orderId,
        allocations: record.allocations,
      }),
    );
    return record;
  });
}

/** Moves the expiry of an active hold. Idempotent for the same expiry; InvalidReservationStateError unless active. */
export async function extendReservation(
  scope: OrganizationScope,
  reservationId: string,
  expiresAt: Date,
  at: Date,
): Promise<ReservationRecord> {
  return await scope.transaction(async (tx) => {
    const record = await store.moveReservationExpiry(tx, reservationId, expiresAt, at);
    if (!record) {
      const current = await mustFind(tx, reservationId);
      expectStatus(reservationId, current.status, ['active'], 'extend');
      return current;
    }
    await enqueueEvent(
      tx,
      reservationEvent('inventory.reservation.extended', reservationId, {
        order_id: record.orderId,
        expires_at: expiresAt.toISOString(),
      }),
    );
    return record;
  });
}

/**
 * Gives the held units back (status released, or expired when the TTL ran out). Idempotent; refused once
 * fulfilled. An expiry releases only an active hold: a row confirmed, fulfilled or released meanwhile (by
 * a step whose answer the workflow never got) is returned as it is, for the workflow to catch up with.
 */
export async function releaseHold(
  scope: OrganizationScope,
  reservationId: string,
  outcome: 'released' | 'expired',
  reason: string,
  workflow: WorkflowRef,
  at: Date,
  actor = workflowActor,
): Promise<ReservationRecord> {
  return await scope.transaction(async (tx) => {
    const current = await mustFind(tx, reservationId);
    if (releaseDecision(reservationId, current.status, outcome) === 'answer') return current;
    const applied = await applyOperation(tx, {
      ...operationBase(reservationId, current.orderId, 'release', actor, workflow),
      changes: releaseChanges(current.allocations, reason),
    });
    // Replayed: this release had committed before; the stored row answers.
    if (applied.replayed) return await mustFind(tx, reservationId);
    const released = await store.transitionReservation(tx, reservationId, holdingStatuses, outcome, at, reason);
    await enqueueEvent(
      tx,
      reservationEvent('inventory.stock.released', reservationId, {
        order_id: current.orderId,
        reason,
        items: current.allocations,
      }),
    );
    if (outcome === 'expired') {
      await enqueueEvent(
        tx,
        reservationEvent('inventory.reservation.expired', reservationId, {
          order_id: current.orderId,
          expired_at: at.toISOString(),
          items: current.allocations,
        }),
      );
    }
    // The stock rows stay locked until the commit: the record comes back from the update, not a read.
    return released ?? (await mustFind(tx, reservationId));
  });
}

/**
 * The order shipped: held units leave stock as `shipment` movements referencing the order. Idempotent;
 * InvalidReservationStateError unless the reservation holds stock (or is fulfilled already).
 */
export async function fulfilHold(
  scope: OrganizationScope,
  reservationId: string,
  workflow: WorkflowRef,
  at: Date,
  actor = workflowActor,
): Promise<ReservationRecord> {
  return await scope.transaction(async (tx) => {
    const current = await mustFind(tx, reservationId);
    if (fulfilDecision(reservationId, current.status) === 'answer') return current;
    const outcome = await applyOperation(tx, {
      ...operationBase(reservationId, current.orderId, 'fulfil', actor, workflow),
      reference: { type: 'order', id: current.orderId },
      changes: current.allocations.map((a) => ({
        variantId: a.variant_id,
        warehouseId: a.warehouse_id,
        type: 'shipment' as const,
        deltas: { reserved: -a.quantity },
        reason: `reservation ${reservationId} fulfilled`,
      })),
    });
    if (outcome.replayed) return await mustFind(tx, reservationId);
    const fulfilled = await store.transitionReservation(tx, reservationId, holdingStatuses, 'fulfilled', at);
    for (const m of outcome.movements) {
      await enqueueEvent(tx, {
        name: 'inventory.movement.out',
        aggregateType: 'stock',
        aggregateId: m.stockId,
        data: {
          movement_id: m.id,
          variant_id: m.variantId,
          warehouse_id: m.warehouseId,
          quantity: -m.deltas.total,
          order_id: current.orderId,
          reservation_id: reservationId,
          quantities_after: { total: m.after.total, available: m.after.available, reserved: m.after.reserved },
        },
      });
    }
    return fulfilled ?? (await mustFind(tx, reservationId));
  });
}

/** The ledger operation of a reservation step: keyed by reservation and step, naming the order it serves. */
function operationBase(
  reservationId: string,
  orderId: string,
  step: string,
  actor: string,
  workflow: WorkflowRef,
): Omit<Operation, 'changes'> {
  return {
    operationKey: `reservation/${reservationId}/${step}`,
    actor,
    reference: { type: 'reservation', id: reservationId },
    orderId,
    workflow,
  };
}

function releaseChanges(allocations: ReservationAllocation[], reason: string): StockChange[] {
  return allocations.map((a) => ({
    variantId: a.variant_id,
    warehouseId: a.warehouse_id,
    type: 'release' as const,
    deltas: { available: a.quantity, reserved: -a.quantity },
    reason,
  }));
}

function reservationEvent(name: string, reservationId: string, data: Record<string, unknown>): OutboxDraft {
  return {
    name,
    aggregateType: 'reservation',
    aggregateId: reservationId,
    data: { reservation_id: reservationId, ...data },
  };
}

async function assertWarehousesUsable(tx: ScopedTransaction, warehouseIds: string[]): Promise<void> {
  if (warehouseIds.length === 0) return;
  const ids = [...new Set(warehouseIds)];
  const found = await store.findWarehouseStates(tx, ids);
  const missing = ids.filter((id) => !found.some((w) => w.id === id));
  if (missing.length > 0) {
    throw new WarehouseNotFoundError(`warehouse ${missing.join(', ')} does not exist in this organization`, {
      warehouse_ids: missing,
    });
  }
  const inactive = found.filter((w) => !w.active).map((w) => w.id);
  if (inactive.length > 0)
    throw new WarehouseInactiveError(`warehouse ${inactive.join(', ')} is inactive`, { warehouse_ids: inactive });
}

async function mustFind(tx: ScopedTransaction, reservationId: string): Promise<ReservationRecord> {
  const record = await store.findReservation(tx, { reservationId });
  if (!record)
    throw new ReservationNotFoundError(`reservation ${reservationId} does not exist`, {
      reservation_id: reservationId,
    });
  return record;
}

/**
 * A value PostgreSQL refuses (SQLSTATE class 22), or cannot even read (08P01: node-postgres sends a NUL
 * character in text as is): the value, not the moment, is wrong.
 */
function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code === '08P01');
}

/** A copy PostgreSQL's jsonb accepts: NUL characters (which it refuses) become U+FFFD. */
function storable(data: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(data, (_key, v: unknown) => (typeof v === 'string' ? v.replaceAll('\u0000', '\uFFFD') : v)),
  );
}
