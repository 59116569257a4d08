import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { OrganizationScope } from '../organization-scope.ts';
import { recordOperation } from '../stock/ledger.ts';
import { insertOutboxEvent } from '../../messaging/outbox.ts';
import {
  InsufficientStockError,
  InvalidReservationStateError,
  ReservationConflictError,
  ReservationNotFoundError,
  VariantNotFoundError,
  WarehouseInactiveError,
  WarehouseNotFoundError,
  type Shortage,
} from '../errors.ts';
import type { ReservationAllocation, ReservationLine, ReservationStatus, ReservationTransition } from './reservation.entity.ts';
import { toDate } from '../sql-values.ts';

/**
 * Reservation steps as the workflow's activities run them. Each is one transaction and idempotent by
 * the reservation id (a unique id per attempt): the stock changes go through the ledger with operation
 * keys `reservation/{id}/{step}`, and the reservation row and the events are written with them.
 */

export interface WorkflowRef {
  workflowId: string;
  runId: string;
}

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

/** The ledger's actor for what the workflow does on its own (an expiry) or for callers from before actors were named. */
const workflowActor = 'reservation-workflow';

/** Finds the reservation by its id or its order id; null when there is none. */
export async function findReservation(scope: OrganizationScope, by: { reservationId?: string; orderId?: string }): Promise<ReservationRecord | null> {
  const [row] = await scope.em.execute<ReservationRow[]>(
    by.reservationId ? 'select * from reservation where organization_id = ? and id = ?' : 'select * from reservation where organization_id = ? and order_id = ?',
    [scope.organizationId, by.reservationId ?? by.orderId],
  );
  return row ? toRecord(row) : null;
}

/**
 * Holds every line or none: each line goes to its own warehouse when named, else to the preferred
 * warehouse when it has enough, else to the active warehouse with the most available. The hold's TTL
 * starts when it commits: expires_at is taken from the database clock at the transaction's last write,
 * so a hold retried for a while never commits already expired. Idempotent by the reservation id: a
 * retry after a commit returns the committed hold, with its expiry. Throws
 * InsufficientStockError listing every short line, VariantNotFoundError, WarehouseNotFoundError,
 * WarehouseInactiveError, or ReservationConflictError when the order already holds another reservation.
 */
