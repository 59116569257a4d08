import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { testStack } from '../helpers/stack.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { assertInvariants } from './invariants.ts';
import { reserveUntilDefinite, retryable } from './links.ts';
import { scratchDirectory, spawnChildWorker, writeWorkflowBundle, type ChildProcessHandle } from './processes.ts';
import { present } from '../helpers/present.ts';

describe('faults: the worker process is killed (SIGKILL)', function () {
  this.timeout(120_000);
  let directory: Awaited<ReturnType<typeof scratchDirectory>>;
  let bundlePath: string;
  const children: ChildProcessHandle[] = [];
  const harnesses: GrpcHarness[] = [];

  before(async () => {
    directory = await scratchDirectory();
    bundlePath = await writeWorkflowBundle(directory.path);
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.kill()));
    await Promise.all(harnesses.splice(0).map((h) => h.close()));
  });
  after(async () => {
    await directory?.remove();
  });

  async function childWorker(taskQueue: string): Promise<ChildProcessHandle> {
    const stack = testStack();
    const child = await spawnChildWorker({
      address: stack.temporal.address,
      taskQueue,
      databaseUrl: stack.databaseUrl,
      bundlePath,
    });
    children.push(child);
    return child;
  }

  async function grpcOn(taskQueue: string): Promise<GrpcHarness> {
    const api = await startGrpc({ taskQueue });
    harnesses.push(api);
    return api;
  }

  it('worker SIGKILLed during a burst of ReserveStock: each of 30 orders for 20 units ends held exactly once or refused, and a retry gets the same answer', async () => {
    const stack = testStack();
    const taskQueue = `faults-burst-${randomUUID()}`;
    const first = await childWorker(taskQueue);
    const api = await grpcOn(taskQueue);
    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(20);
    const requests = Array.from({ length: 30 }, (_, i) => ({
      organization_id: organizationId,
      order_id: `burst-${i}`,
      items: [{ variant_id: variantId, quantity: 1 }],
    }));

    let answered = 0;
    const burst = requests.map((request) =>
      api.call<ReserveStockResponse__Output>('ReserveStock', request).finally(() => answered++),
    );
    // The kill lands inside the burst: as soon as the first order is answered, while the others are in flight.
    await Promise.race(burst.map((call) => call.catch(() => undefined)));
    const inFlightAtKill = requests.length - answered;
    await first.kill();
    assert.ok(inFlightAtKill > 0, 'the worker died while orders were still in flight');

    await childWorker(taskQueue);
    const firstAnswers = await Promise.allSettled(burst);
    for (const answer of firstAnswers) {
      if (answer.status === 'rejected') {
        const code = (answer.reason as grpc.ServiceError).code;
        assert.ok(
          retryable.has(code) || code === grpc.status.FAILED_PRECONDITION,
          `a definite refusal or "try again", not ${grpc.status[code]}: ${(answer.reason as Error).message}`,
        );
      }
    }

    // Every caller sends the same request again until it gets a definite answer; one already answered gets the same one.
    const outcomes = await Promise.all(requests.map((request) => reserveUntilDefinite(api, request)));
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
    // Stock only ever goes down in this test (nothing is released), so an order is refused only once all 20 are held.
    assert.equal(
      held,
      20,
      `held ${held}, refused ${outcomes.length - held}; ${inFlightAtKill} were in flight at the kill`,
    );
    const row = present(await stockRow(scope, variantId, warehouseId), 'the stock row');
    assert.deepEqual(
      { available: row.available, reserved: row.reserved, total: row.total },
      { available: 0, reserved: 20, total: 20 },
    );
    const [{ n } = { n: 0 }] = await scope.em.execute<{ n: number }[]>(
      "select count(*)::int as n from stock_movement where organization_id = ? and type = 'reserve'",
      [organizationId],
    );
    assert.equal(n, 20, 'one reserve movement per held order');
    await assertInvariants({ em: scope.em, organizationId, client: stack.temporal.client });
  });

  it('worker SIGKILLed as holds expire (TTL 2–3 s): each hold expires exactly once, never before its expiry, once a new worker runs', async () => {
    const stack = testStack();
    const taskQueue = `faults-expiry-${randomUUID()}`;
    const first = await childWorker(taskQueue);
    const api = await grpcOn(taskQueue);
    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);

    const orders = Array.from({ length: 8 }, (_, i) => ({
      organization_id: organizationId,
      order_id: `expiring-${i}`,
      items: [{ variant_id: variantId, quantity: 1 }],
      ttl_seconds: i % 2 === 0 ? 2 : 3,
    }));
    const held = await Promise.all(
      orders.map((request) => api.call<ReserveStockResponse__Output>('ReserveStock', request)),
    );
    // One confirmed hold must survive everything: it never expires.
    await api.call('ConfirmReservation', { organization_id: organizationId, order_id: 'expiring-1' });
    const lastExpiry = Math.max(...held.map((h) => Date.parse(h.expires_at)));

    // The kill lands at the first expiry: as soon as the first release is in the ledger, the others due or in flight.
    const releases = async () =>
      (
        await scope.em
          .fork()
          .execute<{ n: number }[]>(
            "select count(*)::int as n from stock_movement where organization_id = ? and type = 'release'",
            [organizationId],
          )
      )[0]?.n ?? 0;
    await waitFor(releases, (n) => n > 0, 'the first expiry', 10_000);
    await first.kill();

    // Deliberately keep the worker down until every TTL has passed, so the remaining timers fire with no worker.
    await sleep(Math.max(lastExpiry - Date.now(), 0) + 1000);
    const whileDown = present(await stockRow(scope, variantId, warehouseId), 'the stock row');
    assert.ok(
      present(whileDown.reserved, 'reserved') > 1,
      `some holds are still held while no worker runs (reserved ${whileDown.reserved})`,
    );

    await childWorker(taskQueue);
    await waitFor(
      () => stockRow(scope, variantId, warehouseId),
      (row) => row?.reserved === 1,
      'every unconfirmed hold to expire',
      30_000,
    );
    await waitFor(
      async () =>
        await scope.em
          .fork()
          .execute<{ status: string; n: number }[]>(
            'select status, count(*)::int as n from reservation where organization_id = ? group by status order by status',
            [organizationId],
          ),
      (rows) =>
        JSON.stringify(rows) ===
        JSON.stringify([
          { status: 'confirmed', n: 1 },
          { status: 'expired', n: 7 },
        ]),
      'seven expired and one confirmed reservation',
    );
    assert.equal(await releases(), 7, 'exactly one release per expired hold');
    const row = present(await stockRow(scope, variantId, warehouseId), 'the stock row');
    assert.deepEqual(
      { available: row.available, reserved: row.reserved, total: row.total },
      { available: 9, reserved: 1, total: 10 },
    );
    await assertInvariants({ em: scope.em, organizationId, client: stack.temporal.client });
  });
});
