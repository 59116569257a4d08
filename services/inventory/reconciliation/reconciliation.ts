import type { EntityManager } from '@mikro-orm/postgresql';
import type { OrganizationScope } from '../organization-scope.ts';
import { insertOutboxEvent } from '../../messaging/outbox.ts';
import { thresholdEvents } from '../stock/stock-thresholds.ts';
import { ReconciliationNotFoundError } from '../errors.ts';
import type { ReconciliationStatus } from './reconciliation.entity.ts';
import { decodeCursor, toPage, type Page } from '../pagination.ts';
import { toDate } from '../sql-values.ts';
import type { Difference, Quantities, StockDrift } from '../../../workflows/reconciliation-definitions.ts';

/**
 * Reconciliation rebuilds each stock row from what should have produced it and compares:
 *   - the ledger: the sum of the row's movements must equal every quantity of the row;
 *   - the open holds: `reserved` must equal what active and confirmed reservations and reserved
 *     transfers hold there, and `in_transit` what shipped transfers still carry from there.
 * Each rebuild is one SQL statement, so it reads one consistent snapshot: every stock change commits
 * its row, its movements and its reservation or transfer row together, and never shows half done.
 * Repair (only when asked) puts a row that drifted from its ledger back to the ledger's quantities;
 * a disagreement with the holds is reported, not repaired: which side is wrong needs a person.
 */

const quantityColumns = ['total', 'available', 'reserved', 'damaged', 'in_transit', 'incoming'] as const;

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

/** Rows chosen by `selection` (a condition on `stock`), each with its ledger sums and open holds. */
async function rebuild(em: EntityManager, organizationId: string, selection: { after: string | null; limit: number } | { ids: string[] }): Promise<RebuiltRow[]> {
  const [where, params] =
    'ids' in selection
      ? ['id in (?)', [selection.ids, selection.ids.length]]
      : ['id > coalesce(?::uuid, \'00000000-0000-0000-0000-000000000000\')', [selection.after, selection.limit]];
  return await em.execute<RebuiltRow[]>(
    `with rows as (
       select id, organization_id, variant_id, warehouse_id, version, min_stock, max_stock, reorder_point,
              total, available, reserved, damaged, in_transit, incoming
       from stock where organization_id = ? and ${where} order by id limit ?
     ),
     ledger as (
       select m.variant_id, m.warehouse_id,
              sum(m.total_delta)::int as total, sum(m.available_delta)::int as available, sum(m.reserved_delta)::int as reserved,
              sum(m.damaged_delta)::int as damaged, sum(m.in_transit_delta)::int as in_transit, sum(m.incoming_delta)::int as incoming
       from stock_movement m join rows r on m.organization_id = r.organization_id and m.variant_id = r.variant_id and m.warehouse_id = r.warehouse_id
       group by m.variant_id, m.warehouse_id
     ),
     holds as (
       select variant_id, warehouse_id, sum(reserved)::int as reserved, sum(in_transit)::int as in_transit from (
         select (a->>'variant_id')::uuid as variant_id, (a->>'warehouse_id')::uuid as warehouse_id, (a->>'quantity')::int as reserved, 0 as in_transit
         from reservation v cross join lateral jsonb_array_elements(v.allocations) a
         where v.organization_id = ? and v.status in ('active', 'confirmed')
         union all
         select (l->>'variant_id')::uuid, t.origin_warehouse_id,
                case when t.status = 'reserved' then (l->>'quantity')::int - (l->>'received')::int - (l->>'damaged')::int else 0 end,
                case when t.status = 'in_transit' then (l->>'quantity')::int - (l->>'received')::int - (l->>'damaged')::int else 0 end
         from transfer t cross join lateral jsonb_array_elements(t.lines) l
         where t.organization_id = ? and t.status in ('reserved', 'in_transit')
       ) open_holds group by variant_id, warehouse_id
     )
     select r.id, r.variant_id, r.warehouse_id, r.version, r.min_stock, r.max_stock, r.reorder_point,
            r.total, r.available, r.reserved, r.damaged, r.in_transit, r.incoming,
            coalesce(l.total, 0) as ledger_total, coalesce(l.available, 0) as ledger_available, coalesce(l.reserved, 0) as ledger_reserved,
            coalesce(l.damaged, 0) as ledger_damaged, coalesce(l.in_transit, 0) as ledger_in_transit, coalesce(l.incoming, 0) as ledger_incoming,
            coalesce(h.reserved, 0) as holds_reserved, coalesce(h.in_transit, 0) as holds_in_transit
     from rows r
     left join ledger l on l.variant_id = r.variant_id and l.warehouse_id = r.warehouse_id
     left join holds h on h.variant_id = r.variant_id and h.warehouse_id = r.warehouse_id
     order by r.id`,
    [organizationId, ...params, organizationId, organizationId],
  );
}

