import type { OrganizationScope, ScopedTransaction } from '../organization-scope.ts';
import { enqueueEvent } from '../../messaging/outbox.store.ts';
import { thresholdEvents } from '../stock/stock-thresholds.ts';
import { ReconciliationNotFoundError } from '../errors.ts';
import type { Page } from '../pagination.ts';
import {
  findDrift,
  findRun,
  finishRun,
  insertDrift,
  insertRun,
  listDriftsOf,
  listRuns,
  rebuildPage,
  allowStatementsFor,
  chunkEnd,
  compareRange,
  noteRepair,
  rebuildRows,
  restoreStockRow,
  type FinishedReconciliation,
  type NewReconciliation,
  type RebuiltStock,
  type ReconciliationRecord,
  type StockKey,
} from './reconciliation.store.ts';
import type { Difference, StockDrift } from '../vocabulary.ts';
import { itemAt } from '../../guaranteed.ts';

export type {
  FinishedReconciliation,
  NewReconciliation,
  ReconciliationRecord,
  StockKey,
} from './reconciliation.store.ts';

/**
 * Reconciliation rebuilds each stock row from what should have produced it and compares:
 *   - the ledger: the sum of the row's movements must equal every quantity of the row;
 *   - the open holds: `reserved` must equal what active and confirmed reservations and reserved
 *     transfers hold there, and `in_transit` what shipped transfers still carry from there.
 * Each rebuild is one SQL statement (reconciliation.store.ts), so it reads one consistent snapshot:
 * every stock change commits its row, its movements and its reservation or transfer row together, and
 * never shows half done. Repair (only when asked) puts a row that drifted from its ledger back to the
 * ledger's quantities; a disagreement with the holds is reported, not repaired: which side is wrong needs a person.
 * Each use case below is one transaction bound to the organization.
 */

const quantityNames = ['total', 'available', 'reserved', 'damaged', 'in_transit', 'incoming'] as const;

/** How a rebuilt row differs from its ledger and from its open holds (none when it agrees with both). */
export function differencesOf(row: RebuiltStock): Difference[] {
  const fromLedger = quantityNames
    .filter((q) => row.recorded[q] !== row.ledger[q])
    .map((q): Difference => ({ quantity: q, recorded: row.recorded[q], expected: row.ledger[q], source: 'ledger' }));
  const fromHolds = (['reserved', 'in_transit'] as const)
    .filter((q) => row.recorded[q] !== row.holds[q])
    .map((q): Difference => ({ quantity: q, recorded: row.recorded[q], expected: row.holds[q], source: 'holds' }));
  return [...fromLedger, ...fromHolds];
}

export interface ScannedPage {
  checked: number;
  /** Stock rows that differ from their rebuild now: to be checked again once things have settled. */
  candidates: string[];
  /** The last row of a full page (the next page starts after it); null at the end. */
  last: string | null;
}

/** First pass over one page of an organization's stock rows. Reads only. */
export function scanForDrift(scope: OrganizationScope, after: string | null, limit: number): Promise<ScannedPage> {
  return scope.transaction(async (tx) => {
    const rows = await rebuildPage(tx, after, limit);
    return {
      checked: rows.length,
      candidates: rows.filter((r) => differencesOf(r).length > 0).map((r) => r.stockId),
      last: rows.length === limit ? itemAt(rows, rows.length - 1, 'the scanned page').stockId : null,
    };
  });
}

/**
 * A chunk's statement reads its whole key range of the ledger: tens of thousands of rows times their movements,
 * which on a long ledger outlasts the session's statement_timeout (15 s by default). It may run for 100 s, within
 * the scanning activity's 2-minute start-to-close (workflows/activity-options.ts: pageOptions).
 */
const chunkStatementTimeoutMs = 100_000;

export interface ScannedChunk {
  checked: number;
  /** Stock rows that differ from their rebuild now: to be checked again once things have settled. */
  candidates: string[];
  /** The key of the chunk's last row when rows follow it (the next chunk starts after it); null at the end. */
  last: StockKey | null;
}

/**
 * First pass over the next chunk of an organization's stock rows, in key order: up to `limit` rows after
 * `after`, rebuilt and compared in one statement. A chunk that would answer more than `maxCandidates` rows (drift
 * everywhere) is rebuilt again over a quarter of its rows, so an answer stays small whatever the drift. Reads only.
 */
export function scanChunkForDrift(
  scope: OrganizationScope,
  after: StockKey | null,
  limit: number,
  maxCandidates: number,
): Promise<ScannedChunk> {
  return scope.transaction(async (tx) => {
    await allowStatementsFor(tx, chunkStatementTimeoutMs);
    for (let size = limit; ; size = Math.max(maxCandidates, Math.floor(size / 4))) {
      const last = await chunkEnd(tx, after, size);
      const { checked, candidates } = await compareRange(tx, after, last);
      if (candidates.length <= maxCandidates || size <= maxCandidates) return { checked, candidates, last };
    }
  });
}

/**
 * Second pass over the first pass's candidates: a row that still differs is recorded as drift and
 * announced (`inventory.stock.drift_detected`), and with `repair` a row that drifted from its ledger is
 * put back to the ledger's quantities (`inventory.stock.drift_repaired`, plus any stock-level event the
 * change crosses). One transaction; idempotent by (reconciliation, stock row).
 */
