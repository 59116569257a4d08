import type { ScopedTransaction } from '../organization-scope.ts';
import type { ReconciliationStatus } from './reconciliation.entity.ts';
import { decodeCursor, toPage, type Page } from '../pagination.ts';
import { toDate } from '../sql-values.ts';
import type { Difference, SnakeQuantities, StockDrift } from '../vocabulary.ts';
import { firstRow, itemAt } from '../../guaranteed.ts';

/**
 * Reconciliation's data: runs (`reconciliation`), the drifts they record (`stock_drift`), the rebuild
 * of stock rows from their ledger and open holds, and the repair of a row to its ledger. Every call
 * takes a transaction bound to the organization and names the organization in its conditions.
 *
 * Hand-written SQL throughout, and why:
 *   - a rebuild is one statement (CTEs over stock, stock_movement, reservation and transfer with
 *     jsonb expansion), so it reads one consistent snapshot; no query builder says it more plainly. The
 *     first pass rebuilds a key range of rows (`compareRange`), with row comparisons on
 *     (variant_id, warehouse_id) that the stock key and the ledger's index serve as range scans;
 *   - recording is idempotent by `on conflict do nothing` (a run by its id, a drift by (run, row));
 *   - ending a run and repairing a row are guarded updates (`status = 'running'`, `version = ?`);
 *   - the runs' keyset cursor needs `started_at` to the microsecond, which a JavaScript Date drops;
 *   - the organization-wide advisory lock that keeps one run at a time.
 * Reads stay SQL as well, so that no read answers from an identity map a row these statements changed.
 * The Reconciliation and StockDrift entities remain the schema's definition (migrations).
 */

const quantityColumns = ['total', 'available', 'reserved', 'damaged', 'in_transit', 'incoming'] as const;

/** A stock row with what should have produced it: the sums of its movements and its open holds. */
export interface RebuiltStock {
  stockId: string;
  variantId: string;
  warehouseId: string;
  version: number;
  thresholds: { minStock: number; maxStock: number; reorderPoint: number };
  recorded: SnakeQuantities;
  ledger: SnakeQuantities;
  holds: { reserved: number; in_transit: number };
}

