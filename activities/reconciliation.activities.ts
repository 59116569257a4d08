import { Context } from '@temporalio/activity';
import type { Orm } from '../services/db/orm.ts';
import { scopeTo } from '../services/inventory/organization-scope.ts';
import {
  beginReconciliation,
  finishReconciliation,
  recordDrift,
  scanChunkForDrift,
  scanForDrift,
  type FinishedReconciliation,
  type NewReconciliation,
  type ScannedChunk,
  type ScannedPage,
  type StockKey,
} from '../services/inventory/reconciliation/reconciliation.ts';
import { listOrganizationsWithStock } from '../services/inventory/reconciliation/organizations.store.ts';
import { asApplicationFailure } from './failures.ts';
import type { StockDrift } from '../services/inventory/vocabulary.ts';

/**
 * The most candidate ids one chunk answers (about 200 KB of JSON): a result goes into the workflow's history,
 * and Temporal refuses a payload over 2 MB, which a chunk of tens of thousands of drifted rows would exceed.
 */
const maxCandidatesPerChunk = 5000;

/**
 * The reconciliation workflow's steps. Scans only read; recording a drift (and repairing it, when
 * asked) is idempotent by (reconciliation, stock row), so Temporal's retries change nothing twice.
 * The long ones (a chunk or page of rows, the list of organizations) heartbeat while they run, so a chunk lost
 * with its worker is noticed after the heartbeat timeout rather than its 2-minute start-to-close.
 */
export function createReconciliationActivities({ orm, systemOrm }: { orm: Orm; systemOrm: Orm }) {
  const scope = (organizationId: string) => scopeTo(orm.em, organizationId);
  return {
    async listOrganizationsToReconcile(after: string | null, limit: number): Promise<string[]> {
      // Across organizations: the system role's pool.
      const list = () => listOrganizationsWithStock(systemOrm.em.fork(), after, limit);
      return await heartbeating(() => asApplicationFailure(list));
    },
    async beginReconciliation(organizationId: string, run: NewReconciliation): Promise<void> {
      await asApplicationFailure(() => beginReconciliation(scope(organizationId), run));
    },
    /** The next chunk of stock rows, in key order, rebuilt and compared in one statement; returns the rows that differ. */
    async scanStockChunkForDrift(organizationId: string, after: StockKey | null, limit: number): Promise<ScannedChunk> {
      const scan = () => scanChunkForDrift(scope(organizationId), after, limit, maxCandidatesPerChunk);
      return await heartbeating(() => asApplicationFailure(scan));
    },
    /**
     * One page of stock rows by id rebuilt and compared; returns the rows that differ (nothing is written). What
     * reconciliations started before the chunked scan still call.
     */
    async scanStockForDrift(organizationId: string, after: string | null, limit: number): Promise<ScannedPage> {
      return await heartbeating(() => asApplicationFailure(() => scanForDrift(scope(organizationId), after, limit)));
    },
    /** Checks the candidates again; records, announces and (with repair) repairs the rows that still differ. */
    async recordStockDrift(
      organizationId: string,
      reconciliationId: string,
      stockIds: string[],
      repair: boolean,
    ): Promise<StockDrift[]> {
      return await heartbeating(() =>
        asApplicationFailure(() => recordDrift(scope(organizationId), reconciliationId, stockIds, repair)),
      );
    },
    async finishReconciliation(organizationId: string, run: FinishedReconciliation): Promise<void> {
      await asApplicationFailure(() => finishReconciliation(scope(organizationId), run));
    },
  };
}

/**
 * Runs one long statement while telling Temporal, every second, that this attempt is alive (a chunk's
 * rebuild is one SQL statement: the beat says the worker lives, not how far the statement got). The SDK throttles
 * what it sends to the server.
 */
async function heartbeating<T>(fn: () => Promise<T>): Promise<T> {
  const context = Context.current();
  context.heartbeat();
  const beat = setInterval(() => context.heartbeat(), 1000);
  try {
    return await fn();
  } finally {
    clearInterval(beat);
  }
}
