import type { Orm } from '../services/db/orm.ts';
import { createReservationActivities } from './reservation.activities.ts';
import { createTransferActivities } from './transfer.activities.ts';
import { createReconciliationActivities } from './reconciliation.activities.ts';
import { createRetentionActivities } from './retention.activities.ts';

export interface ActivityDeps {
  /** The runtime role's pool: every organization-bound step. */
  orm: Orm;
  /** The system role's pool: the cross-organization steps (retention, the list of organizations to reconcile). */
  systemOrm: Orm;
}

/** Every activity the worker registers, built from their dependencies. Workflows import this type only. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createReservationActivities(deps),
    ...createTransferActivities(deps),
    ...createReconciliationActivities(deps),
    ...createRetentionActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
