import type { OrganizationScope } from '../organization-scope.ts';
import type { Page } from '../pagination.ts';
import type { RecordedMovement } from './ledger.ts';
import { movementById, pageMovements, type MovementFilter } from './movement.store.ts';

/** Read paths over the ledger (stock_movement), newest first, each in its own transaction. */

export type { MovementFilter } from './movement.store.ts';

/** A ledger movement as the read paths return it. */
export type Movement = RecordedMovement;

/** Movements matching the filter (by order too: an order's whole stock history), newest first, one page at a time. */
export function listMovements(
  scope: OrganizationScope,
  filter: MovementFilter,
  limit: number,
  cursor?: string,
): Promise<Page<Movement>> {
  return scope.transaction((tx) => pageMovements(tx, scope, filter, limit, cursor));
}

/** One movement by id, or null (also when the caller's warehouse scope does not show it). */
export function findMovement(scope: OrganizationScope, movementId: string): Promise<Movement | null> {
  return scope.transaction((tx) => movementById(tx, scope, movementId));
}
