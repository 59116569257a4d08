import type { EntityDictionary } from '@mikro-orm/core';
import type { ScopedTransaction } from '../organization-scope.ts';
import { toDate } from '../sql-values.ts';
import { Warehouse } from '../warehouses/warehouse.entity.ts';
import type { StockCandidate } from './allocation.ts';
import { Reservation } from './reservation.entity.ts';
import type {
  ReservationAllocation,
  ReservationLine,
  ReservationStatus,
  ReservationTransition,
} from '../vocabulary.ts';

/**
 * Reservation rows, for the reservation use cases; every function runs in the caller's transaction.
 *
 * Through MikroORM: reads by id or order (em.findOne/em.find on the Reservation entity, mapped here to the
 * domain record; identity map off, because the same transaction changes the row with the SQL below and
 * reads it back), the mapping of the rows that SQL returns (em.map), the warehouses a request names (em.find
 * on Warehouse), and a failure's detail (em.nativeUpdate).
 *
 * Hand-written SQL, where the ORM cannot say it in one statement:
 * - the status transitions and the expiry move: one conditional `update … where status in (…) returning *`,
 *   re-checked on the locked row so a step happens once, appending to the jsonb transitions (the row comes
 *   back with it: release and fulfil hold stock rows locked until the commit, so no extra read there);
 * - the held and failed rows: `insert … on conflict (organization_id, order_id) do update … where` the
 *   row is a failed attempt (it gives way to the next attempt; any other holder of the order stays), the
 *   held row's expiry taken from the database clock at that statement (`clock_timestamp()`);
 * - the allocation candidates: stock joined with warehouse, in the order the allocation policy reads.
 * Every query names organization_id as well, a second layer under row-level security.
 */

/** One reservation as the domain reads it. */
export interface ReservationRecord {
  reservationId: string;
  orderId: string;
  status: ReservationStatus;
  items: ReservationLine[];
  allocations: ReservationAllocation[];
  expiresAt: Date | null;
  releaseReason: string | null;
  fingerprint: string;
  transitions: ReservationTransition[];
  createdAt: Date;
}

export interface WorkflowRef {
  workflowId: string;
  runId: string;
}

/** What a held or failed row is written from. */
export interface ReservationRequestRow {
  reservationId: string;
  orderId: string;
  items: ReservationLine[];
  preferredWarehouseId?: string;
  fingerprint: string;
}

/** The reservation by its id or its order id; null when there is none. */
export async function findReservation(
  tx: ScopedTransaction,
  by: { reservationId?: string; orderId?: string },
): Promise<ReservationRecord | null> {
  const where = by.reservationId ? { id: by.reservationId } : { orderId: by.orderId };
  const entity = await tx.em.findOne(
    Reservation,
    { organizationId: tx.organizationId, ...where },
    { disableIdentityMap: true },
  );
  return entity ? toRecord(entity) : null;
}

/**
 * In one read: the reservation of this attempt (by its id) and the one holding the order (by the order id),
 * each null when there is none; the same row when this attempt holds the order.
 */
export async function findAttemptAndHolder(
  tx: ScopedTransaction,
  reservationId: string,
  orderId: string,
): Promise<{ attempt: ReservationRecord | null; holder: ReservationRecord | null }> {
  const rows = await tx.em.find(
    Reservation,
    { organizationId: tx.organizationId, $or: [{ id: reservationId }, { orderId }] },
    { disableIdentityMap: true },
  );
  const attempt = rows.find((r) => r.id === reservationId);
  const holder = rows.find((r) => r.orderId === orderId);
  return { attempt: attempt ? toRecord(attempt) : null, holder: holder ? toRecord(holder) : null };
}

/** The stock rows of these variants that a hold may draw from, most available first (then by warehouse code). */
export async function findStockCandidates(tx: ScopedTransaction, variantIds: string[]): Promise<StockCandidate[]> {
  return await tx.em.execute<StockCandidate[]>(
    `select s.variant_id, s.warehouse_id, s.available, w.active from stock s
     join warehouse w on w.id = s.warehouse_id and w.organization_id = s.organization_id
     where s.organization_id = ? and s.variant_id in (?) and s.archived_at is null
     order by s.available desc, w.code`,
    [tx.organizationId, variantIds],
  );
}

/** The organization's warehouses among `ids`, with whether each takes holds; ids of none are left out. */
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

/**
 * Writes the held row (replacing a failed attempt for the order) and returns it as the domain reads it,
 * its expiry the given one or the statement's time plus `ttlSeconds`. Null when another reservation holds
 * the order.
 */
export async function insertHeldReservation(
  tx: ScopedTransaction,
  request: ReservationRequestRow & { ttlSeconds: number; expiresAt?: Date },
  allocations: ReservationAllocation[],
  workflow: WorkflowRef,
  at: Date,
): Promise<ReservationRecord | null> {
  const transitions: ReservationTransition[] = [{ status: 'active', at: at.toISOString() }];
  // clock_timestamp(), not now(): the time of this statement, as close to the commit as the hold can know.
  const written = await tx.em.execute<{ expires_at: string | Date; created_at: string | Date }[]>(
    `insert into reservation (id, organization_id, order_id, status, items, preferred_warehouse_id, allocations,
       request_fingerprint, expires_at, transitions, workflow_id, workflow_run_id)
     values (?, ?, ?, 'active', ?, ?, ?, ?,
       coalesce(?::timestamptz, clock_timestamp() + ?::int * interval '1 second'), ?, ?, ?)
     on conflict (organization_id, order_id) do update set
       id = excluded.id, status = 'active', items = excluded.items,
       preferred_warehouse_id = excluded.preferred_warehouse_id,
       allocations = excluded.allocations, request_fingerprint = excluded.request_fingerprint,
       expires_at = excluded.expires_at, failure = null, transitions = excluded.transitions,
       workflow_id = excluded.workflow_id, workflow_run_id = excluded.workflow_run_id, updated_at = now()
     where reservation.status = 'failed'
     returning expires_at, created_at`,
    [
      request.reservationId,
      tx.organizationId,
      request.orderId,
      JSON.stringify(request.items),
      request.preferredWarehouseId ?? null,
      JSON.stringify(allocations),
      request.fingerprint,
      request.expiresAt ?? null,
      request.ttlSeconds,
      JSON.stringify(transitions),
      workflow.workflowId,
      workflow.runId,
    ],
  );
  const row = written[0];
  if (!row) return null;
  return {
    reservationId: request.reservationId,
    orderId: request.orderId,
    status: 'active',
    items: request.items,
    allocations,
    expiresAt: toDate(row.expires_at),
    releaseReason: null,
    fingerprint: request.fingerprint,
    transitions,
    createdAt: toDate(row.created_at),
  };
}

