import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { testStack } from '../helpers/stack.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { assertInvariants } from './invariants.ts';
import {
  assertDefiniteOrRetryable,
  assertHeldOnceInLedger,
  assertHeldOnceOrRefused,
  burstRequests,
  burstStock,
  everyUntilDefinite,
  startBurst,
} from './reserve-burst.ts';
import { childWorkers } from './processes.ts';
import { present } from '../helpers/present.ts';

describe('faults: the worker process is killed (SIGKILL)', function () {
  this.timeout(120_000);
  const workers = childWorkers();
  const harnesses: GrpcHarness[] = [];

  afterEach(async () => {
    await Promise.all(harnesses.splice(0).map((h) => h.close()));
  });

  const childWorker = (taskQueue: string) => workers.start({ taskQueue });

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
    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(burstStock);
    const versionBefore = present((await stockRow(scope, variantId, warehouseId))?.version, 'the stock version');
    const requests = burstRequests(organizationId, variantId);

    // The kill lands inside the burst: as soon as the first order is answered, while the others are in flight.
    const burst = await startBurst(api, requests);
    await first.kill();
    await childWorker(taskQueue);
    const firstAnswers = await burst.answers;
    assertDefiniteOrRetryable(firstAnswers);

    // Every caller sends the same request again until it gets a definite answer; one already answered gets the same one.
    const outcomes = await everyUntilDefinite(api, requests);
    assertHeldOnceOrRefused(firstAnswers, outcomes, burst.inFlight);
    await assertHeldOnceInLedger({ scope, variantId, warehouseId, versionBefore, requests, outcomes });
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
