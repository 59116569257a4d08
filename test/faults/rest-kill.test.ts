import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createWarehouse, receiveStock, stockRow, stockedOrganization } from '../helpers/fixtures.ts';
import { present } from '../helpers/present.ts';
import { testStack, tokenFor, type TestOrganizationScope } from '../helpers/stack.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import { waitFor } from '../helpers/wait.ts';
import { assertInvariants } from './invariants.ts';
import { freePort, scratchDirectory, spawnHttpServer, type ChildProcessHandle } from './processes.ts';
import { holdRowLock, type HeldRowLock } from './row-lock.ts';

/** The idempotency middleware's takeover age (services/http/idempotency.ts): a claim older than this was left by a dead request. */
const staleClaimSeconds = 60;

describe('faults: the REST server process is killed (SIGKILL)', function () {
  this.timeout(120_000);
  let directory: Awaited<ReturnType<typeof scratchDirectory>> | undefined;
  let worker: RunningWorker | undefined;
  const servers: ChildProcessHandle[] = [];
  const locks: HeldRowLock[] = [];

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.kill()));
    await Promise.all(locks.splice(0).map((l) => l.release()));
    await worker?.stop();
    await directory?.remove();
    directory = worker = undefined;
  });

  /**
   * The REST server's entry point on a port of its own, bound to `taskQueue`: `start` spawns it (again, on
   * the same port), `post` sends a write with an Idempotency-Key as the organization's caller.
   */
  async function restServer(taskQueue: string) {
    const stack = testStack();
    directory = await scratchDirectory();
    const jwksFile = join(directory.path, 'jwks.json');
    await writeFile(jwksFile, JSON.stringify(stack.issuer.jwks));
    const port = await freePort();
    return {
      start: async () => {
        const child = await spawnHttpServer({
          port,
          address: stack.temporal.address,
          taskQueue,
          databaseUrl: stack.databaseUrl,
          systemDatabaseUrl: stack.systemDatabaseUrl,
          amqpUrl: stack.amqpUrl,
          jwksFile,
        });
        servers.push(child);
        return child;
      },
      post: async (organizationId: string, path: string, body: object | undefined, key: string) =>
        await fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            Authorization: `Bearer ${await tokenFor(organizationId)}`,
            'Idempotency-Key': key,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
    };
  }

  /** Sends the same write again (same key) until it gets a definite answer: not 409 (claim in flight), not 5xx. */
  async function untilDefinite(send: () => Promise<Response>, what: string) {
    return await waitFor(
      async () => {
        const response = await send().catch(() => undefined);
        return response && { status: response.status, body: (await response.json()) as Record<string, unknown> };
      },
      (answer) => answer !== undefined && answer.status !== 409 && answer.status < 500,
      `a definite answer to ${what}`,
      30_000,
    );
  }

  /** Ages the dead requests' claims past the 60 s takeover: deliberately, rather than wait a minute. */
  async function ageClaims(scope: TestOrganizationScope): Promise<void> {
    await scope.em
      .fork()
      .execute(
        `update idempotency_key set created_at = created_at - make_interval(secs => ?) where organization_id = ? and state = 'in_flight'`,
        [staleClaimSeconds + 1, scope.organizationId],
      );
  }

  /** Holds the lock of a stock row, so the write that changes it waits inside its transaction. */
  async function lockStockRow(scope: TestOrganizationScope, variantId: string, warehouseId: string) {
    const lock = await holdRowLock(
      'select 1 from stock where organization_id = ? and variant_id = ? and warehouse_id = ? for update',
      [scope.organizationId, variantId, warehouseId],
    );
    locks.push(lock);
    return lock;
  }

  it('REST server SIGKILLed during a burst of adjustments with Idempotency-Keys, some committed and unanswered, some not yet committed: each call fails at the client, a new server answers the same request with the same key 201, each adjustment applied once', async () => {
    const rest = await restServer(`faults-rest-${randomUUID()}`);
    const first = await rest.start();

    // Two stock rows of 10: the kill finds the first one's adjustments committed (their answers not yet stored),
    // the second one's still waiting for the row inside their transactions.
    const { scope, organizationId, warehouseId, variantId: committedVariant } = await stockedOrganization(10);
    const pendingVariant = randomUUID();
    await receiveStock(scope, pendingVariant, warehouseId, 10);
    const adjust = (variantId: string, key: string) =>
      rest.post(
        organizationId,
        '/adjustments',
        { variant_id: variantId, warehouse_id: warehouseId, reason_code: 'receipt', quantity: 1 },
        key,
      );
    const calls = [
      ...Array.from({ length: 4 }, (_, i) => ({ variantId: committedVariant, key: `committed-${i}` })),
      ...Array.from({ length: 4 }, (_, i) => ({ variantId: pendingVariant, key: `pending-${i}` })),
    ];
    const committedRow = await lockStockRow(scope, committedVariant, warehouseId);
    const pendingRow = await lockStockRow(scope, pendingVariant, warehouseId);
    const inFlight = Promise.allSettled(calls.map(({ variantId, key }) => adjust(variantId, key)));
    // Every request has claimed its key (a committed claim) and waits for its row inside its transaction.
    await waitFor(
      () => committedRow.waiting(),
      (n) => n === 4,
      'four adjustments waiting on the first row',
      20_000,
    );
    await waitFor(
      () => pendingRow.waiting(),
      (n) => n === 4,
      'four adjustments waiting on the second row',
      20_000,
    );

    // The claims are locked here: the first row's adjustments commit, then wait to store their answers.
    const claims = await holdRowLock('select 1 from idempotency_key where organization_id = ? for update', [
      organizationId,
    ]);
    locks.push(claims);
    await committedRow.release();
    const receipts = async (variantId: string) =>
      (
        await scope.em
          .fork()
          .execute<{ n: number }[]>(
            "select count(*)::int as n from stock_movement where organization_id = ? and variant_id = ? and type = 'receipt'",
            [organizationId, variantId],
          )
      )[0]?.n ?? 0;
    await waitFor(
      () => receipts(committedVariant),
      (n) => n === 5,
      'the four adjustments committed',
      20_000,
    );
    await waitFor(
      () => claims.waiting(),
      (n) => n === 4,
      'four answers waiting to be stored',
      20_000,
    );

    await first.kill();
    const firstAnswers = await inFlight;
    assert.deepEqual(
      firstAnswers.map((a) => a.status),
      calls.map(() => 'rejected'),
      'every call in flight fails at the client',
    );
    // The dead server's transactions get their locks now, but can never commit: their client is gone.
    await claims.release();
    await pendingRow.release();
    assert.equal(await receipts(pendingVariant), 1, 'nothing of the second row was committed');
    await ageClaims(scope);

    await rest.start();
    const restartedAt = Date.now();
    const answers = await Promise.all(
      calls.map(({ variantId, key }) => untilDefinite(() => adjust(variantId, key), key)),
    );
    const answeredMs = Date.now() - restartedAt;
    for (const [i, answer] of answers.entries())
      assert.equal(answer?.status, 201, `${calls[i]?.key}: ${JSON.stringify(answer?.body)}`);

    // Each adjustment once: four receipts per row on top of the fixture's, whatever the dead server had committed.
    assert.equal(await receipts(committedVariant), 5, 'the committed adjustments were not applied again');
    assert.equal(await receipts(pendingVariant), 5, 'the uncommitted adjustments were applied once');
    for (const variantId of [committedVariant, pendingVariant]) {
      const row = present(await stockRow(scope, variantId, warehouseId), 'the stock row');
      assert.deepEqual({ total: row.total, available: row.available }, { total: 14, available: 14 });
    }
    // The same request with the same key answers the same adjustment, the one in the ledger.
    const ids = new Set(answers.map((a) => a?.body.adjustment_id));
    assert.equal(ids.size, calls.length, 'one adjustment per key');
    const [{ n: unknown } = { n: -1 }] = await scope.em
      .fork()
      .execute<{ n: number }[]>(
        "select count(*)::int as n from stock_movement where organization_id = ? and type = 'receipt' and reference_type = 'adjustment' and reference_id not in (?)",
        [organizationId, [...ids]],
      );
    assert.equal(unknown, 0, 'every adjustment in the ledger is one a caller was answered with');
    console.log(`      REST kill: every call answered 201 ${answeredMs} ms after the new server listened`);
    await assertInvariants({ em: scope.em, organizationId });
  });
  it('REST server SIGKILLed while a transfer ship is in flight (its step blocked in its transaction on a row lock): the call fails at the client, a new server answers the same request with the same key 200 in_transit, the step applied once', async () => {
    const stack = testStack();
    worker = await startWorker();
    const rest = await restServer(worker.taskQueue);
    const first = await rest.start();
    const { scope, organizationId, warehouseId: origin, variantId } = await stockedOrganization(10);
    const destination = (await createWarehouse(scope, { region: 'south' })).id;
    const created = await untilDefinite(
      () =>
        rest.post(
          organizationId,
          '/transfers',
          {
            origin_warehouse_id: origin,
            destination_warehouse_id: destination,
            lines: [{ variant_id: variantId, quantity: 3 }],
          },
          'create-1',
        ),
      'the create',
    );
    assert.equal(created?.status, 201, JSON.stringify(created?.body));
    const id = String(created?.body.transfer_id);

    // The ship step changes the origin's row: with its lock held here, the step waits inside its transaction.
    const originRow = await lockStockRow(scope, variantId, origin);
    const ship = () => rest.post(organizationId, `/transfers/${id}/ship`, undefined, 'ship-1');
    const inFlight = Promise.allSettled([ship()]);
    await waitFor(
      () => originRow.waiting(),
      (n) => n > 0,
      'the ship step waiting on the row lock',
      20_000,
    );
    await first.kill();
    const [firstAnswer] = await inFlight;
    assert.equal(firstAnswer?.status, 'rejected', 'the call in flight fails at the client');
    // The worker goes on: the ship the dead server asked for commits once the row is free.
    await originRow.release();
    const shipments = async () =>
      (
        await scope.em
          .fork()
          .execute<{ n: number }[]>(
            "select count(*)::int as n from stock_movement where organization_id = ? and reference_id = ? and type = 'transfer_out'",
            [organizationId, id],
          )
      )[0]?.n ?? 0;
    await waitFor(shipments, (n) => n === 1, 'the ship step in the ledger');
    await ageClaims(scope);

    await rest.start();
    const restartedAt = Date.now();
    const shipped = await untilDefinite(ship, 'the ship');
    const answeredMs = Date.now() - restartedAt;
    assert.equal(shipped?.status, 200, JSON.stringify(shipped?.body));
    assert.equal(shipped?.body.status, 'in_transit');
    const received = await untilDefinite(
      () =>
        rest.post(
          organizationId,
          `/transfers/${id}/receive`,
          { lines: [{ variant_id: variantId, received: 3 }] },
          'receive-1',
        ),
      'the receipt',
    );
    assert.equal(received?.body.status, 'completed', JSON.stringify(received?.body));
    assert.equal(await shipments(), 2, 'one transfer_out for the ship and one for the receipt, none doubled');
    const [{ n: shippedEvents } = { n: 0 }] = await scope.em
      .fork()
      .execute<{ n: number }[]>(
        "select count(*)::int as n from outbox_event where aggregate_type = 'transfer' and aggregate_id = ? and name = 'inventory.transfer.shipped'",
        [id],
      );
    assert.equal(shippedEvents, 1, 'one shipped event');
    for (const [warehouseId, total] of [
      [origin, 7],
      [destination, 3],
    ] as const) {
      const row = present(await stockRow(scope, variantId, warehouseId), 'the stock row');
      assert.deepEqual(
        { total: row.total, available: row.available, in_transit: row.in_transit, incoming: row.incoming },
        { total, available: total, in_transit: 0, incoming: 0 },
      );
    }
    console.log(`      REST kill in a ship: the ship answered 200 ${answeredMs} ms after the new server listened`);
    await assertInvariants({ em: scope.em, organizationId, client: stack.temporal.client });
  });
});
