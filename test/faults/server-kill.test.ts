import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities/index.ts';
import { createReservationClient } from '../../services/workflow-clients/reservation-client.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { testStack } from '../helpers/stack.ts';
import { workflowBundle } from '../helpers/temporal.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { assertInvariants } from './invariants.ts';
import { freePort, scratchDirectory, startDevServer, type ChildProcessHandle } from './processes.ts';
import { present } from '../helpers/present.ts';

describe('faults: the Temporal server is killed (SIGKILL) and restarted on the same persistence', function () {
  this.timeout(120_000);
  let directory: Awaited<ReturnType<typeof scratchDirectory>> | undefined;
  let server: ChildProcessHandle | undefined;
  let connection: Connection | undefined;
  let nativeConnection: NativeConnection | undefined;
  let worker: { worker: Worker; running: Promise<void> } | undefined;

  after(async () => {
    if (worker) {
      if (worker.worker.getState() === 'RUNNING') worker.worker.shutdown();
      // A worker whose server is gone may take long to drain its polls: give it 10 s, then go on cleaning up.
      await Promise.race([worker.running.catch(() => undefined), sleep(10_000)]);
    }
    await nativeConnection?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await server?.kill();
    await directory?.remove();
  });

  it('Temporal server SIGKILLed while hold timers run (TTL 3 s and 8 s), down past the first expiries, restarted on its SQLite file: every hold expires exactly once', async () => {
    directory = await scratchDirectory();
    const dbFile = join(directory.path, 'temporal.db');
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    server = await startDevServer({ dbFile, port });

    const stack = testStack();
    const taskQueue = `faults-server-${randomUUID()}`;
    connection = await Connection.connect({ address });
    const client = new Client({ connection });
    nativeConnection = await NativeConnection.connect({ address });
    const created = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(stack),
    });
    worker = { worker: created, running: created.run() };
    const reservations = createReservationClient({ client, taskQueue, orm: stack.orm });

    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
    const held = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        reservations.reserve(organizationId, `server-kill-${i}`, {
          items: [{ variant_id: variantId, quantity: 1 }],
          ttlSeconds: i < 3 ? 3 : 8,
        }),
      ),
    );
    const firstExpiry = Math.min(...held.map((h) => Date.parse(present(h.expiresAt, 'the hold expiry'))));
    assert.equal((await stockRow(scope, variantId, warehouseId))?.reserved, 6);

    await server.kill();
    // Deliberately keep the server down until the 3-second holds are past their expiry: their timers fire on recovery.
    await sleep(Math.max(firstExpiry - Date.now(), 0) + 1000);
    assert.equal(
      (await stockRow(scope, variantId, warehouseId))?.reserved,
      6,
      'nothing expires while the server is down',
    );

    server = await startDevServer({ dbFile, port });
    await waitFor(
      () => stockRow(scope, variantId, warehouseId),
      (row) => row?.reserved === 0,
      'every hold to expire after the restart',
      45_000,
    );
    await waitFor(
      async () =>
        (
          await scope.em
            .fork()
            .execute<{ n: number }[]>(
              "select count(*)::int as n from reservation where organization_id = ? and status = 'expired'",
              [organizationId],
            )
        )[0]?.n,
      (n) => n === 6,
      'six expired reservations',
    );
    assert.equal(worker.worker.getState(), 'RUNNING', 'the worker rode out the outage');
    const [{ n } = { n: 0 }] = await scope.em
      .fork()
      .execute<{ n: number }[]>(
        "select count(*)::int as n from stock_movement where organization_id = ? and type = 'release'",
        [organizationId],
      );
    assert.equal(n, 6, 'exactly one release per hold');
    await assertInvariants({ em: scope.em, organizationId, client });
  });
});
