/**
 * One fault scenario the database fault tests share: a burst of 30 concurrent ReserveStock for 20 units
 * while 6 holds with a 2 s TTL expire, with a fault (a cut link, a crashed server) landing at the burst's
 * first answer and lasting past the holds' expiry. It asserts what must hold whatever the fault: each
 * caller got a definite answer or "try again"; sending the same request again gets exactly 20 held once
 * each (one `reserve` movement and one stock version each, the same reservation for one already
 * answered) and 10 refused; each expired hold released exactly once; every workflow settled; the
 * invariants.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import { reservationWorkflowId } from '../../workflows/definitions.ts';
import { createWarehouse, receiveStock, stockRow } from '../helpers/fixtures.ts';
import type { GrpcHarness } from '../helpers/grpc.ts';
import { present } from '../helpers/present.ts';
import type { TestOrganizationScope } from '../helpers/stack.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { assertInvariants, unsettled } from './invariants.ts';
import {
  assertDefiniteOrRetryable,
  assertHeldOnceOrRefused,
  burstRequests,
  everyUntilDefinite,
  startBurst,
} from './reserve-burst.ts';

/** The fault: `begin` breaks the database for the worker (and maybe the facade), `end` heals it. */
export interface DatabaseFault {
  begin(): Promise<void>;
  /**
   * Checks made while the fault lasts, once the 2 s holds are past their expiry (before `end`);
   * `expiring` names their stock row.
   */
  whileBroken?(expiring: { variantId: string; warehouseId: string }): Promise<void>;
  end(): Promise<void>;
}

export interface BurstOutcome {
  /** Orders still unanswered when the fault began. */
  inFlightAtFault: number;
  /** From the fault's end until every workflow was closed or waiting with no activity pending. */
  settledMs: number;
  /** From the fault's end until every order had its definite answer. */
  answeredMs: number;
}

const count = async (scope: TestOrganizationScope, sql: string, params: unknown[]) =>
  (await scope.em.fork().execute<{ n: number }[]>(sql, params))[0]?.n;

const movements = (scope: TestOrganizationScope, type: string, variantId: string) =>
  count(
    scope,
    'select count(*)::int as n from stock_movement where organization_id = ? and type = ? and variant_id = ?',
    [scope.organizationId, type, variantId],
  );

/**
 * Runs the burst through `fault` against `api` (whose worker reaches the database of `scope`) and asserts
 * the outcome described above; `client` sees the reservation workflows. `downMs` is how long the fault
 * lasts (past the holds' 2 s TTL).
 */
export async function reserveBurstAcrossFault(options: {
  api: GrpcHarness;
  client: Client;
  scope: TestOrganizationScope;
  fault: DatabaseFault;
  downMs?: number;
}): Promise<BurstOutcome> {
  const { api, client, scope, fault, downMs = 3000 } = options;
  const { organizationId } = scope;
  // Two variants, so the expiring holds (A) never hand units back to the burst (B): B's outcome is exact.
  const warehouseId = (await createWarehouse(scope)).id;
  const burstVariant = randomUUID();
  const expiringVariant = randomUUID();
  await receiveStock(scope, burstVariant, warehouseId, 20);
  await receiveStock(scope, expiringVariant, warehouseId, 6);

  const versionBefore = present(
    present(await stockRow(scope, burstVariant, warehouseId), 'the stock row').version,
    'its version',
  );
  const expiring = Array.from({ length: 6 }, (_, i) => ({
    organization_id: organizationId,
    order_id: `expiring-${i}`,
    items: [{ variant_id: expiringVariant, quantity: 1 }],
    ttl_seconds: 2,
  }));
  await Promise.all(expiring.map((request) => api.call<ReserveStockResponse__Output>('ReserveStock', request)));
  const burst = burstRequests(organizationId, burstVariant);
  // The fault lands inside the burst (at its first answer) and before the 2-second holds expire.
  const { inFlight: inFlightAtFault, answers } = await startBurst(api, burst);
  await fault.begin();
  // Deliberately keep the database broken for `downMs`: past the holds' expiry, through several activity retries.
  await sleep(downMs);
  await fault.whileBroken?.({ variantId: expiringVariant, warehouseId });
  await fault.end();
  const faultEnded = Date.now();

  const firstAnswers = await answers;
  assertDefiniteOrRetryable(firstAnswers);
  const outcomes = await everyUntilDefinite(api, burst);
  const answeredMs = Date.now() - faultEnded;
  assertHeldOnceOrRefused(firstAnswers, outcomes, inFlightAtFault);
  assert.equal(await movements(scope, 'reserve', burstVariant), 20, 'one reserve movement per held order');

  await waitFor(
    () => stockRow(scope, expiringVariant, warehouseId),
    (row) => row?.reserved === 0,
    'every 2-second hold to expire',
    30_000,
  );
  const workflowIds = [...expiring, ...burst].map((r) => reservationWorkflowId(organizationId, r.order_id));
  await waitFor(
    () => unsettled(client, workflowIds),
    (left) => left.length === 0,
    'every workflow to close or wait with no activity pending',
    30_000,
  );
  const settledMs = Date.now() - faultEnded;
  assert.ok(settledMs < 30_000, `settled ${settledMs} ms after the fault ended`);
  assert.equal(await movements(scope, 'release', expiringVariant), 6, 'exactly one release per expired hold');
  assert.equal(
    await count(scope, "select count(*)::int as n from reservation where organization_id = ? and status = 'expired'", [
      organizationId,
    ]),
    6,
  );
  // One version per committed change: 20 holds, no change written twice.
  assert.deepEqual(await stockRow(scope, burstVariant, warehouseId), {
    total: 20,
    available: 0,
    reserved: 20,
    damaged: 0,
    in_transit: 0,
    incoming: 0,
    version: versionBefore + 20,
  });
  await assertInvariants({ em: scope.em, organizationId, client });
  return { inFlightAtFault, settledMs, answeredMs };
}