export interface ReconciliationRecord {
  reconciliationId: string;
  trigger: 'schedule' | 'request';
  repair: boolean;
  status: ReconciliationStatus;
  rowsChecked: number;
  drifted: number;
  repaired: number;
  requestedBy: string | null;
  failure: string | null;
  workflowId: string;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface NewReconciliation {
  reconciliationId: string;
  trigger: 'schedule' | 'request';
  repair: boolean;
  requestedBy?: string;
  workflowId: string;
}

export interface FinishedReconciliation {
  reconciliationId: string;
  status: 'completed' | 'failed';
  rowsChecked: number;
  drifted: number;
  repaired: number;
  failure?: string;
}

/** A run still recorded as running, and whether it started within the grace period (its workflow may not exist yet). */
export interface RunningReconciliation {
  reconciliationId: string;
  workflowId: string;
  starting: boolean;
}

/** A stock row's unique key within its organization, in the order the chunked scan walks the rows. */
export interface StockKey {
  variantId: string;
  warehouseId: string;
}

/** How many rows of a key range were rebuilt, and the ids of those that differ from their rebuild. */
export interface ComparedRange {
  checked: number;
  candidates: string[];
}

/** The sums of a row's movements, one column per quantity (over `stock_movement m`). */
const ledgerSums = quantityColumns.map((q) => `sum(m.${q}_delta)::int as ${q}`).join(', ');

/**
 * What the organization's open reservations and transfers hold, by (variant, warehouse); two parameters, the
 * organization twice. Aggregated once per statement, whatever the number of stock rows it rebuilds.
 */
const openHolds = `
  select variant_id, warehouse_id, sum(reserved)::int as reserved, sum(in_transit)::int as in_transit from (
    select (a->>'variant_id')::uuid as variant_id, (a->>'warehouse_id')::uuid as warehouse_id,
           (a->>'quantity')::int as reserved, 0 as in_transit
    from reservation v cross join lateral jsonb_array_elements(v.allocations) a
    where v.organization_id = ? and v.status in ('active', 'confirmed')
    union all
    select (l->>'variant_id')::uuid, t.origin_warehouse_id,
           case when t.status = 'reserved'
             then (l->>'quantity')::int - (l->>'received')::int - (l->>'damaged')::int else 0 end,
           case when t.status = 'in_transit'
             then (l->>'quantity')::int - (l->>'received')::int - (l->>'damaged')::int else 0 end
    from transfer t cross join lateral jsonb_array_elements(t.lines) l
    where t.organization_id = ? and t.status in ('reserved', 'in_transit')
  ) open_holds group by variant_id, warehouse_id`;

/**
 * True when a rebuilt row (`r` the stock row, `l` its ledger sums, `h` its holds) differs from its ledger or
 * its holds: the SQL twin of `differencesOf` (reconciliation.ts), which the second pass applies to the same rows.
 */
const differs = [
  ...quantityColumns.map((q) => `r.${q} <> coalesce(l.${q}, 0)`),
  ...(['reserved', 'in_transit'] as const).map((q) => `r.${q} <> coalesce(h.${q}, 0)`),
].join(' or ');

/**
 * Where the chunk of the next `limit` rows after `after` (by key) ends: its last row's key, or null when no
 * row follows that one (the chunk then runs to the end). An index-only walk of the stock key.
 */
export async function chunkEnd(tx: ScopedTransaction, after: StockKey | null, limit: number): Promise<StockKey | null> {
  const lower = keyBound('', '>', after);
  const rows = await tx.em.execute<{ variant_id: string; warehouse_id: string }[]>(
    `select variant_id, warehouse_id from stock where organization_id = ? ${lower.sql}
     order by variant_id, warehouse_id offset ? limit 2`,
    [tx.organizationId, ...lower.params, limit - 1],
  );
  const [end, next] = rows;
  return end && next ? { variantId: end.variant_id, warehouseId: end.warehouse_id } : null;
}

/**
 * Rebuilds every stock row with a key in (`after`, `upTo`] (null: unbounded) in one statement: one GROUP BY
 * over that key range of the ledger (an index-only range scan of stock_movement_variant_ledger_index), the
 * open holds aggregated once, joined to the rows; returns only the count and the rows that differ. Reads only.
 */
export async function compareRange(
  tx: ScopedTransaction,
  after: StockKey | null,
  upTo: StockKey | null,
): Promise<ComparedRange> {
  const bounds = (column: string) => {
    const lower = keyBound(column, '>', after);
    const upper = keyBound(column, '<=', upTo);
    return { sql: `${lower.sql} ${upper.sql}`, params: [...lower.params, ...upper.params] };
  };
  const stock = bounds('');
  const ledger = bounds('m.');
  const rows = await tx.em.execute<{ checked: string; candidates: string[] }[]>(
    `with rows as (
       select id, variant_id, warehouse_id, ${quantityColumns.join(', ')}
       from stock where organization_id = ? ${stock.sql}
     ),
     ledger as (
       select m.variant_id, m.warehouse_id, ${ledgerSums}
       from stock_movement m where m.organization_id = ? ${ledger.sql}
       group by m.variant_id, m.warehouse_id
     ),
     holds as (${openHolds})
     select count(*) as checked, coalesce(json_agg(r.id) filter (where ${differs}), '[]') as candidates
     from rows r
     left join ledger l on l.variant_id = r.variant_id and l.warehouse_id = r.warehouse_id
     left join holds h on h.variant_id = r.variant_id and h.warehouse_id = r.warehouse_id`,
    [tx.organizationId, ...stock.params, tx.organizationId, ...ledger.params, tx.organizationId, tx.organizationId],
  );
  const { checked, candidates } = firstRow(rows, 'the range comparison');
  return { checked: Number(checked), candidates };
}

/**
 * Lets the transaction's statements run up to `ms` (instead of the session's DB_STATEMENT_TIMEOUT_MS), until the
 * transaction ends.
 */
export async function allowStatementsFor(tx: ScopedTransaction, ms: number): Promise<void> {
  await tx.em.execute("select set_config('statement_timeout', ?, true)", [String(ms)]);
}

/** `and (variant_id, warehouse_id) <op> (key)` for a row comparison the (organization, variant, warehouse) indexes serve. */
function keyBound(prefix: string, op: '>' | '<=', key: StockKey | null): { sql: string; params: string[] } {
  if (!key) return { sql: '', params: [] };
  return {
    sql: `and (${prefix}variant_id, ${prefix}warehouse_id) ${op} (?::uuid, ?::uuid)`,
    params: [key.variantId, key.warehouseId],
  };
}

/** One page of the organization's stock rows after `after` (by id), rebuilt. Reads only. */
export function rebuildPage(tx: ScopedTransaction, after: string | null, limit: number): Promise<RebuiltStock[]> {
  return rebuild(tx, `id > coalesce(?::uuid, '00000000-0000-0000-0000-000000000000')`, [after, limit]);
}

/** These stock rows, rebuilt. Reads only. */
export function rebuildRows(tx: ScopedTransaction, stockIds: string[]): Promise<RebuiltStock[]> {
  return rebuild(tx, 'id in (?)', [stockIds, stockIds.length]);
}

async function rebuild(tx: ScopedTransaction, where: string, params: unknown[]): Promise<RebuiltStock[]> {
  const rows = await tx.em.execute<RebuiltRow[]>(
    `with rows as (
       select id, organization_id, variant_id, warehouse_id, version, min_stock, max_stock, reorder_point,
              total, available, reserved, damaged, in_transit, incoming
       from stock where organization_id = ? and ${where} order by id limit ?
     ),
     ledger as (
       select m.variant_id, m.warehouse_id, ${ledgerSums}
       from stock_movement m
       join rows r on m.organization_id = r.organization_id
                    and m.variant_id = r.variant_id and m.warehouse_id = r.warehouse_id
       group by m.variant_id, m.warehouse_id
     ),
     holds as (${openHolds})
     select r.id, r.variant_id, r.warehouse_id, r.version, r.min_stock, r.max_stock, r.reorder_point,
            r.total, r.available, r.reserved, r.damaged, r.in_transit, r.incoming,
            coalesce(l.total, 0) as ledger_total, coalesce(l.available, 0) as ledger_available,
            coalesce(l.reserved, 0) as ledger_reserved, coalesce(l.damaged, 0) as ledger_damaged,
            coalesce(l.in_transit, 0) as ledger_in_transit, coalesce(l.incoming, 0) as ledger_incoming,
            coalesce(h.reserved, 0) as holds_reserved, coalesce(h.in_transit, 0) as holds_in_transit
     from rows r
     left join ledger l on l.variant_id = r.variant_id and l.warehouse_id = r.warehouse_id
     left join holds h on h.variant_id = r.variant_id and h.warehouse_id = r.warehouse_id
     order by r.id`,
    [tx.organizationId, ...params, tx.organizationId, tx.organizationId],
  );
  return rows.map(toRebuilt);
}

/** Records a drift of the run; false (nothing written) when the run recorded that row already. */
export async function insertDrift(
  tx: ScopedTransaction,
  reconciliationId: string,
  drift: StockDrift,
): Promise<boolean> {
  const inserted = await tx.em.execute<{ id: string }[]>(
    `insert into stock_drift (reconciliation_id, organization_id, stock_id, variant_id, warehouse_id,
                              recorded, expected, differences, repaired, repair_note)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (reconciliation_id, stock_id) do nothing returning id`,
    [
      reconciliationId,
      tx.organizationId,
      drift.stockId,
      drift.variantId,
      drift.warehouseId,
      JSON.stringify(drift.recorded),
      JSON.stringify(drift.expected),
      JSON.stringify(drift.differences),
      drift.repaired,
      drift.repairNote,
    ],
  );
  return inserted.length > 0;
}

/** Records the outcome of the drift's repair. */
export async function noteRepair(
  tx: ScopedTransaction,
  reconciliationId: string,
  drift: Pick<StockDrift, 'stockId' | 'repaired' | 'repairNote'>,
): Promise<void> {
  await tx.em.execute(
    `update stock_drift set repaired = ?, repair_note = ?
     where organization_id = ? and reconciliation_id = ? and stock_id = ?`,
    [drift.repaired, drift.repairNote, tx.organizationId, reconciliationId, drift.stockId],
  );
}

/** The drift the run recorded for that stock row (it must exist). */
export async function findDrift(tx: ScopedTransaction, reconciliationId: string, stockId: string): Promise<StockDrift> {
  const [row] = await tx.em.execute<DriftRow[]>(
    'select * from stock_drift where organization_id = ? and reconciliation_id = ? and stock_id = ?',
    [tx.organizationId, reconciliationId, stockId],
  );
  if (!row) throw new Error(`reconciliation ${reconciliationId} recorded no drift of stock row ${stockId}`);
  return toDrift(row);
}

/** One page of the run's drifts by stock row id. */
export async function listDriftsOf(
  tx: ScopedTransaction,
  reconciliationId: string,
  limit: number,
  cursor?: string,
): Promise<Page<StockDrift>> {
  const after = cursor ? itemAt(decodeCursor(cursor, ['uuid']), 0, 'the drift cursor') : null;
  const rows = await tx.em.execute<DriftRow[]>(
    `select * from stock_drift where organization_id = ? and reconciliation_id = ?
       and stock_id > coalesce(?::uuid, '00000000-0000-0000-0000-000000000000') order by stock_id limit ?`,
    [tx.organizationId, reconciliationId, after, limit + 1],
  );
  return toPage(rows, limit, (r) => [r.stock_id], toDrift);
}

/**
 * Puts the stock row to these quantities unless it changed since it was read (its version): returns
 * the new version, or undefined when the guard held it back. The one stock write outside the ledger:
 * a repair restores the row to what its ledger says, so there is no movement to record.
 */
export async function restoreStockRow(
  tx: ScopedTransaction,
  row: RebuiltStock,
  quantities: SnakeQuantities,
): Promise<number | undefined> {
  const [updated] = await tx.em.execute<{ version: number }[]>(
    `update stock set total = ?, available = ?, reserved = ?, damaged = ?, in_transit = ?, incoming = ?,
            version = version + 1, updated_at = clock_timestamp()
     where organization_id = ? and id = ? and version = ? returning version`,
    [...quantityColumns.map((q) => quantities[q]), tx.organizationId, row.stockId, row.version],
  );
  return updated?.version;
}

/** Records a run as running. Idempotent by its id. */
export async function insertRun(tx: ScopedTransaction, run: NewReconciliation): Promise<void> {
  await tx.em.execute(
    `insert into reconciliation (id, organization_id, trigger, repair, status, requested_by, workflow_id)
     values (?, ?, ?, ?, 'running', ?, ?) on conflict (id) do nothing`,
    [run.reconciliationId, tx.organizationId, run.trigger, run.repair, run.requestedBy ?? null, run.workflowId],
  );
}

/** Records how a run ended, unless it has ended already. */
export async function finishRun(tx: ScopedTransaction, run: FinishedReconciliation): Promise<void> {
  await tx.em.execute(
    `update reconciliation set status = ?, rows_checked = ?, drifted = ?, repaired = ?, failure = ?, finished_at = now()
     where organization_id = ? and id = ? and status = 'running'`,
    [
      run.status,
      run.rowsChecked,
      run.drifted,
      run.repaired,
      run.failure ?? null,
      tx.organizationId,
      run.reconciliationId,
    ],
  );
}

/** The run, or undefined. */
export async function findRun(
  tx: ScopedTransaction,
  reconciliationId: string,
): Promise<ReconciliationRecord | undefined> {
  const [row] = await tx.em.execute<ReconciliationRow[]>(
    'select * from reconciliation where organization_id = ? and id = ?',
    [tx.organizationId, reconciliationId],
  );
  return row ? toRecord(row) : undefined;
}

/** One page of the organization's runs, newest first. */
export async function listRuns(
  tx: ScopedTransaction,
  limit: number,
  cursor?: string,
): Promise<Page<ReconciliationRecord>> {
  const params: unknown[] = [tx.organizationId];
  let after = '';
  if (cursor) {
    const [startedAt, id] = decodeCursor(cursor, ['timestamp', 'uuid']);
    after = 'and (started_at, id) < (?::timestamptz, ?::uuid)';
    params.push(startedAt, id);
  }
  const rows = await tx.em.execute<(ReconciliationRow & { started_at_exact: string })[]>(
    `select *, to_char(started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as started_at_exact
     from reconciliation where organization_id = ? ${after} order by started_at desc, id desc limit ?`,
    [...params, limit + 1],
  );
  return toPage(rows, limit, (r) => [r.started_at_exact, r.id], toRecord);
}

/**
 * Takes the organization's reconciliation lock until the transaction ends (a transaction-level advisory
 * lock), so two callers cannot both find no run and both start one.
 */
export async function lockRunsOfOrganization(tx: ScopedTransaction): Promise<void> {
  await tx.em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`reconciliation/${tx.organizationId}`]);
}

