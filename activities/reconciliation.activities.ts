import type { Orm } from '../services/db/orm.ts';
import { scopeTo } from '../services/inventory/organization-scope.ts';
import {
  beginReconciliation,
  finishReconciliation,
  listOrganizationsWithStock,
  recordDrift,
  scanForDrift,
  type FinishedReconciliation,
  type NewReconciliation,
  type ScannedPage,
} from '../services/inventory/reconciliation.ts';
import type { StockDrift } from '../workflows/reconciliation-definitions.ts';
import { asApplicationFailure } from './failures.ts';

/**
 * The reconciliation workflow's steps. Scans only read; recording a drift (and repairing it, when
 * asked) is idempotent by (reconciliation, stock row), so Temporal's retries change nothing twice.
 */
export function createReconciliationActivities({ orm }: { orm: Orm }) {
  const scope = (organizationId: string) => scopeTo(orm.em, organizationId);
  return {
    async listOrganizationsToReconcile(after: string | null, limit: number): Promise<string[]> {
      return await listOrganizationsWithStock(orm.em.fork(), after, limit);
    },
    async beginReconciliation(organizationId: string, run: NewReconciliation): Promise<void> {
      await asApplicationFailure(() => beginReconciliation(scope(organizationId), run));
    },
    /** One page of stock rows rebuilt and compared; returns the rows that differ (nothing is written). */
    async scanStockForDrift(organizationId: string, after: string | null, limit: number): Promise<ScannedPage> {
      return await asApplicationFailure(() => scanForDrift(scope(organizationId), after, limit));
    },
    /** Checks the candidates again; records, announces and (with repair) repairs the rows that still differ. */
    async recordStockDrift(organizationId: string, reconciliationId: string, stockIds: string[], repair: boolean): Promise<StockDrift[]> {
      return await asApplicationFailure(() => recordDrift(scope(organizationId), reconciliationId, stockIds, repair));
    },
    async finishReconciliation(organizationId: string, run: FinishedReconciliation): Promise<void> {
      await asApplicationFailure(() => finishReconciliation(scope(organizationId), run));
    },
  };
}
