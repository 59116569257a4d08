import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { createActivities } from '../../activities/index.ts';
import { openOrm, type Orm } from '../../services/db/orm.ts';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import { reservationWorkflowId } from '../../workflows/definitions.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { receiveStock, stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { testStack } from '../helpers/stack.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { assertInvariants, unsettled } from './invariants.ts';
import { proxyInFront, reserveUntilDefinite, retryable } from './links.ts';
import { present } from '../helpers/present.ts';
import { retriedAttempts } from '../helpers/histories.ts';

const movements = async (organizationId: string, type: string, variantId: string) =>
  (
    await testStack()
      .observerOrm.em.fork()
      .execute<{ n: number }[]>(
        'select count(*)::int as n from stock_movement where organization_id = ? and type = ? and variant_id = ?',
        [organizationId, type, variantId],
      )
  )[0]?.n;

describe("faults: the worker's PostgreSQL link fails (a TCP proxy between the worker and the database)", function () {
  this.timeout(120_000);
  let proxy: TcpProxy | undefined;
  let orm: Orm | undefined;
  let worker: RunningWorker | undefined;
  let api: GrpcHarness | undefined;

  /** A worker whose every database connection goes through a proxy, and a gRPC facade (on the direct database) in front of it. */
  async function proxiedWorker(): Promise<{ proxy: TcpProxy; api: GrpcHarness }> {
    const stack = testStack();
    const proxied = await proxyInFront(stack.databaseUrl, 5432);
    proxy = proxied.proxy;
    // 40 connections, not the default 10: a cut during BEGIN or COMMIT leaks the checked-out connection (kysely's
    // ControlledTransaction releases it only when the statement succeeds; 3 and 9 of 10 leaked in two runs), and a
    // pool of 10 then runs dry and hangs the next activity for good (see README, Failure model).
    orm = await openOrm(proxied.url, 40);
    worker = await startWorker({ activities: createActivities({ orm, systemOrm: stack.systemOrm }) });
    api = await startGrpc({ taskQueue: worker.taskQueue });
    return { proxy, api };
  }

  afterEach(async () => {
    proxy?.latency(0);
    proxy?.refuse(false);
    await api?.close();
    await worker?.stop();
    await proxy?.close();
    // A pool holding a connection leaked by a cut (see the first test) never ends: give it 5 s, then go on.
    await Promise.race([orm?.close(true), sleep(5000)]);
    proxy = orm = worker = api = undefined;
  });

  it('PostgreSQL connections cut during a ReserveStock burst and hold expiries, new ones refused for 3 s: each order held once or refused, each expired hold released once, every workflow settles', async () => {
    const { client } = testStack().temporal;
    const { proxy, api } = await proxiedWorker();
    // Two variants, so the expiring holds (A) never hand units back to the burst (B): B's outcome is exact.
    const { scope, organizationId, warehouseId, variantId: burstVariant } = await stockedOrganization(20);
    const expiringVariant = randomUUID();
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
    const burst = Array.from({ length: 30 }, (_, i) => ({
      organization_id: organizationId,
      order_id: `burst-${i}`,
      items: [{ variant_id: burstVariant, quantity: 1 }],
    }));
    let answered = 0;
    const calls = burst.map((request) =>
      api.call<ReserveStockResponse__Output>('ReserveStock', request).finally(() => answered++),
    );

    // The cut lands inside the burst (at its first answer) and before the 2-second holds expire.
    await Promise.race(calls.map((call) => call.catch(() => undefined)));
    proxy.refuse(true);
    proxy.cutAll();
    const inFlightAtCut = burst.length - answered;
    // Deliberately keep the database unreachable for 3 s: past the holds' expiry, through several activity retries.
    await sleep(3000);
    const { reserved: reservedWhileDown } = present(
      await stockRow(scope, expiringVariant, warehouseId),
      'the stock row',
    );
    proxy.refuse(false);
    const faultEnded = Date.now();
    assert.ok(inFlightAtCut > 0, 'orders were still in flight at the cut');
    assert.equal(reservedWhileDown, 6, 'no hold is released while the worker cannot reach the database');

    const firstAnswers = await Promise.allSettled(calls);
    for (const answer of firstAnswers) {
      if (answer.status === 'rejected') {
        const code = (answer.reason as grpc.ServiceError).code;
        assert.ok(
          retryable.has(code) || code === grpc.status.FAILED_PRECONDITION,
          `a definite refusal or "try again", not ${grpc.status[code]}: ${(answer.reason as Error).message}`,
        );
      }
    }
    const outcomes = await Promise.all(burst.map((request) => reserveUntilDefinite(api, request)));
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
    }
    const held = outcomes.filter((o) => 'held' in o).length;
    assert.equal(
      held,
      20,
      `held ${held}, refused ${outcomes.length - held}; ${inFlightAtCut} were in flight at the cut`,
    );
    assert.equal(await movements(organizationId, 'reserve', burstVariant), 20, 'one reserve movement per held order');

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
    console.log(
      `      database cut: ${inFlightAtCut} orders in flight at the cut; every workflow settled ${settledMs} ms after the database came back`,
    );
    assert.equal(
      await movements(organizationId, 'release', expiringVariant),
      6,
      'exactly one release per expired hold',
    );
    const [{ n: expired } = { n: 0 }] = await scope.em
      .fork()
      .execute<{ n: number }[]>(
        "select count(*)::int as n from reservation where organization_id = ? and status = 'expired'",
        [organizationId],
      );
    assert.equal(expired, 6);
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
  });

  it('PostgreSQL slowed to 6 s a chunk (past the 5 s start-to-close timeout) for 8 s during ReserveStock: attempts time out and retry, each order is held exactly once, never after its expiry', async () => {
    const { client } = testStack().temporal;
    const { proxy, api } = await proxiedWorker();
    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
    const orders = Array.from({ length: 4 }, (_, i) => ({
      organization_id: organizationId,
      order_id: `slow-${i}`,
      items: [{ variant_id: variantId, quantity: 2 }],
      ttl_seconds: 20,
    }));

    proxy.latency(6000);
    const outcomes = Promise.all(orders.map((request) => reserveUntilDefinite(api, request, 90_000)));
    // Deliberately keep the database slow for 8 s: every attempt started meanwhile outlives its 5 s timeout.
    await sleep(8000);
    proxy.latency(0);

    const answers = await outcomes;
    assert.deepEqual(
      answers.map((a) => ('held' in a ? 'held' : a.refused.message)),
      orders.map(() => 'held'),
    );
    // Each hold is a local activity: its marker records the attempt that succeeded (the timeouts before it are not kept).
    const retriedAfterTimeout: string[] = [];
    for (const order of orders) {
      const history = await client.workflow
        .getHandle(reservationWorkflowId(organizationId, order.order_id))
        .fetchHistory();
      for (const { step, attempt } of retriedAttempts(history))
        retriedAfterTimeout.push(`${order.order_id} ${step} attempt ${attempt}`);
    }
    assert.ok(retriedAfterTimeout.length > 0, 'some hold took more than one attempt');
    assert.equal(
      await movements(organizationId, 'reserve', variantId),
      4,
      'one reserve movement per order, however many attempts ran',
    );
    const row = present(await stockRow(scope, variantId, warehouseId), 'the stock row');
    assert.deepEqual({ available: row.available, reserved: row.reserved }, { available: 2, reserved: 8 });
    await assertInvariants({ em: scope.em, organizationId, client });
  });
});