/** The runs recorded as running, newest first; `starting` when one began less than `graceSeconds` ago. */
export async function runningRuns(tx: ScopedTransaction, graceSeconds: number): Promise<RunningReconciliation[]> {
  const rows = await tx.em.execute<{ id: string; workflow_id: string; starting: boolean }[]>(
    `select id, workflow_id, started_at > now() - make_interval(secs => ?) as starting
     from reconciliation where organization_id = ? and status = 'running' order by started_at desc`,
    [graceSeconds, tx.organizationId],
  );
  return rows.map((r) => ({ reconciliationId: r.id, workflowId: r.workflow_id, starting: r.starting }));
}

interface RebuiltRow {
  id: string;
  variant_id: string;
  warehouse_id: string;
  version: number;
  min_stock: number;
  max_stock: number;
  reorder_point: number;
  total: number;
  available: number;
  reserved: number;
  damaged: number;
  in_transit: number;
  incoming: number;
  ledger_total: number;
  ledger_available: number;
  ledger_reserved: number;
  ledger_damaged: number;
  ledger_in_transit: number;
  ledger_incoming: number;
  holds_reserved: number;
  holds_in_transit: number;
}

interface ReconciliationRow {
  id: string;
  trigger: 'schedule' | 'request';
  repair: boolean;
  status: ReconciliationStatus;
  rows_checked: number;
  drifted: number;
  repaired: number;
  requested_by: string | null;
  failure: string | null;
  workflow_id: string;
  started_at: string | Date;
  finished_at: string | Date | null;
}

