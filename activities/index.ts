import type { Orm } from '../services/db/orm.ts';
import { createReservationActivities } from './reservation.activities.ts';
import { createTransferActivities } from './transfer.activities.ts';
import { createReconciliationActivities } from './reconciliation.activities.ts';
import { createRetentionActivities } from './retention.activities.ts';

export interface ActivityDeps {
  orm: Orm;
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