/**
 * Writes a failed attempt with no allocations, replacing an earlier failed attempt of the order. False when
 * the order's row is not a failed attempt (it belongs to another reservation) or is this attempt already.
 */
export async function upsertFailedReservation(
  tx: ScopedTransaction,
  request: ReservationRequestRow,
  failure: Record<string, unknown>,
  message: string,
  workflow: WorkflowRef,
  at: Date,
): Promise<boolean> {
  const transitions = JSON.stringify([{ status: 'failed', at: at.toISOString(), reason: message }]);
  const written = await tx.em.execute<{ id: string }[]>(
    `insert into reservation (id, organization_id, order_id, status, items, preferred_warehouse_id, allocations,
       request_fingerprint, failure, transitions, workflow_id, workflow_run_id)
     values (?, ?, ?, 'failed', ?, ?, '[]', ?, ?, ?, ?, ?)
     on conflict (organization_id, order_id) do update set
       id = excluded.id, status = 'failed', items = excluded.items,
       preferred_warehouse_id = excluded.preferred_warehouse_id,
       allocations = '[]', request_fingerprint = excluded.request_fingerprint, failure = excluded.failure,
       transitions = excluded.transitions, workflow_id = excluded.workflow_id,
       workflow_run_id = excluded.workflow_run_id,
       updated_at = now()
     where reservation.status = 'failed' and reservation.id <> excluded.id
     returning id`,
    [
      request.reservationId,
      tx.organizationId,
      request.orderId,
      JSON.stringify(request.items),
      request.preferredWarehouseId ?? null,
      request.fingerprint,
      JSON.stringify(failure),
      transitions,
      workflow.workflowId,
      workflow.runId,
    ],
  );
  return written.length > 0;
}

/**
 * Moves the reservation from one of `from` to `to`, recording the transition (and, into released or
 * expired, the reason); returns it as it now is. Null when it was not in `from`: nothing changed.
 */
export async function transitionReservation(
  tx: ScopedTransaction,
  reservationId: string,
  from: readonly ReservationStatus[],
  to: ReservationStatus,
  at: Date,
  reason?: string,
): Promise<ReservationRecord | null> {
  const entry: ReservationTransition = { status: to, at: at.toISOString(), ...(reason ? { reason } : {}) };
  const rows = await tx.em.execute<EntityDictionary<Reservation>[]>(
    `update reservation set status = ?, transitions = transitions || ?::jsonb, updated_at = now(),
       release_reason = case when ? in ('released', 'expired') then ? else release_reason end
     where organization_id = ? and id = ? and status in (?) returning *`,
    [to, JSON.stringify([entry]), to, reason ?? null, tx.organizationId, reservationId, [...from]],
  );
  return mapRow(tx, rows[0]);
}

/** Keeps why a hold failed (the failure type, message and shortages) on its row. */
export async function recordReservationFailure(
  tx: ScopedTransaction,
  reservationId: string,
  failure: Record<string, unknown>,
): Promise<void> {
  await tx.em.nativeUpdate(Reservation, { organizationId: tx.organizationId, id: reservationId }, { failure });
}

/**
 * Moves an active hold's expiry, recording it as a transition; returns it as it now is. Null when not active
 * or already at that expiry.
 */
export async function moveReservationExpiry(
  tx: ScopedTransaction,
  reservationId: string,
  expiresAt: Date,
  at: Date,
): Promise<ReservationRecord | null> {
  const entry: ReservationTransition = {
    status: 'active',
    at: at.toISOString(),
    reason: `extended to ${expiresAt.toISOString()}`,
  };
  const rows = await tx.em.execute<EntityDictionary<Reservation>[]>(
    `update reservation set expires_at = ?, transitions = transitions || ?::jsonb, updated_at = now()
     where organization_id = ? and id = ? and status = 'active' and expires_at is distinct from ? returning *`,
    [expiresAt, JSON.stringify([entry]), tx.organizationId, reservationId, expiresAt],
  );
  return mapRow(tx, rows[0]);
}

/** A row that SQL returned, mapped by MikroORM (column names, types) to the entity and then to the record. */
function mapRow(tx: ScopedTransaction, row: EntityDictionary<Reservation> | undefined): ReservationRecord | null {
  return row ? toRecord(tx.em.map(Reservation, row, { disableIdentityMap: true })) : null;
}

function toRecord(r: Reservation): ReservationRecord {
  return {
    reservationId: r.id,
    orderId: r.orderId,
    status: r.status,
    items: r.items,
    allocations: r.allocations,
    expiresAt: r.expiresAt ?? null,
    releaseReason: r.releaseReason ?? null,
    fingerprint: r.requestFingerprint,
    transitions: r.transitions,
    createdAt: r.createdAt,
  };
}
