/**
 * Reconciliation, measured: one organization of `rows` stock rows with `movementsPerRow` receipts each (a few
 * rows drifted, so the second pass runs too), reconciled three ways, each timed from Node:
 *   - the floor: one bare GROUP BY over the organization's ledger (what any rebuild must at least read), as the
 *     observer, rows and all;
 *   - the first pass alone: `scanChunkForDrift` chunk after chunk, as the runtime role;
 *   - the on-demand workflow end to end (begin, the chunks, confirm, finish, as activities), settleSeconds 0.
 * The rounds run in alternating order (bare, scan, workflow, then the reverse), so drift in the machine's load
 * falls on all three; each figure is the median of its rounds. Part of `npm run bench` (bench/run.ts).
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { Orm } from '../services/db/orm.ts';
import { scopeTo } from '../services/inventory/organization-scope.ts';
import { scanChunkForDrift, type StockKey } from '../services/inventory/reconciliation/reconciliation.ts';
import { reconciliationLimits } from '../workflows/reconciliation-definitions.ts';
import { reconciliationWorkflow } from '../workflows/reconciliation.ts';

export interface ReconciliationFigures {
  rows: number;
  movements: number;
  drifted: number;
  rounds: number;
  bareRowsPerSecond: number;
  scanRowsPerSecond: number;
  workflowRowsPerSecond: number;
  scanToBare: number;
  workflowToBare: number;
  /** Every round's time in milliseconds, per case, in the order they ran. */
  roundMs: { bare: number[]; scan: number[]; workflow: number[] };
}

const driftedRows = 5;
const warehouses = 10;

export async function reconciliationThroughput(options: {
  observer: Orm;
  orm: Orm;
  client: Client;
  taskQueue: string;
  rows: number;
  movementsPerRow: number;
  rounds: number;
}): Promise<ReconciliationFigures> {
  const { observer, orm, client, taskQueue, rows, movementsPerRow, rounds } = options;
  const org = randomUUID();
  await loadLedger(observer, org, rows, movementsPerRow);

  const bare = () =>
    observer.em.fork().execute(
      `select variant_id, warehouse_id, sum(total_delta), sum(available_delta), sum(reserved_delta), sum(damaged_delta), sum(in_transit_delta), sum(incoming_delta)
         from stock_movement where organization_id = ? group by variant_id, warehouse_id`,
      [org],
    );
  const scan = async () => {
    let after: StockKey | null = null;
    do after = (await scanChunkForDrift(scopeTo(orm.em, org), after, reconciliationLimits.chunkSize, 5000)).last;
    while (after);
  };
  const workflow = async () => {
    const result = await client.workflow.execute(reconciliationWorkflow, {
      workflowId: `bench-recon-${randomUUID()}`,
      taskQueue,
      args: [{ organizationId: org, settleSeconds: 0 }],
    });
    if (result.rowsChecked !== rows || result.drifted !== driftedRows)
      throw new Error(
        `the bench's reconciliation checked ${result.rowsChecked} rows and found ${result.drifted} drifts`,
      );
  };
  const cases = { bare, scan, workflow };
  const seconds: Record<keyof typeof cases, number[]> = { bare: [], scan: [], workflow: [] };
  for (let round = 0; round < rounds; round += 1) {
    const order = Object.keys(cases) as (keyof typeof cases)[];
    for (const name of round % 2 === 0 ? order : order.reverse()) {
      const started = performance.now();
      await cases[name]();
      seconds[name].push((performance.now() - started) / 1000);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
  const [bareSeconds, scanSeconds, workflowSeconds] = [
    median(seconds.bare),
    median(seconds.scan),
    median(seconds.workflow),
  ];
  const round2 = (value: number) => Math.round(value * 100) / 100;
  return {
    rows,
    movements: rows * movementsPerRow,
    drifted: driftedRows,
    rounds,
    bareRowsPerSecond: Math.round(rows / bareSeconds),
    scanRowsPerSecond: Math.round(rows / scanSeconds),
    workflowRowsPerSecond: Math.round(rows / workflowSeconds),
    scanToBare: round2(bareSeconds / scanSeconds),
    workflowToBare: round2(bareSeconds / workflowSeconds),
    roundMs: {
      bare: seconds.bare.map((s) => Math.round(s * 1000)),
      scan: seconds.scan.map((s) => Math.round(s * 1000)),
      workflow: seconds.workflow.map((s) => Math.round(s * 1000)),
    },
  };
}

/**
 * The organization's warehouses, stock rows and ledger, written set-based by the observer (generate_series):
 * every row agrees with its `movementsPerRow` receipts of 3 units, except `driftedRows` rows that claim one unit
 * more. Then VACUUM ANALYZE, as autovacuum leaves an append-only ledger: statistics for the planner and the
 * visibility map that lets both the floor and the rebuild read the ledger's index alone.
 */
async function loadLedger(observer: Orm, org: string, rows: number, movementsPerRow: number): Promise<void> {
  await observer.em.fork().transactional((em) => writeLedger(em, org, rows, movementsPerRow));
  await observer.em.fork().execute('vacuum analyze stock, stock_movement');
}

async function writeLedger(em: EntityManager, org: string, rows: number, movementsPerRow: number): Promise<void> {
  // Half a million movements take longer than the pool's statement_timeout on this machine.
  await em.execute('set local statement_timeout = 0');
  await em.execute(
    `insert into warehouse (id, organization_id, code, name, region)
     select gen_random_uuid(), ?, 'R' || i, 'Bench', 'bench' from generate_series(0, ?::int - 1) i`,
    [org, warehouses],
  );
  await em.execute(
    `with w as (select id, row_number() over (order by id) - 1 as i from warehouse where organization_id = ?)
     insert into stock (organization_id, variant_id, warehouse_id, total, available)
     select ?, gen_random_uuid(), w.id, 3 * ?::int, 3 * ?::int from generate_series(0, ?::int - 1) g join w on w.i = g % ?::int`,
    [org, org, movementsPerRow, movementsPerRow, rows, warehouses],
  );
  // Receipt after receipt, as time would write them: a row's movements lie apart in the table.
  await em.execute(
    `insert into stock_movement (organization_id, stock_id, variant_id, warehouse_id, type,
       total_delta, available_delta, reserved_delta, damaged_delta, in_transit_delta, incoming_delta,
       total_after, available_after, reserved_after, damaged_after, in_transit_after, incoming_after,
       actor, operation_key, reason_code)
     select s.organization_id, s.id, s.variant_id, s.warehouse_id, 'receipt', 3, 3, 0, 0, 0, 0, 3 * k, 3 * k, 0, 0, 0, 0,
            'bench', 'bench-recon-' || k || '-' || s.id, 'receipt'
     from generate_series(1, ?::int) k cross join stock s where s.organization_id = ?
     order by k`,
    [movementsPerRow, org],
  );
  await em.execute(
    `update stock set available = available + 1, total = total + 1
     where organization_id = ? and id in (select id from stock where organization_id = ? order by id limit ?)`,
    [org, org, driftedRows],
  );
}
