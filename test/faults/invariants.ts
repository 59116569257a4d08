/**
 * The invariants every fault test ends on, for one organization. Each check is a read; `violations`
 * lists what is wrong (empty when everything holds) and `assertInvariants` fails with that list.
 *
 *  1. stock rows: the CHECK constraints hold (non-negative parts, total = available + reserved +
 *     damaged + in_transit), and `reserved` equals what open reservations (active, confirmed) and
 *     reserved transfers hold there;
 *  2. the ledger sums to every row (the sum of each quantity's deltas per variant and warehouse);
 *  3. every release happened at most once per held line: a reservation that is expired or released
 *     has exactly one `release` movement per allocation, an active, confirmed or fulfilled one none;
 *     an expired one was released no earlier than its expires_at;
 *  4. no hold committed after its expiry: each `reserve` movement's created_at ≤ the row's expires_at;
 *  5. the reservation table and the workflow agree on each reservation's status (a query while the
 *     workflow runs, its result once it has completed, `failed` when it failed);
 *  6. every transfer conserves units across both warehouses: its movements' total deltas, written-off
 *     losses aside, sum to zero; once it is closed nothing of it is left held, in transit or incoming;
 *     and no step of it wrote the same change twice (one movement per step, variant, warehouse and type).
 */
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { EntityManager } from '@mikro-orm/postgresql';
import { reservationQuery, reservationWorkflowId } from '../../workflows/definitions.ts';
import {
  closedTransferStatuses,
  type ReservationSnapshot,
  type TransferStatus,
} from '../../services/inventory/vocabulary.ts';
import { present } from '../helpers/present.ts';

const quantities = ['total', 'available', 'reserved', 'damaged', 'in_transit', 'incoming'] as const;

export interface InvariantScope {
  em: EntityManager;
  organizationId: string;
  /** The client whose namespace runs the organization's reservation workflows (check 5); skipped when absent. */
  client?: Client;
}

