import type { OrganizationScope } from './organization-scope.ts';
import { decodeCursor, toPage, type Page } from './pagination.ts';
import type { MovementType, Quantities, Reference } from './ledger.ts';
import { toDate } from './sql-values.ts';

/** Read paths over the ledger (stock_movement), newest first. */

export interface Movement {
  id: string;
  variantId: string;
  warehouseId: string;
  type: MovementType;
  deltas: Quantities;
  after: Quantities;
  reason: string | null;
  reference: Reference | null;
  actor: string;
  workflowId: string | null;
  operationKey: string;
  createdAt: Date;
}

export interface MovementFilter {
  variantId?: string;
  warehouseId?: string;
  type?: string;
  referenceType?: string;
  referenceId?: string;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

interface MovementRow {
  id: string;
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
  reference_type: Reference['type'] | null;
  reference_id: string | null;
  actor: string;
  workflow_id: string | null;
  operation_key: string;
  created_at: string | Date;
}

const toMovement = (r: MovementRow): Movement => ({
  id: r.id,
  variantId: r.variant_id,
  warehouseId: r.warehouse_id,
  type: r.type,
  deltas: { total: r.total_delta, available: r.available_delta, reserved: r.reserved_delta, damaged: r.damaged_delta, inTransit: r.in_transit_delta, incoming: r.incoming_delta },
  after: { total: r.total_after, available: r.available_after, reserved: r.reserved_after, damaged: r.damaged_after, inTransit: r.in_transit_after, incoming: r.incoming_after },
  reason: r.reason,
  reference: r.reference_type && r.reference_id ? { type: r.reference_type, id: r.reference_id } : null,
  actor: r.actor,
  workflowId: r.workflow_id,
  operationKey: r.operation_key,
  createdAt: toDate(r.created_at),
});

/** Movements matching the filter, newest first, one page at a time. */
export async function listMovements(scope: OrganizationScope, filter: MovementFilter, limit: number, cursor?: string): Promise<Page<Movement>> {
  const where = ['organization_id = ?'];
  const params: unknown[] = [scope.organizationId];
  const equal: [string, string | undefined][] = [
    ['variant_id', filter.variantId],
    ['warehouse_id', filter.warehouseId],
    ['type', filter.type],
    ['reference_type', filter.referenceType],
    ['reference_id', filter.referenceId],
  ];
  for (const [column, value] of equal) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
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
    const [createdAt, id] = decodeCursor(cursor, 2);
    // The cursor keeps the timestamp as text with microseconds: a JS Date would round them away.
    where.push('(created_at, id) < (?::timestamptz, ?::uuid)');
    params.push(createdAt, id);
  }
  const rows = await scope.em.execute<(MovementRow & { created_at_exact: string })[]>(
    `select *, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at_exact
     from stock_movement where ${where.join(' and ')} order by created_at desc, id desc limit ?`,
    [...params, limit + 1],
  );
  return toPage(rows, limit, (r) => [r.created_at_exact, r.id], toMovement);
}