export async function holdStock(scope: OrganizationScope, request: HoldRequest, workflow: WorkflowRef, at: Date): Promise<ReservationRecord> {
  const done = await findReservation(scope, { reservationId: request.reservationId });
  if (done && done.status !== 'failed') return done;
  const holder = await findReservation(scope, { orderId: request.orderId });
  if (holder && holder.status !== 'failed' && holder.reservationId !== request.reservationId) {
    throw new ReservationConflictError(`order ${request.orderId} already holds reservation ${holder.reservationId}`, { reservation_id: holder.reservationId });
  }
  await assertWarehousesUsable(scope, [...request.items.map((i) => i.warehouse_id), request.preferredWarehouseId].filter((w): w is string => !!w));

  // Allocation reads a snapshot; the ledger's guarded update decides. A line that loses a race to
  // another order is allocated again from fresh numbers before the hold is refused.
  for (let attempt = 1; ; attempt++) {
    const allocations = await allocate(scope, request.items, request.preferredWarehouseId);
    try {
      await recordOperation(
        scope,
        {
          operationKey: `reservation/${request.reservationId}/reserve`,
          actor: request.actor ?? workflowActor,
          reference: { type: 'reservation', id: request.reservationId },
          workflow,
          changes: allocations.map((a) => ({ variantId: a.variant_id, warehouseId: a.warehouse_id, type: 'reserve' as const, deltas: { available: -a.quantity, reserved: a.quantity } })),
        },
        async (em) => {
          const expiresAt = await writeHeldRow(em, scope.organizationId, request, allocations, workflow, at);
          await insertOutboxEvent(em, scope.organizationId, {
            name: 'inventory.reservation.created',
            aggregateType: 'reservation',
            aggregateId: request.reservationId,
            data: { reservation_id: request.reservationId, order_id: request.orderId, status: 'active', allocations, expires_at: expiresAt.toISOString() },
          });
        },
      );
      return (await findReservation(scope, { reservationId: request.reservationId }))!;
    } catch (error) {
      if (!(error instanceof InsufficientStockError) || attempt >= 3) throw error;
    }
  }
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
export async function recordHoldFailure(scope: OrganizationScope, request: HoldRequest, failure: { type: string; message: string; shortages?: Shortage[] }, workflow: WorkflowRef, at: Date): Promise<void> {
  const failedEvent = {
    name: 'inventory.reservation.failed',
    aggregateType: 'reservation',
    aggregateId: request.reservationId,
    data: { reservation_id: request.reservationId, order_id: request.orderId, reason: failure.type === 'InsufficientStockError' ? 'insufficient_stock' : failure.type, message: failure.message, shortages: failure.shortages ?? [] },
  };
  const committed = await findReservation(scope, { reservationId: request.reservationId });
  if (committed?.status === 'active') {
    await recordOperation(
      scope,
      {
        operationKey: `reservation/${request.reservationId}/release`,
        actor: workflowActor,
        reference: { type: 'reservation', id: request.reservationId },
        workflow,
        changes: committed.allocations.map((a) => ({ variantId: a.variant_id, warehouseId: a.warehouse_id, type: 'release' as const, deltas: { available: a.quantity, reserved: -a.quantity }, reason: 'hold failed' })),
      },
      async (em) => {
        await transitionRow(em, scope.organizationId, request.reservationId, ['active'], 'failed', at, failure.message);
        await em.execute('update reservation set failure = ? where organization_id = ? and id = ?', [JSON.stringify(failure), scope.organizationId, request.reservationId]);
        await insertOutboxEvent(em, scope.organizationId, {
          name: 'inventory.stock.released',
          aggregateType: 'reservation',
          aggregateId: request.reservationId,
          data: { reservation_id: request.reservationId, order_id: committed.orderId, reason: 'hold failed', items: committed.allocations },
        });
        await insertOutboxEvent(em, scope.organizationId, failedEvent);
      },
    );
    return;
  }
  if (committed && committed.status !== 'failed') return;
  try {
    await scope.em.transactional(async (em) => {
      const transition = JSON.stringify([{ status: 'failed', at: at.toISOString(), reason: failure.message }]);
      // A row for the order that is not a failed attempt belongs to another reservation: leave it alone.
      const written = await em.execute<{ id: string }[]>(
        `insert into reservation (id, organization_id, order_id, status, items, preferred_warehouse_id, allocations, request_fingerprint, failure, transitions, workflow_id, workflow_run_id)
         values (?, ?, ?, 'failed', ?, ?, '[]', ?, ?, ?, ?, ?)
         on conflict (organization_id, order_id) do update set
           id = excluded.id, status = 'failed', items = excluded.items, preferred_warehouse_id = excluded.preferred_warehouse_id,
           allocations = '[]', request_fingerprint = excluded.request_fingerprint, failure = excluded.failure,
           transitions = excluded.transitions, workflow_id = excluded.workflow_id, workflow_run_id = excluded.workflow_run_id, updated_at = now()
         where reservation.status = 'failed' and reservation.id <> excluded.id
         returning id`,
        [
          request.reservationId, scope.organizationId, request.orderId, JSON.stringify(request.items), request.preferredWarehouseId ?? null,
          request.fingerprint, JSON.stringify(failure), transition, workflow.workflowId, workflow.runId,
        ],
      );
      if (written.length === 0) return;
      await insertOutboxEvent(em, scope.organizationId, failedEvent);
    });
  } catch (error) {
    if (!isDataException(error)) throw error;
    // The order id (or a line) cannot be stored: there is no row to write, but the order service still hears.
    await scope.em.transactional(async (em) => {
      const id = nameBasedUuid(`reservation-failed/${scope.organizationId}/${request.reservationId}`);
      await em.execute('insert into outbox_event (id, organization_id, name, aggregate_type, aggregate_id, payload) values (?, ?, ?, ?, ?, ?) on conflict (id) do nothing', [
        id, scope.organizationId, failedEvent.name, failedEvent.aggregateType, failedEvent.aggregateId, storableJson(failedEvent.data),
      ]);
    });
  }
}

/**
 * Announces that a confirmed hold has stayed open longer than `overdueSeconds` since it was confirmed
 * (`inventory.reservation.confirmed_overdue`), for someone to fulfil or release it. Changes no stock
 * and no status. Once per reservation: the event's id is derived from the reservation id.
 */
export async function reportConfirmedOverdue(scope: OrganizationScope, reservationId: string, overdueSeconds: number, at: Date): Promise<void> {
  const current = await mustFind(scope, reservationId);
  if (current.status !== 'confirmed') return;
  const confirmedAt = [...current.transitions].reverse().find((t) => t.status === 'confirmed')?.at ?? null;
  await scope.em.execute('insert into outbox_event (id, organization_id, name, aggregate_type, aggregate_id, payload) values (?, ?, ?, ?, ?, ?) on conflict (id) do nothing', [
    nameBasedUuid(`reservation-confirmed-overdue/${scope.organizationId}/${reservationId}`),
    scope.organizationId,
    'inventory.reservation.confirmed_overdue',
    'reservation',
    reservationId,
    JSON.stringify({ reservation_id: reservationId, order_id: current.orderId, confirmed_at: confirmedAt, overdue_after_seconds: overdueSeconds, reported_at: at.toISOString(), allocations: current.allocations }),
  ]);
}

/** Payment done. Idempotent; InvalidReservationStateError unless active or already confirmed. */
export async function confirmReservation(scope: OrganizationScope, reservationId: string, at: Date): Promise<ReservationRecord> {
  return await transition(scope, reservationId, ['active'], 'confirmed', at, undefined, async (em, r) => {
    await insertOutboxEvent(em, scope.organizationId, {
      name: 'inventory.reservation.confirmed',
      aggregateType: 'reservation',
      aggregateId: reservationId,
      data: { reservation_id: reservationId, order_id: r.orderId, allocations: r.allocations },
    });
  });
}

/** Moves the expiry of an active hold. Idempotent for the same expiry. */
export async function extendReservation(scope: OrganizationScope, reservationId: string, expiresAt: Date, at: Date): Promise<ReservationRecord> {
  return await scope.em.transactional(async (em) => {
    const updated = await em.execute<ReservationRow[]>(
      `update reservation set expires_at = ?, transitions = transitions || ?::jsonb, updated_at = now()
       where organization_id = ? and id = ? and status = 'active' and expires_at is distinct from ? returning *`,
      [expiresAt, JSON.stringify([{ status: 'active', at: at.toISOString(), reason: `extended to ${expiresAt.toISOString()}` }]), scope.organizationId, reservationId, expiresAt],
    );
    if (updated.length === 0) return await expectStatus(em, scope.organizationId, reservationId, ['active'], 'extend');
    const record = toRecord(updated[0]);
    await insertOutboxEvent(em, scope.organizationId, {
      name: 'inventory.reservation.extended',
      aggregateType: 'reservation',
      aggregateId: reservationId,
      data: { reservation_id: reservationId, order_id: record.orderId, expires_at: expiresAt.toISOString() },
    });
    return record;
  });
}

/**
 * Gives the held units back (status released, or expired when the TTL ran out). Idempotent; refused once
 * fulfilled. An expiry releases only an active hold: a row confirmed, fulfilled or released meanwhile (by
 * a step whose answer the workflow never got) is returned as it is, for the workflow to catch up with.
 */
export async function releaseHold(scope: OrganizationScope, reservationId: string, outcome: 'released' | 'expired', reason: string, workflow: WorkflowRef, at: Date, actor = workflowActor): Promise<ReservationRecord> {
  const current = await mustFind(scope, reservationId);
  if (current.status === 'released' || current.status === 'expired') return current;
  if (outcome === 'expired' && current.status !== 'active') return current;
  if (current.status !== 'active' && current.status !== 'confirmed') {
    throw new InvalidReservationStateError(`reservation ${reservationId} is ${current.status}: it cannot be released`, { status: current.status });
  }
  await recordOperation(
    scope,
    {
      operationKey: `reservation/${reservationId}/release`,
      actor,
      reference: { type: 'reservation', id: reservationId },
      workflow,
      changes: current.allocations.map((a) => ({ variantId: a.variant_id, warehouseId: a.warehouse_id, type: 'release' as const, deltas: { available: a.quantity, reserved: -a.quantity }, reason })),
    },
    async (em) => {
      await transitionRow(em, scope.organizationId, reservationId, ['active', 'confirmed'], outcome, at, reason);
      await insertOutboxEvent(em, scope.organizationId, {
        name: 'inventory.stock.released',
        aggregateType: 'reservation',
        aggregateId: reservationId,
        data: { reservation_id: reservationId, order_id: current.orderId, reason, items: current.allocations },
      });
      if (outcome === 'expired') {
        await insertOutboxEvent(em, scope.organizationId, {
          name: 'inventory.reservation.expired',
          aggregateType: 'reservation',
          aggregateId: reservationId,
          data: { reservation_id: reservationId, order_id: current.orderId, expired_at: at.toISOString(), items: current.allocations },
        });
      }
    },
  );
  return await mustFind(scope, reservationId);
}

/** The order shipped: held units leave stock as `shipment` movements referencing the order. Idempotent. */
export async function fulfilHold(scope: OrganizationScope, reservationId: string, workflow: WorkflowRef, at: Date, actor = workflowActor): Promise<ReservationRecord> {
  const current = await mustFind(scope, reservationId);
  if (current.status === 'fulfilled') return current;
  if (current.status !== 'active' && current.status !== 'confirmed') {
    throw new InvalidReservationStateError(`reservation ${reservationId} is ${current.status}: it cannot be fulfilled`, { status: current.status });
  }
  await recordOperation(
    scope,
    {
      operationKey: `reservation/${reservationId}/fulfil`,
      actor,
      reference: { type: 'order', id: current.orderId },
      workflow,
      changes: current.allocations.map((a) => ({ variantId: a.variant_id, warehouseId: a.warehouse_id, type: 'shipment' as const, deltas: { reserved: -a.quantity }, reason: `reservation ${reservationId} fulfilled` })),
    },
    async (em, movements) => {
      await transitionRow(em, scope.organizationId, reservationId, ['active', 'confirmed'], 'fulfilled', at);
      for (const m of movements) {
        await insertOutboxEvent(em, scope.organizationId, {
          name: 'inventory.movement.out',
          aggregateType: 'stock',
          aggregateId: m.stockId,
          data: { movement_id: m.id, variant_id: m.variantId, warehouse_id: m.warehouseId, quantity: -m.deltas.total, order_id: current.orderId, reservation_id: reservationId, quantities_after: { total: m.after.total, available: m.after.available, reserved: m.after.reserved } },
        });
      }
    },
  );
  return await mustFind(scope, reservationId);
}

async function allocate(scope: OrganizationScope, items: ReservationLine[], preferredWarehouseId?: string): Promise<ReservationAllocation[]> {
  const variantIds = [...new Set(items.map((i) => i.variant_id))];
  const rows = await scope.em.execute<{ variant_id: string; warehouse_id: string; available: number; active: boolean }[]>(
    `select s.variant_id, s.warehouse_id, s.available, w.active from stock s
     join warehouse w on w.id = s.warehouse_id and w.organization_id = s.organization_id
     where s.organization_id = ? and s.variant_id in (?) and s.archived_at is null order by s.available desc, w.code`,
    [scope.organizationId, variantIds],
  );
  const unknown = variantIds.filter((v) => !rows.some((r) => r.variant_id === v));
  if (unknown.length > 0) throw new VariantNotFoundError(`no stock of variant ${unknown.join(', ')} in this organization`, { variant_ids: unknown });

  // Lines for the same variant and warehouse choice are summed first, so two small lines cannot each pass alone.
  const merged = new Map<string, ReservationLine>();
  for (const item of items) {
    const key = `${item.variant_id}@${item.warehouse_id ?? ''}`;
    const line = merged.get(key);
    if (line) line.quantity += item.quantity;
    else merged.set(key, { ...item });
  }
  const allocations: ReservationAllocation[] = [];
  const shortages: Shortage[] = [];
  for (const line of merged.values()) {
    const candidates = rows.filter((r) => r.variant_id === line.variant_id && r.active);
    const chosen = line.warehouse_id
      ? candidates.find((r) => r.warehouse_id === line.warehouse_id)
      : (candidates.find((r) => r.warehouse_id === preferredWarehouseId && r.available >= line.quantity) ?? candidates[0]);
    if (!chosen || chosen.available < line.quantity) {
      shortages.push({ variant_id: line.variant_id, warehouse_id: chosen?.warehouse_id ?? line.warehouse_id ?? null, requested: line.quantity, available: chosen?.available ?? 0 });
      continue;
    }
    allocations.push({ variant_id: line.variant_id, warehouse_id: chosen.warehouse_id, quantity: line.quantity });
  }
  if (shortages.length > 0) throw new InsufficientStockError(shortages);
  // Two lines may land on the same row (one named, one chosen): the ledger takes them as one change.
  const byRow = new Map<string, ReservationAllocation>();
  for (const a of allocations) {
    const key = `${a.variant_id}@${a.warehouse_id}`;
    const existing = byRow.get(key);
    if (existing) existing.quantity += a.quantity;
    else byRow.set(key, { ...a });
  }
  return [...byRow.values()];
}

async function assertWarehousesUsable(scope: OrganizationScope, warehouseIds: string[]): Promise<void> {
  if (warehouseIds.length === 0) return;
  const ids = [...new Set(warehouseIds)];
  const rows = await scope.em.execute<{ id: string; active: boolean }[]>('select id, active from warehouse where organization_id = ? and id in (?)', [scope.organizationId, ids]);
  const missing = ids.filter((id) => !rows.some((r) => r.id === id));
  if (missing.length > 0) throw new WarehouseNotFoundError(`warehouse ${missing.join(', ')} does not exist in this organization`, { warehouse_ids: missing });
  const inactive = rows.filter((r) => !r.active).map((r) => r.id);
  if (inactive.length > 0) throw new WarehouseInactiveError(`warehouse ${inactive.join(', ')} is inactive`, { warehouse_ids: inactive });
}

/** Writes the held row (the transaction's last statement but the event) and returns its expiry. */
async function writeHeldRow(em: EntityManager, organizationId: string, request: HoldRequest, allocations: ReservationAllocation[], workflow: WorkflowRef, at: Date): Promise<Date> {
  // clock_timestamp(), not now(): the time of this statement, as close to the commit as the hold can know.
  const written = await em.execute<{ id: string; expires_at: string | Date }[]>(
    `insert into reservation (id, organization_id, order_id, status, items, preferred_warehouse_id, allocations, request_fingerprint, expires_at, transitions, workflow_id, workflow_run_id)
     values (?, ?, ?, 'active', ?, ?, ?, ?, coalesce(?::timestamptz, clock_timestamp() + ?::int * interval '1 second'), ?, ?, ?)
     on conflict (organization_id, order_id) do update set
       id = excluded.id, status = 'active', items = excluded.items, preferred_warehouse_id = excluded.preferred_warehouse_id,
       allocations = excluded.allocations, request_fingerprint = excluded.request_fingerprint, expires_at = excluded.expires_at,
       failure = null, transitions = excluded.transitions, workflow_id = excluded.workflow_id, workflow_run_id = excluded.workflow_run_id, updated_at = now()
     where reservation.status = 'failed'
     returning id, expires_at`,
    [
      request.reservationId, organizationId, request.orderId, JSON.stringify(request.items), request.preferredWarehouseId ?? null,
      JSON.stringify(allocations), request.fingerprint, request.expiresAt ?? null, request.ttlSeconds, JSON.stringify([{ status: 'active', at: at.toISOString() }]),
      workflow.workflowId, workflow.runId,
    ],
  );
  // Another reservation won the order between our check and now: throwing rolls the hold back.
  if (written.length === 0) throw new ReservationConflictError(`order ${request.orderId} already holds another reservation`);
  return toDate(written[0].expires_at);
}

/**
 * A value PostgreSQL refuses (SQLSTATE class 22), or cannot even read (08P01: node-postgres sends a NUL
 * character in text as is): the value, not the moment, is wrong.
 */
function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code === '08P01');
}