export async function violations({ em, organizationId, client }: InvariantScope): Promise<string[]> {
  const found: string[] = [];
  const db = em.fork();

  const rows = await db.execute<Record<string, number | string>[]>(
    `with ledger as (
       select variant_id, warehouse_id, ${quantities.map((q) => `sum(${q}_delta)::int as ${q}`).join(', ')}
       from stock_movement where organization_id = ? group by variant_id, warehouse_id
     ),
     holds as (
       select variant_id, warehouse_id, sum(quantity)::int as reserved from (
         select (a->>'variant_id')::uuid as variant_id, (a->>'warehouse_id')::uuid as warehouse_id, (a->>'quantity')::int as quantity
         from reservation v cross join lateral jsonb_array_elements(v.allocations) a
         where v.organization_id = ? and v.status in ('active', 'confirmed')
         union all
         select (l->>'variant_id')::uuid, t.origin_warehouse_id, (l->>'quantity')::int - (l->>'received')::int - (l->>'damaged')::int
         from transfer t cross join lateral jsonb_array_elements(t.lines) l
         where t.organization_id = ? and t.status = 'reserved'
       ) open_holds group by variant_id, warehouse_id
     )
     select s.variant_id, s.warehouse_id, ${quantities.map((q) => `s.${q}, coalesce(l.${q}, 0) as ledger_${q}`).join(', ')},
            coalesce(h.reserved, 0) as holds_reserved
     from stock s
     left join ledger l on l.variant_id = s.variant_id and l.warehouse_id = s.warehouse_id
     left join holds h on h.variant_id = s.variant_id and h.warehouse_id = s.warehouse_id
     where s.organization_id = ?`,
    [organizationId, organizationId, organizationId, organizationId],
  );
  for (const row of rows) {
    const at = `stock ${row.variant_id}@${row.warehouse_id}`;
    for (const q of quantities) {
      if (Number(row[q]) < 0) found.push(`${at}: ${q} is ${row[q]}`);
      if (row[q] !== row[`ledger_${q}`])
        found.push(`${at}: ${q} is ${row[q]}, its ledger sums to ${row[`ledger_${q}`]}`);
    }
    const parts = Number(row.available) + Number(row.reserved) + Number(row.damaged) + Number(row.in_transit);
    if (row.total !== parts)
      found.push(`${at}: total ${row.total} is not available + reserved + damaged + in_transit (${parts})`);
    if (row.reserved !== row.holds_reserved)
      found.push(`${at}: reserved is ${row.reserved}, open holds add up to ${row.holds_reserved}`);
  }
  const [orphans = { n: 0 }] = await db.execute<{ n: number }[]>(
    `select count(*)::int as n from stock_movement m where m.organization_id = ?
     and not exists (select 1 from stock s where s.organization_id = m.organization_id and s.variant_id = m.variant_id and s.warehouse_id = m.warehouse_id)`,
    [organizationId],
  );
  if (orphans.n > 0) found.push(`${orphans.n} movements name no stock row`);

  const reservations = await db.execute<
    {
      id: string;
      order_id: string;
      status: string;
      expires_at: Date | null;
      lines: number;
      reserves: number;
      releases: number;
      late_reserves: number;
      early_releases: number;
      max_per_line: number;
    }[]
  >(
    `select v.id, v.order_id, v.status, v.expires_at, jsonb_array_length(v.allocations)::int as lines,
            count(*) filter (where m.type = 'reserve')::int as reserves,
            count(*) filter (where m.type = 'release')::int as releases,
            count(*) filter (where m.type = 'reserve' and m.created_at > v.expires_at)::int as late_reserves,
            count(*) filter (where m.type = 'release' and v.status = 'expired' and m.created_at < v.expires_at)::int as early_releases,
            coalesce((select max(n) from (select count(*)::int as n from stock_movement r
                       where r.organization_id = v.organization_id and r.reference_type = 'reservation' and r.reference_id = v.id::text and r.type = 'release'
                       group by r.variant_id, r.warehouse_id) per_line), 0)::int as max_per_line
     from reservation v
     left join stock_movement m on m.organization_id = v.organization_id and m.reference_type = 'reservation' and m.reference_id = v.id::text
     where v.organization_id = ?
     group by v.id`,
    [organizationId],
  );
  for (const r of reservations) {
    const at = `reservation ${r.id} (order ${r.order_id}, ${r.status})`;
    if (r.max_per_line > 1) found.push(`${at}: a line was released ${r.max_per_line} times`);
    if (r.late_reserves > 0)
      found.push(
        `${at}: its hold committed after its expiry ${new Date(present(r.expires_at, 'its expiry')).toISOString()}`,
      );
    if (r.early_releases > 0) found.push(`${at}: released as expired before its expiry`);
    if (r.status !== 'failed' && r.reserves !== r.lines)
      found.push(`${at}: ${r.reserves} reserve movements for ${r.lines} allocations`);
    const releasesOwed =
      r.status === 'expired' || r.status === 'released' ? r.lines : r.status === 'failed' ? r.reserves : 0;
    if (r.releases !== releasesOwed) found.push(`${at}: ${r.releases} release movements, ${releasesOwed} expected`);
    if (r.status === 'active' && r.expires_at && new Date(r.expires_at).getTime() < Date.now() - 60_000) {
      found.push(`${at}: still active a minute past its expiry`);
    }
  }

  const transfers = await db.execute<
    { id: string; status: string; moved: number; reserved: number; in_transit: number; incoming: number }[]
  >(
    `select t.id, t.status,
            coalesce(sum(m.total_delta) filter (where m.type <> 'loss'), 0)::int as moved,
            coalesce(sum(m.reserved_delta), 0)::int as reserved,
            coalesce(sum(m.in_transit_delta), 0)::int as in_transit,
            coalesce(sum(m.incoming_delta), 0)::int as incoming
     from transfer t
     left join stock_movement m on m.organization_id = t.organization_id and m.reference_type = 'transfer' and m.reference_id = t.id::text
     where t.organization_id = ?
     group by t.id`,
    [organizationId],
  );
  for (const t of transfers) {
    const at = `transfer ${t.id} (${t.status})`;
    if (t.moved !== 0) found.push(`${at}: its movements change the units on hand by ${t.moved}, losses aside`);
    if (closedTransferStatuses.includes(t.status as TransferStatus))
      for (const q of ['reserved', 'in_transit', 'incoming'] as const)
        if (t[q] !== 0) found.push(`${at}: closed, yet its movements leave ${t[q]} ${q}`);
  }
  const doubles = await db.execute<{ operation_key: string; type: string; n: number }[]>(
    `select regexp_replace(operation_key, '#[0-9]+$', '') as operation_key, type, count(*)::int as n from stock_movement
     where organization_id = ? and reference_type = 'transfer'
     group by 1, type, variant_id, warehouse_id having count(*) > 1`,
    [organizationId],
  );
  for (const d of doubles) found.push(`transfer step ${d.operation_key} wrote ${d.n} ${d.type} movements for one line`);

  if (client) {
    for (const r of reservations) {
      const workflowStatus = await statusInWorkflow(client, reservationWorkflowId(organizationId, r.order_id));
      if (workflowStatus !== r.status)
        found.push(
          `reservation ${r.id} (order ${r.order_id}): the table says ${r.status}, the workflow ${workflowStatus}`,
        );
    }
  }
  return found;
}

/** Fails with every violation found, if any. */
export async function assertInvariants(scope: InvariantScope): Promise<void> {
  const found = await violations(scope);
  assert.deepEqual(found, [], `invariants broken for organization ${scope.organizationId}:\n${found.join('\n')}`);
}

/** The reservation's status as its workflow sees it (a running workflow is queried, so a worker must be polling). */
async function statusInWorkflow(client: Client, workflowId: string): Promise<string> {
  const handle = client.workflow.getHandle(workflowId);
  const { status } = await handle.describe();
  switch (status.name) {
    case 'RUNNING':
      return (await handle.query(reservationQuery)).status;
    case 'COMPLETED':
      return ((await handle.result()) as ReservationSnapshot).status;
    case 'FAILED':
      return 'failed';
    default:
      return `workflow ${status.name}`;
  }
}

/**
 * Each workflow of `workflowIds` has settled: closed, or running with no activity pending (waiting on a
 * timer or a message). Returns the ones that have not, with what they wait for.
 */
export async function unsettled(client: Client, workflowIds: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const workflowId of workflowIds) {
    try {
      const { status, raw } = await client.workflow.getHandle(workflowId).describe();
      if (status.name === 'RUNNING' && raw.pendingActivities?.length)
        found.push(
          `${workflowId}: ${raw.pendingActivities.map((a) => `${a.activityType?.name} attempt ${a.attempt}`).join(', ')}`,
        );
    } catch (error) {
      // A ReserveStock refused before its workflow started leaves none: nothing to settle.
      if ((error as Error).name !== 'WorkflowNotFoundError') throw error;
    }
  }
  return found;
}
