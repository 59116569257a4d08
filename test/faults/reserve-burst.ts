/**
 * What the burst rows share: 30 concurrent ReserveStock for one unit each of 20 on hand, a fault landing
 * at the first answer, and the checks on what every caller heard, first and once it sent the same request
 * again until it got a definite answer.
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import type { Client } from '@temporalio/client';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import { stockRow } from '../helpers/fixtures.ts';
import type { GrpcHarness } from '../helpers/grpc.ts';
import type { TestOrganizationScope } from '../helpers/stack.ts';
import { present } from '../helpers/present.ts';
import { waitFor } from '../helpers/wait.ts';
import { reservationWorkflowId } from '../../workflows/definitions.ts';
import { unsettled } from './invariants.ts';
import { type Outcome, reserveUntilDefinite, retryable } from './links.ts';

export const burstSize = 30;
export const burstStock = 20;

/** One ReserveStock of one unit per order, `burst-0` … `burst-29`. */
export function burstRequests(organizationId: string, variantId: string) {
  return Array.from({ length: burstSize }, (_, i) => ({
    organization_id: organizationId,
    order_id: `burst-${i}`,
    items: [{ variant_id: variantId, quantity: 1 }],
  }));
}

/**
 * Sends every request at once and resolves at the first answer (while the others are in flight), when the
 * fault is to land; `answers` settles once every caller has heard.
 */
export async function startBurst(
  api: GrpcHarness,
  requests: object[],
): Promise<{ inFlight: number; answers: Promise<PromiseSettledResult<ReserveStockResponse__Output>[]> }> {
  let answered = 0;
  const calls = requests.map((request) =>
    api.call<ReserveStockResponse__Output>('ReserveStock', request).finally(() => answered++),
  );
  await Promise.race(calls.map((call) => call.catch(() => undefined)));
  const inFlight = requests.length - answered;
  assert.ok(inFlight > 0, 'the fault lands while orders are still in flight');
  return { inFlight, answers: Promise.allSettled(calls) };
}

/** Each first answer is the hold, a definite refusal, or "try again"; returns how many were "try again". */
export function assertDefiniteOrRetryable(answers: PromiseSettledResult<ReserveStockResponse__Output>[]): number {
  let lost = 0;
  for (const answer of answers) {
    if (answer.status === 'fulfilled') continue;
    const code = (answer.reason as grpc.ServiceError).code;
    assert.ok(
      retryable.has(code) || code === grpc.status.FAILED_PRECONDITION,
      `a definite refusal or "try again", not ${grpc.status[code]}: ${(answer.reason as Error).message}`,
    );
    if (retryable.has(code)) lost++;
  }
  return lost;
}

/** Every caller sends the same request again until it gets a definite answer (links.ts, reserveUntilDefinite). */
export function everyUntilDefinite(api: GrpcHarness, requests: object[]): Promise<Outcome[]> {
  return Promise.all(requests.map((request) => reserveUntilDefinite(api, request)));
}

/**
 * Once every caller sent the same request again until it got a definite answer: exactly 20 held and 10
 * refused; one already answered keeps its reservation, one already refused stays refused.
 */
export function assertHeldOnceOrRefused(
  firstAnswers: PromiseSettledResult<ReserveStockResponse__Output>[],
  outcomes: Outcome[],
  inFlightAtFault: number,
): void {
  for (const [i, outcome] of outcomes.entries()) {
    const first = present(firstAnswers[i], `order ${i}'s first answer`);
    if ('refused' in outcome)
      assert.equal(outcome.refused.code, grpc.status.FAILED_PRECONDITION, outcome.refused.message);
    if (first.status === 'fulfilled')
      assert.equal(
        'held' in outcome && outcome.held.reservation_id,
        first.value.reservation_id,
        `order ${i} keeps its reservation`,
      );
    if (first.status === 'rejected' && (first.reason as grpc.ServiceError).code === grpc.status.FAILED_PRECONDITION)
      assert.ok('refused' in outcome, `order ${i} stays refused`);
  }
  const held = outcomes.filter((o) => 'held' in o).length;
  // Stock only goes down in these tests (nothing is released): an order is refused only once all 20 are held.
  assert.equal(
    held,
    burstStock,
    `held ${held}, refused ${outcomes.length - held}; ${inFlightAtFault} were in flight when the fault landed`,
  );
}

/**
 * The ledger agrees: one `reserve` movement per held order, the orders answered held are the ones held,
 * each once, and the stock row took one version per hold (none written twice).
 */
export async function assertHeldOnceInLedger(options: {
  scope: TestOrganizationScope;
  variantId: string;
  warehouseId: string;
  versionBefore: number;
  requests: { order_id: string }[];
  outcomes: Outcome[];
}): Promise<void> {
  const { scope, variantId, warehouseId, versionBefore, requests, outcomes } = options;
  const db = scope.em.fork();
  const [{ n } = { n: 0 }] = await db.execute<{ n: number }[]>(
    "select count(*)::int as n from stock_movement where organization_id = ? and type = 'reserve'",
    [scope.organizationId],
  );
  assert.equal(n, burstStock, 'one reserve movement per held order');
  const holds = await db.execute<{ order_id: string; n: number }[]>(
    "select order_id, count(*)::int as n from reservation where organization_id = ? and status = 'active' group by order_id",
    [scope.organizationId],
  );
  assert.deepEqual(
    holds.map((h) => h.order_id).sort(),
    requests
      .filter((_, i) => 'held' in present(outcomes[i], `order ${i}`))
      .map((r) => r.order_id)
      .sort(),
    'the orders answered held are the ones held',
  );
  assert.ok(
    holds.every((h) => h.n === 1),
    'each order held once',
  );
  assert.deepEqual(await stockRow(scope, variantId, warehouseId), {
    total: burstStock,
    available: 0,
    reserved: burstStock,
    damaged: 0,
    in_transit: 0,
    incoming: 0,
    version: versionBefore + burstStock,
  });
}

/** Waits (up to 30 s) until every order's workflow has closed or waits with no activity pending. */
export async function waitUntilSettled(
  client: Client,
  organizationId: string,
  requests: { order_id: string }[],
): Promise<void> {
  const workflowIds = requests.map((r) => reservationWorkflowId(organizationId, r.order_id));
  await waitFor(
    () => unsettled(client, workflowIds),
    (left) => left.length === 0,
    'every workflow to close or wait with no activity pending',
    30_000,
  );
}
