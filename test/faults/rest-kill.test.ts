import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { receiveStock, stockRow, stockedOrganization } from '../helpers/fixtures.ts';
import { present } from '../helpers/present.ts';
import { testStack, tokenFor } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait.ts';
import { assertInvariants } from './invariants.ts';
import { freePort, scratchDirectory, spawnHttpServer, type ChildProcessHandle } from './processes.ts';
import { holdRowLock, type HeldRowLock } from './row-lock.ts';

/** The idempotency middleware's takeover age (services/http/idempotency.ts): a claim older than this was left by a dead request. */
const staleClaimSeconds = 60;

describe('faults: the REST server process is killed (SIGKILL)', function () {
  this.timeout(120_000);
  let directory: Awaited<ReturnType<typeof scratchDirectory>> | undefined;
  const servers: ChildProcessHandle[] = [];
  const locks: HeldRowLock[] = [];

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.kill()));
    await Promise.all(locks.splice(0).map((l) => l.release()));
    await directory?.remove();
    directory = undefined;
  });

  it('REST server SIGKILLed during a burst of adjustments with Idempotency-Keys, some committed and unanswered, some not yet committed: each call fails at the client, a new server answers the same request with the same key 201, each adjustment applied once', async () => {
    const stack = testStack();
    directory = await scratchDirectory();
    const jwksFile = join(directory.path, 'jwks.json');
    await writeFile(jwksFile, JSON.stringify(stack.issuer.jwks));
    const port = await freePort();
    const server = async () => {
      const child = await spawnHttpServer({
        port,
        address: stack.temporal.address,
        taskQueue: `faults-rest-${randomUUID()}`,
        databaseUrl: stack.databaseUrl,
        systemDatabaseUrl: stack.systemDatabaseUrl,
        amqpUrl: stack.amqpUrl,
        jwksFile,
      });
      servers.push(child);
      return child;
    };
    const first = await server();

    // Two stock rows of 10: the kill finds the first one's adjustments committed (their answers not yet stored),
    // the second one's still waiting for the row inside their transactions.
    const { scope, organizationId, warehouseId, variantId: committedVariant } = await stockedOrganization(10);
    const pendingVariant = randomUUID();
    await receiveStock(scope, pendingVariant, warehouseId, 10);
    const token = await tokenFor(organizationId);
    const adjust = (variantId: string, key: string) =>
      fetch(`http://127.0.0.1:${port}/api/v1/adjustments`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, 'Idempotency-Key': key },
        body: JSON.stringify({ variant_id: variantId, warehouse_id: warehouseId, reason_code: 'receipt', quantity: 1 }),
      });
    const calls = [
      ...Array.from({ length: 4 }, (_, i) => ({ variantId: committedVariant, key: `committed-${i}` })),
      ...Array.from({ length: 4 }, (_, i) => ({ variantId: pendingVariant, key: `pending-${i}` })),
    ];
    const lockRow = async (variantId: string) => {
      const lock = await holdRowLock(
        'select 1 from stock where organization_id = ? and variant_id = ? and warehouse_id = ? for update',
        [organizationId, variantId, warehouseId],
      );
      locks.push(lock);
      return lock;
    };
    const committedRow = await lockRow(committedVariant);
    const pendingRow = await lockRow(pendingVariant);
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
    // Deliberately age the dead requests' claims past the takeover rather than wait a minute: their retries may run.
    await scope.em
      .fork()
      .execute(
        `update idempotency_key set created_at = created_at - make_interval(secs => ?) where organization_id = ? and state = 'in_flight'`,
        [staleClaimSeconds + 1, organizationId],
      );

    await server();
    const restartedAt = Date.now();
    const answers = await Promise.all(
      calls.map(({ variantId, key }) =>
        waitFor(
          async () => {
            const response = await adjust(variantId, key).catch(() => undefined);
            return response && { status: response.status, body: (await response.json()) as { adjustment_id?: string } };
          },
          (answer) => answer !== undefined && answer.status !== 409 && answer.status < 500,
          `a definite answer to ${key}`,
          30_000,
        ),
      ),
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
});