/** JSON text PostgreSQL's jsonb accepts: NUL characters (which it refuses) become U+FFFD. */
function storableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? v.replaceAll('\u0000', '\uFFFD') : v));
}

/** A UUID (version 8, RFC 9562) derived from a name: the same name gives the same id, so an insert keyed by it happens once. */
export function nameBasedUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}


type AfterTransition = (em: EntityManager, record: ReservationRecord) => Promise<void>;

async function transition(scope: OrganizationScope, reservationId: string, from: ReservationStatus[], to: ReservationStatus, at: Date, reason: string | undefined, after: AfterTransition): Promise<ReservationRecord> {
  return await scope.em.transactional(async (em) => {
    const record = await transitionRow(em, scope.organizationId, reservationId, from, to, at, reason);
    if (!record) return await expectStatus(em, scope.organizationId, reservationId, [to], to);
    await after(em, record);
    return record;
  });
}

/** Moves the row from one of `from` to `to`; null when it was not in `from` (nothing changed). */
async function transitionRow(em: EntityManager, organizationId: string, reservationId: string, from: ReservationStatus[], to: ReservationStatus, at: Date, reason?: string): Promise<ReservationRecord | null> {
  const entry: ReservationTransition = { status: to, at: at.toISOString(), ...(reason ? { reason } : {}) };
  const rows = await em.execute<ReservationRow[]>(
    `update reservation set status = ?, transitions = transitions || ?::jsonb, updated_at = now(),
       release_reason = case when ? in ('released', 'expired') then ? else release_reason end
     where organization_id = ? and id = ? and status in (?) returning *`,
    [to, JSON.stringify([entry]), to, reason ?? null, organizationId, reservationId, from],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

/** After a no-op update: fine if the row is already where the caller wanted it, else say why not. */
async function expectStatus(em: EntityManager, organizationId: string, reservationId: string, accepted: ReservationStatus[], action: string): Promise<ReservationRecord> {
  const [row] = await em.execute<ReservationRow[]>('select * from reservation where organization_id = ? and id = ?', [organizationId, reservationId]);
  if (!row) throw new ReservationNotFoundError(`reservation ${reservationId} does not exist`, { reservation_id: reservationId });
  const record = toRecord(row);
  if (accepted.includes(record.status)) return record;
  throw new InvalidReservationStateError(`reservation ${reservationId} is ${record.status}: cannot ${action}`, { status: record.status });
}

async function mustFind(scope: OrganizationScope, reservationId: string): Promise<ReservationRecord> {
  const record = await findReservation(scope, { reservationId });
  if (!record) throw new ReservationNotFoundError(`reservation ${reservationId} does not exist`, { reservation_id: reservationId });
  return record;
}

interface ReservationRow {
  id: string;
  order_id: string;
  status: ReservationStatus;
  items: ReservationLine[];
  allocations: ReservationAllocation[];
  request_fingerprint: string;
  expires_at: string | Date | null;
  release_reason: string | null;
  transitions: ReservationTransition[];
  created_at: string | Date;
}

function toRecord(r: ReservationRow): ReservationRecord {
  return {
    reservationId: r.id,
    orderId: r.order_id,
    status: r.status,
    items: r.items,
    allocations: r.allocations,
    expiresAt: r.expires_at ? toDate(r.expires_at) : null,
    releaseReason: r.release_reason,
    fingerprint: r.request_fingerprint,
    transitions: r.transitions,
    createdAt: toDate(r.created_at),
  };
}