export function recordDrift(
  scope: OrganizationScope,
  reconciliationId: string,
  stockIds: string[],
  repair: boolean,
): Promise<StockDrift[]> {
  if (stockIds.length === 0) return Promise.resolve([]);
  return scope.transaction(async (tx) => {
    const drifts: StockDrift[] = [];
    for (const row of await rebuildRows(tx, stockIds)) {
      const differences = differencesOf(row);
      if (differences.length === 0) continue;
      const drift: StockDrift = {
        stockId: row.stockId,
        variantId: row.variantId,
        warehouseId: row.warehouseId,
        recorded: row.recorded,
        expected: { ledger: row.ledger, holds: row.holds },
        differences,
        repaired: false,
        repairNote: null,
      };
      if (!(await insertDrift(tx, reconciliationId, drift))) {
        // Recorded (and announced, and repaired) by an earlier attempt of this step.
        drifts.push(await findDrift(tx, reconciliationId, row.stockId));
        continue;
      }
      if (repair) {
        Object.assign(drift, await repairRow(tx, reconciliationId, row));
        await noteRepair(tx, reconciliationId, drift);
      }
      await enqueueEvent(tx, {
        name: 'inventory.stock.drift_detected',
        aggregateType: 'stock',
        aggregateId: row.stockId,
        data: { reconciliation_id: reconciliationId, ...driftJson(drift) },
      });
      drifts.push(drift);
    }
    return drifts;
  });
}

/**
 * Puts the row back to its ledger quantities, unless it changed since it was read (then it is left for
 * the next run).
 */
async function repairRow(
  tx: ScopedTransaction,
  reconciliationId: string,
  row: RebuiltStock,
): Promise<Pick<StockDrift, 'repaired' | 'repairNote'>> {
  const { ledger } = row;
  const holdsStillDiffer = ledger.reserved !== row.holds.reserved || ledger.in_transit !== row.holds.in_transit;
  const holdsNote =
    'the open reservations or transfers disagree with the ledger: ' +
    'repair the reservation or transfer (Temporal UI), not the row';
  if (quantityNames.every((q) => row.recorded[q] === ledger[q])) return { repaired: false, repairNote: holdsNote };
  const version = await restoreStockRow(tx, row, ledger);
  if (version === undefined)
    return { repaired: false, repairNote: 'the row changed while it was being repaired: run the reconciliation again' };
  const base = { stock_id: row.stockId, variant_id: row.variantId, warehouse_id: row.warehouseId };
  await enqueueEvent(tx, {
    name: 'inventory.stock.drift_repaired',
    aggregateType: 'stock',
    aggregateId: row.stockId,
    data: { reconciliation_id: reconciliationId, ...base, before: row.recorded, quantities: ledger, version },
  });
  const thresholds = {
    stockId: row.stockId,
    variantId: row.variantId,
    warehouseId: row.warehouseId,
    ...row.thresholds,
  };
  for (const event of thresholdEvents(thresholds, row.recorded.available, ledger.available)) {
    await enqueueEvent(tx, { name: event.name, aggregateType: 'stock', aggregateId: row.stockId, data: event.data });
  }
  return { repaired: true, repairNote: holdsStillDiffer ? `repaired to the ledger; ${holdsNote}` : null };
}

/** The drift as events and the REST API show it. */
export function driftJson(d: StockDrift) {
  return {
    stock_id: d.stockId,
    variant_id: d.variantId,
    warehouse_id: d.warehouseId,
    recorded: d.recorded,
    expected: d.expected,
    differences: d.differences,
    repaired: d.repaired,
    repair_note: d.repairNote,
  };
}

/** Records a run as running. Idempotent by its id (the facade and the workflow may both record it). */
export function beginReconciliation(scope: OrganizationScope, run: NewReconciliation): Promise<void> {
  return scope.transaction((tx) => insertRun(tx, run));
}

/** Records how a run ended. Idempotent: a run already ended is left as it is. */
export function finishReconciliation(scope: OrganizationScope, run: FinishedReconciliation): Promise<void> {
  return scope.transaction((tx) => finishRun(tx, run));
}

/** The run; ReconciliationNotFoundError when the organization has none with that id. */
export function findReconciliation(scope: OrganizationScope, reconciliationId: string): Promise<ReconciliationRecord> {
  return scope.transaction((tx) => requireRun(tx, reconciliationId));
}

/** The organization's reconciliations, newest first. */
export function listReconciliations(
  scope: OrganizationScope,
  limit: number,
  cursor?: string,
): Promise<Page<ReconciliationRecord>> {
  return scope.transaction((tx) => listRuns(tx, limit, cursor));
}

/** The drifts a run recorded, by stock row id, one page at a time; ReconciliationNotFoundError for an unknown run. */
export function listDrifts(
  scope: OrganizationScope,
  reconciliationId: string,
  limit: number,
  cursor?: string,
): Promise<Page<StockDrift>> {
  return scope.transaction(async (tx) => {
    await requireRun(tx, reconciliationId);
    return await listDriftsOf(tx, reconciliationId, limit, cursor);
  });
}

/** In the caller's transaction: the run, or ReconciliationNotFoundError. */
export async function requireRun(tx: ScopedTransaction, reconciliationId: string): Promise<ReconciliationRecord> {
  const run = await findRun(tx, reconciliationId);
  if (!run)
    throw new ReconciliationNotFoundError(`reconciliation ${reconciliationId} does not exist`, {
      reconciliation_id: reconciliationId,
    });
  return run;
}
