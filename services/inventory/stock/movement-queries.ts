import { warehouseCondition, type OrganizationScope } from '../organization-scope.ts';
import { decodeCursor, toPage, type Page } from '../pagination.ts';
import { toRecordedMovement, type MovementRow, type RecordedMovement } from './ledger.ts';

/** Read paths over the ledger (stock_movement), newest first. */

/** A ledger movement as the read paths return it. */
export type Movement = RecordedMovement;

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
  const inScope = warehouseCondition(scope, 'warehouse_id');
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
  const rows = await scope.em.execute<(MovementRow & { created_at_exact: string })[]>(
    `select *, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at_exact
     from stock_movement where ${where.join(' and ')} order by created_at desc, id desc limit ?`,
    [...params, limit + 1],
  );
  return toPage(rows, limit, (r) => [r.created_at_exact, r.id], toRecordedMovement);
}

/** One movement by id, or null (also when the caller's warehouse scope does not show it). */
export async function findMovement(scope: OrganizationScope, movementId: string): Promise<RecordedMovement | null> {
  const inScope = warehouseCondition(scope, 'warehouse_id');
  const [row] = await scope.em.execute<MovementRow[]>(`select * from stock_movement where organization_id = ? and id = ? ${inScope ? `and ${inScope.sql}` : ''}`, [
    scope.organizationId,
    movementId,
    ...(inScope?.params ?? []),
  ]);
  return row ? toRecordedMovement(row) : null;
}
