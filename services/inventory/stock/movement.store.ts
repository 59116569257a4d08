import type { OrganizationScope, ScopedTransaction } from '../organization-scope.ts';
import { warehouseCondition } from '../organization-scope.ts';
import { decodeCursor, toPage, type Page } from '../pagination.ts';
import { toDate } from '../sql-values.ts';
import type { ReasonCode } from './adjustment-reasons.ts';
import type { RecordedMovement } from './ledger.ts';
import type { MovementType, Quantities, Reference } from '../vocabulary.ts';
import { firstRow } from '../../guaranteed.ts';

/**
 * The ledger's rows (stock_movement): the one row type, its mapping to RecordedMovement, the insert the
 * ledger makes and the reads, newest first with keyset pagination. Every function takes an open
 * transaction (`scope.transaction`), so row-level security sees the organization; the explicit
 * `organization_id = ?` stays as a second layer and for the indexes.
 *
 * Hand-written SQL, not the StockMovement entity: the insert is `returning *` in one round trip inside
 * the ledger's hot path, and the reads page on (created_at, id) with microsecond cursors, which
 * `to_char(…)` keeps exact where a JS Date would round them away. Rows are append-only, so the identity
 * map would only hold copies nobody changes.
 */

/** The warehouses a caller may see (an operator's token scope): all of them when `warehouseIds` is undefined. */
type VisibleWarehouses = Pick<OrganizationScope, 'warehouseIds'>;

/** A stock_movement row as raw SQL returns it. */
export interface MovementRow {
  id: string;
  operation_key: string;
  stock_id: string;
  variant_id: string;
  warehouse_id: string;
  type: MovementType;
  total_delta: number;
  available_delta: number;
  reserved_delta: number;
  damaged_delta: number;
  in_transit_delta: number;
  incoming_delta: number;
  total_after: number;
  available_after: number;
  reserved_after: number;
  damaged_after: number;
  in_transit_after: number;
  incoming_after: number;
  reason: string | null;
  reason_code: ReasonCode | null;
  purchase_order_id: string | null;
  order_id: string | null;
  reference_type: Reference['type'] | null;
  reference_id: string | null;
  actor: string;
  workflow_id: string | null;
  location_id: string | null;
  created_at: string | Date;
}

export function toRecordedMovement(r: MovementRow): RecordedMovement {
  return {
    id: r.id,
    operationKey: r.operation_key,
    stockId: r.stock_id,
    variantId: r.variant_id,
    warehouseId: r.warehouse_id,
    type: r.type,
    deltas: {
      total: r.total_delta,
      available: r.available_delta,
      reserved: r.reserved_delta,
      damaged: r.damaged_delta,
      inTransit: r.in_transit_delta,
      incoming: r.incoming_delta,
    },
    after: {
      total: r.total_after,
      available: r.available_after,
      reserved: r.reserved_after,
      damaged: r.damaged_after,
      inTransit: r.in_transit_after,
      incoming: r.incoming_after,
    },
    reason: r.reason,
    reasonCode: r.reason_code,
    purchaseOrderId: r.purchase_order_id,
    orderId: r.order_id,
    reference: r.reference_type && r.reference_id ? { type: r.reference_type, id: r.reference_id } : null,
    actor: r.actor,
    workflowId: r.workflow_id,
    locationId: r.location_id,
    createdAt: toDate(r.created_at),
  };
}

/** What the ledger writes for one applied change: the signed deltas and the row's quantities after them. */
export interface NewMovement {
  operationKey: string;
  stockId: string;
  variantId: string;
  warehouseId: string;
  type: MovementType;
  deltas: Quantities;
  after: Quantities;
  reason: string | null;
  reasonCode: ReasonCode | null;
  purchaseOrderId: string | null;
  orderId: string | null;
  reference: Reference | null;
  actor: string;
  workflow: { workflowId: string; runId: string } | null;
  locationId: string | null;
}