function quantities(row: RebuiltRow, prefix: '' | 'ledger_' = ''): Quantities {
  return Object.fromEntries(quantityColumns.map((q) => [q, row[`${prefix}${q}`]])) as Quantities;
}

function differencesOf(row: RebuiltRow): Difference[] {
  const fromLedger = quantityColumns
    .filter((q) => row[q] !== row[`ledger_${q}`])
    .map((q): Difference => ({ quantity: q, recorded: row[q], expected: row[`ledger_${q}`], source: 'ledger' }));
  const fromHolds = (['reserved', 'in_transit'] as const)
    .filter((q) => row[q] !== row[`holds_${q}`])
    .map((q): Difference => ({ quantity: q, recorded: row[q], expected: row[`holds_${q}`], source: 'holds' }));
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
export async function scanForDrift(scope: OrganizationScope, after: string | null, limit: number): Promise<ScannedPage> {
  const rows = await rebuild(scope.em, scope.organizationId, { after, limit });
  return {
    checked: rows.length,
    candidates: rows.filter((r) => differencesOf(r).length > 0).map((r) => r.id),
    last: rows.length === limit ? rows[rows.length - 1].id : null,
  };
}

/**
 * Second pass over the first pass's candidates: a row that still differs is recorded as drift and
 * announced (`inventory.stock.drift_detected`), and with `repair` a row that drifted from its ledger is
 * put back to the ledger's quantities (`inventory.stock.drift_repaired`, plus any stock-level event the
 * change crosses). One transaction; idempotent by (reconciliation, stock row).
 */
export async function recordDrift(scope: OrganizationScope, reconciliationId: string, stockIds: string[], repair: boolean): Promise<StockDrift[]> {
  if (stockIds.length === 0) return [];
  return await scope.em.transactional(async (em) => {
    const drifts: StockDrift[] = [];
    for (const row of await rebuild(em, scope.organizationId, { ids: stockIds })) {
      const differences = differencesOf(row);
      if (differences.length === 0) continue;
      const drift: StockDrift = {
        stockId: row.id,
        variantId: row.variant_id,
        warehouseId: row.warehouse_id,
        recorded: quantities(row),
        expected: { ledger: quantities(row, 'ledger_'), holds: { reserved: row.holds_reserved, in_transit: row.holds_in_transit } },
        differences,
        repaired: false,
        repairNote: null,
      };
      const [inserted] = await em.execute<{ id: string }[]>(
        `insert into stock_drift (reconciliation_id, organization_id, stock_id, variant_id, warehouse_id, recorded, expected, differences, repaired, repair_note)
         values (?, ?, ?, ?, ?, ?, ?, ?, false, null) on conflict (reconciliation_id, stock_id) do nothing returning id`,
        [reconciliationId, scope.organizationId, row.id, row.variant_id, row.warehouse_id, JSON.stringify(drift.recorded), JSON.stringify(drift.expected), JSON.stringify(differences)],
      );
      if (!inserted) {
        // Recorded (and announced, and repaired) by an earlier attempt of this step.
        drifts.push(await findDrift(em, reconciliationId, row.id));
        continue;
      }
      if (repair) Object.assign(drift, await repairRow(em, scope.organizationId, reconciliationId, row));
      if (repair) await em.execute('update stock_drift set repaired = ?, repair_note = ? where id = ?', [drift.repaired, drift.repairNote, inserted.id]);
      await insertOutboxEvent(em, scope.organizationId, {
        name: 'inventory.stock.drift_detected',
        aggregateType: 'stock',
        aggregateId: row.id,
        data: { reconciliation_id: reconciliationId, ...driftJson(drift) },
      });
      drifts.push(drift);
    }
    return drifts;
  });
}

/** Puts the row back to its ledger quantities, unless it changed since it was read (then it is left for the next run). */
async function repairRow(em: EntityManager, organizationId: string, reconciliationId: string, row: RebuiltRow): Promise<Pick<StockDrift, 'repaired' | 'repairNote'>> {
  const ledger = quantities(row, 'ledger_');
  const holdsStillDiffer = ledger.reserved !== row.holds_reserved || ledger.in_transit !== row.holds_in_transit;
  const holdsNote = 'the open reservations or transfers disagree with the ledger: repair the reservation or transfer (Temporal UI), not the row';
  if (quantityColumns.every((q) => row[q] === ledger[q])) return { repaired: false, repairNote: holdsNote };
  const [updated] = await em.execute<{ version: number }[]>(
    `update stock set total = ?, available = ?, reserved = ?, damaged = ?, in_transit = ?, incoming = ?,
            version = version + 1, updated_at = clock_timestamp()
     where organization_id = ? and id = ? and version = ? returning version`,
    [ledger.total, ledger.available, ledger.reserved, ledger.damaged, ledger.in_transit, ledger.incoming, organizationId, row.id, row.version],
  );
  if (!updated) return { repaired: false, repairNote: 'the row changed while it was being repaired: run the reconciliation again' };
  const base = { stock_id: row.id, variant_id: row.variant_id, warehouse_id: row.warehouse_id };
  await insertOutboxEvent(em, organizationId, {
    name: 'inventory.stock.drift_repaired',
    aggregateType: 'stock',
    aggregateId: row.id,
    data: { reconciliation_id: reconciliationId, ...base, before: quantities(row), quantities: ledger, version: updated.version },
  });
  const thresholds = { stockId: row.id, variantId: row.variant_id, warehouseId: row.warehouse_id, minStock: row.min_stock, maxStock: row.max_stock, reorderPoint: row.reorder_point };
  for (const event of thresholdEvents(thresholds, row.available, ledger.available)) {
    await insertOutboxEvent(em, organizationId, { name: event.name, aggregateType: 'stock', aggregateId: row.id, data: event.data });
  }
  return { repaired: true, repairNote: holdsStillDiffer ? `repaired to the ledger; ${holdsNote}` : null };
}

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

/** Records a run as running. Idempotent by its id (the facade and the workflow may both record it). */
export async function beginReconciliation(scope: OrganizationScope, run: NewReconciliation): Promise<void> {
  await scope.em.execute(
    `insert into reconciliation (id, organization_id, trigger, repair, status, requested_by, workflow_id)
     values (?, ?, ?, ?, 'running', ?, ?) on conflict (id) do nothing`,
    [run.reconciliationId, scope.organizationId, run.trigger, run.repair, run.requestedBy ?? null, run.workflowId],
  );
}

export interface FinishedReconciliation {
  reconciliationId: string;
  status: 'completed' | 'failed';
  rowsChecked: number;
  drifted: number;
  repaired: number;
  failure?: string;
}

/** Records how a run ended. Idempotent: a run already ended is left as it is. */
export async function finishReconciliation(scope: OrganizationScope, run: FinishedReconciliation): Promise<void> {
  await scope.em.execute(
    `update reconciliation set status = ?, rows_checked = ?, drifted = ?, repaired = ?, failure = ?, finished_at = now()
     where organization_id = ? and id = ? and status = 'running'`,
    [run.status, run.rowsChecked, run.drifted, run.repaired, run.failure ?? null, scope.organizationId, run.reconciliationId],
  );
}

export async function findReconciliation(scope: OrganizationScope, reconciliationId: string): Promise<ReconciliationRecord> {
  const [row] = await scope.em.execute<ReconciliationRow[]>('select * from reconciliation where organization_id = ? and id = ?', [scope.organizationId, reconciliationId]);
  if (!row) throw new ReconciliationNotFoundError(`reconciliation ${reconciliationId} does not exist`, { reconciliation_id: reconciliationId });
  return toRecord(row);
}

/** The organization's reconciliations, newest first. */
export async function listReconciliations(scope: OrganizationScope, limit: number, cursor?: string): Promise<Page<ReconciliationRecord>> {
  const params: unknown[] = [scope.organizationId];
  let after = '';
  if (cursor) {
    const [startedAt, id] = decodeCursor(cursor, ['timestamp', 'uuid']);
    after = 'and (started_at, id) < (?::timestamptz, ?::uuid)';
    params.push(startedAt, id);
  }
  const rows = await scope.em.execute<(ReconciliationRow & { started_at_exact: string })[]>(
    `select *, to_char(started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as started_at_exact
     from reconciliation where organization_id = ? ${after} order by started_at desc, id desc limit ?`,
    [...params, limit + 1],
  );
  return toPage(rows, limit, (r) => [r.started_at_exact, r.id], toRecord);
}

/** The drifts a run recorded, by stock row id, one page at a time. */
export async function listDrifts(scope: OrganizationScope, reconciliationId: string, limit: number, cursor?: string): Promise<Page<StockDrift>> {
  await findReconciliation(scope, reconciliationId);
  const after = cursor ? decodeCursor(cursor, ['uuid'])[0]! : null;
  const rows = await scope.em.execute<DriftRow[]>(
    `select * from stock_drift where organization_id = ? and reconciliation_id = ?
       and stock_id > coalesce(?::uuid, '00000000-0000-0000-0000-000000000000') order by stock_id limit ?`,
    [scope.organizationId, reconciliationId, after, limit + 1],
  );
  return toPage(rows, limit, (r) => [r.stock_id], toDrift);
}

async function findDrift(em: EntityManager, reconciliationId: string, stockId: string): Promise<StockDrift> {
  const [row] = await em.execute<DriftRow[]>('select * from stock_drift where reconciliation_id = ? and stock_id = ?', [reconciliationId, stockId]);
  return toDrift(row);
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
  recorded: Quantities;
  expected: StockDrift['expected'];
  differences: Difference[];
  repaired: boolean;
  repair_note: string | null;
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