interface DriftRow {
  stock_id: string;
  variant_id: string;
  warehouse_id: string;
  recorded: SnakeQuantities;
  expected: StockDrift['expected'];
  differences: Difference[];
  repaired: boolean;
  repair_note: string | null;
}

function toRebuilt(r: RebuiltRow): RebuiltStock {
  return {
    stockId: r.id,
    variantId: r.variant_id,
    warehouseId: r.warehouse_id,
    version: r.version,
    thresholds: { minStock: r.min_stock, maxStock: r.max_stock, reorderPoint: r.reorder_point },
    recorded: Object.fromEntries(quantityColumns.map((q) => [q, r[q]])) as SnakeQuantities,
    ledger: Object.fromEntries(quantityColumns.map((q) => [q, r[`ledger_${q}`]])) as SnakeQuantities,
    holds: { reserved: r.holds_reserved, in_transit: r.holds_in_transit },
  };
}

function toRecord(r: ReconciliationRow): ReconciliationRecord {
  return {
    reconciliationId: r.id,
    trigger: r.trigger,
    repair: r.repair,
    status: r.status,
    rowsChecked: r.rows_checked,
    drifted: r.drifted,
    repaired: r.repaired,
    requestedBy: r.requested_by,
    failure: r.failure,
    workflowId: r.workflow_id,
    startedAt: toDate(r.started_at),
    finishedAt: r.finished_at ? toDate(r.finished_at) : null,
  };
}

function toDrift(r: DriftRow): StockDrift {
  return {
    stockId: r.stock_id,
    variantId: r.variant_id,
    warehouseId: r.warehouse_id,
    recorded: r.recorded,
    expected: r.expected,
    differences: r.differences,
    repaired: r.repaired,
    repairNote: r.repair_note,
  };
}