/** Appends one movement; a used operation key is a unique violation (the ledger's advisory lock prevents it). */
export async function insertMovement(tx: ScopedTransaction, m: NewMovement): Promise<RecordedMovement> {
  const rows = await tx.em.execute<MovementRow[]>(
    `insert into stock_movement (
       organization_id, stock_id, variant_id, warehouse_id, type,
       total_delta, available_delta, reserved_delta, damaged_delta, in_transit_delta, incoming_delta,
       total_after, available_after, reserved_after, damaged_after, in_transit_after, incoming_after,
       reason, reason_code, purchase_order_id, order_id, reference_type, reference_id,
       actor, workflow_id, workflow_run_id, operation_key, location_id)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     returning *`,
    // biome-ignore format: the values line up with the column list above, row by row
    [
      tx.organizationId, m.stockId, m.variantId, m.warehouseId, m.type,
      m.deltas.total, m.deltas.available, m.deltas.reserved, m.deltas.damaged, m.deltas.inTransit, m.deltas.incoming,
      m.after.total, m.after.available, m.after.reserved, m.after.damaged, m.after.inTransit, m.after.incoming,
      m.reason, m.reasonCode, m.purchaseOrderId, m.orderId, m.reference?.type ?? null, m.reference?.id ?? null,
      m.actor, m.workflow?.workflowId ?? null, m.workflow?.runId ?? null, m.operationKey, m.locationId,
    ],
  );
  return toRecordedMovement(firstRow(rows, 'insert into stock_movement'));
}

/** The movements recorded under these operation keys (a replayed operation's first outcome). */
export async function movementsByOperationKeys(tx: ScopedTransaction, keys: string[]): Promise<RecordedMovement[]> {
  const rows = await tx.em.execute<MovementRow[]>(
    'select * from stock_movement where organization_id = ? and operation_key in (?)',
    [tx.organizationId, keys],
  );
  return rows.map(toRecordedMovement);
}

export interface MovementFilter {
  variantId?: string;
  warehouseId?: string;
  type?: string;
  referenceType?: string;
  referenceId?: string;
  /** Every movement made for one order (its holds, releases, fulfilment, returns). */
  orderId?: string;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

/** Movements matching the filter, newest first, one page at a time. */
export async function pageMovements(
  tx: ScopedTransaction,
  visible: VisibleWarehouses,
  filter: MovementFilter,
  limit: number,
  cursor?: string,
): Promise<Page<RecordedMovement>> {
  const where = ['organization_id = ?'];
  const params: unknown[] = [tx.organizationId];
  const equal: [string, string | undefined][] = [
    ['variant_id', filter.variantId],
    ['warehouse_id', filter.warehouseId],
    ['type', filter.type],
    ['reference_type', filter.referenceType],
    ['reference_id', filter.referenceId],
    ['order_id', filter.orderId],
  ];
  for (const [column, value] of equal) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  const inScope = warehouseCondition(visible, 'warehouse_id');
  if (inScope) {
    where.push(inScope.sql);
    params.push(...inScope.params);
  }
  if (filter.from) {
    where.push('created_at >= ?');
    params.push(filter.from);
  }
  if (filter.to) {
    where.push('created_at < ?');
    params.push(filter.to);
  }
  if (cursor) {
    const [createdAt, id] = decodeCursor(cursor, ['timestamp', 'uuid']);
    // The cursor keeps the timestamp as text with microseconds: a JS Date would round them away.
    where.push('(created_at, id) < (?::timestamptz, ?::uuid)');
    params.push(createdAt, id);
  }
  const rows = await tx.em.execute<(MovementRow & { created_at_exact: string })[]>(
    `select *, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at_exact
     from stock_movement where ${where.join(' and ')} order by created_at desc, id desc limit ?`,
    [...params, limit + 1],
  );
  return toPage(rows, limit, (r) => [r.created_at_exact, r.id], toRecordedMovement);
}

/** One movement by id, or null (also when the caller's warehouse scope does not show it). */
export async function movementById(
  tx: ScopedTransaction,
  visible: VisibleWarehouses,
  movementId: string,
): Promise<RecordedMovement | null> {
  const inScope = warehouseCondition(visible, 'warehouse_id');
  const [row] = await tx.em.execute<MovementRow[]>(
    `select * from stock_movement where organization_id = ? and id = ? ${inScope ? `and ${inScope.sql}` : ''}`,
    [tx.organizationId, movementId, ...(inScope?.params ?? [])],
  );
  return row ? toRecordedMovement(row) : null;
}

/** The last movement of a stock row at or before `at`, or null before its first. */
export async function lastMovementAtOrBefore(
  tx: ScopedTransaction,
  variantId: string,
  warehouseId: string,
  at: Date,
): Promise<RecordedMovement | null> {
  const [row] = await tx.em.execute<MovementRow[]>(
    `select * from stock_movement where organization_id = ? and variant_id = ? and warehouse_id = ? and created_at <= ?
     order by created_at desc, id desc limit 1`,
    [tx.organizationId, variantId, warehouseId, at],
  );
  return row ? toRecordedMovement(row) : null;
}
