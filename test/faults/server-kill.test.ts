import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities/index.ts';
import { createReservationClient } from '../../services/workflow-clients/reservation-client.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { grpcClient, startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { startPrivateConsumer, type PrivateConsumer } from '../helpers/consumer.ts';
import { allOrderEventsAppliedOnce, heldOrders, inbox, type OrderEvent, publishOrderEvent } from './event-checks.ts';
import { testStack } from '../helpers/stack.ts';
import { workflowBundle } from '../helpers/temporal.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { assertInvariants } from './invariants.ts';
import { freePort, scratchDirectory, spawnGrpcServer, startDevServer, type ChildProcessHandle } from './processes.ts';
import {
  assertDefiniteOrRetryable,
  assertHeldOnceInLedger,
  assertHeldOnceOrRefused,
  burstRequests,
  burstStock,
  everyUntilDefinite,
  startBurst,
  waitUntilSettled,
} from './reserve-burst.ts';
import { present } from '../helpers/present.ts';

describe('faults: the Temporal server is killed (SIGKILL) and restarted on the same persistence', function () {
  this.timeout(120_000);
  let directory: Awaited<ReturnType<typeof scratchDirectory>> | undefined;
  let server: ChildProcessHandle | undefined;
  let connection: Connection | undefined;
  let nativeConnection: NativeConnection | undefined;
  let worker: { worker: Worker; running: Promise<void> } | undefined;
  const apis: ChildProcessHandle[] = [];
  let api: GrpcHarness | undefined;
  let consumer: PrivateConsumer | undefined;

  afterEach(async () => {
    await Promise.all(apis.splice(0).map((a) => a.kill()));
    await consumer?.close();
    consumer = undefined;
    await api?.close();
    if (worker) {
      if (worker.worker.getState() === 'RUNNING') worker.worker.shutdown();
      // A worker whose server is gone may take long to drain its polls: give it 10 s, then go on cleaning up.
      await Promise.race([worker.running.catch(() => undefined), sleep(10_000)]);
    }
    await nativeConnection?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await server?.kill();
    await directory?.remove();
    directory = server = connection = nativeConnection = worker = api = undefined;
  });

  /** A dev server of the test's own on a SQLite file, an in-process worker on it, and a client. */
  async function ownServerWithWorker() {
    directory = await scratchDirectory();
    const dbFile = join(directory.path, 'temporal.db');
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    server = await startDevServer({ dbFile, port });
    const stack = testStack();
    const taskQueue = `faults-server-${randomUUID()}`;
    connection = await Connection.connect({ address });
    nativeConnection = await NativeConnection.connect({ address });
    const created = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(stack),
    });
    worker = { worker: created, running: created.run() };
    return {
      address,
      taskQueue,
      client: new Client({ connection }),
      /**
       * SIGKILLs the server, keeps it down `downMs` (then runs `whileDown`), and starts it again on the same
       * file and port.
       */
      restartAfter: async (downMs: number, whileDown?: () => Promise<void>) => {
        await present(server, 'the server').kill();
        await sleep(downMs);
        await whileDown?.();
        server = await startDevServer({ dbFile, port });
      },
    };
  }

  it('Temporal server SIGKILLed while the consumer applies order.confirmed and order.cancelled, down 22 s, restarted on its SQLite file: nothing is dead-lettered for the outage, and each event, duplicates included, is applied exactly once', async () => {
    const { client, taskQueue, restartAfter } = await ownServerWithWorker();
    api = await startGrpc({ taskQueue, temporalClient: client });
    const started = await startPrivateConsumer('faults-consumer-server', taskQueue, { temporalClient: client });
    consumer = started;
    const orders = await heldOrders(api, { label: 'consumer-server', count: 8, stocked: 20 });
    const channel = await started.broker.createConfirmChannel();
    const publish = (e: OrderEvent) => publishOrderEvent(channel, started.exchanges.order, orders.organizationId, e);
    for (const e of orders.events.slice(0, 2)) await publish(e);
    await waitFor(
      () => inbox(orders.scope),
      (rows) => rows.length >= 2,
      'the first events applied',
    );

    // The rest, and a second copy of one already applied, are in the consumer's hands when the server dies.
    for (const e of [...orders.events.slice(2), ...orders.events.slice(0, 1)]) await publish(e);
    // Deliberately keep the server down past what the private consumer's two counted attempts would take.
    await restartAfter(22_000, async () =>
      assert.equal(
        (await channel.checkQueue(started.topology.deadLetterQueue)).messageCount,
        0,
        'nothing dead-lettered during the outage',
      ),
    );
    const recoveredMs = await allOrderEventsAppliedOnce(channel, started, orders, Date.now(), {
      timeoutMs: 60_000,
      client,
    });
    await channel.close();
    console.log(
      `      consumer: ${orders.events.length} events (+1 duplicate) all applied ${recoveredMs} ms after the server was started again`,
    );
  });

  it('Temporal server SIGKILLed while hold timers run (TTL 3 s and 8 s), down past the first expiries, restarted on its SQLite file: every hold expires exactly once', async () => {
    const stack = testStack();
    const { client, taskQueue, restartAfter } = await ownServerWithWorker();
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

    // Deliberately keep the server down until the 3-second holds are past their expiry: their timers fire on recovery.
    await restartAfter(Math.max(firstExpiry - Date.now(), 0) + 1000, async () =>
      assert.equal(
        (await stockRow(scope, variantId, warehouseId))?.reserved,
        6,
        'nothing expires while the server is down',
      ),
    );
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
    assert.equal(present(worker, 'the worker').worker.getState(), 'RUNNING', 'the worker rode out the outage');
    const [{ n } = { n: 0 }] = await scope.em
      .fork()
      .execute<{ n: number }[]>(
        "select count(*)::int as n from stock_movement where organization_id = ? and type = 'release'",
        [organizationId],
      );
    assert.equal(n, 6, 'exactly one release per hold');
    await assertInvariants({ em: scope.em, organizationId, client });
  });
  it('Temporal server SIGKILLed during a ReserveStock burst, down 2 s, restarted on its SQLite file: each of 30 orders for 20 units ends held exactly once or refused, and the same request sent again gets the definite answer', async () => {
    const stack = testStack();
    const { address, client, taskQueue, restartAfter } = await ownServerWithWorker();
    const jwksFile = join(present(directory, 'the scratch directory').path, 'jwks.json');
    await writeFile(jwksFile, JSON.stringify(stack.issuer.jwks));
    const port = await freePort();
    apis.push(await spawnGrpcServer({ port, address, taskQueue, databaseUrl: stack.databaseUrl, jwksFile }));
    api = grpcClient(`127.0.0.1:${port}`);
    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(burstStock);
    const versionBefore = present((await stockRow(scope, variantId, warehouseId))?.version, 'the stock version');
    const requests = burstRequests(organizationId, variantId);

    // The kill lands inside the burst: at its first answer, the other calls in flight in the gRPC server and the worker.
    const burst = await startBurst(api, requests);
    await restartAfter(2000);
    const restartedAt = Date.now();
    const firstAnswers = await burst.answers;
    const firstAnsweredMs = Date.now() - restartedAt;
    const lost = assertDefiniteOrRetryable(firstAnswers);

    // Every caller sends the same request again until it gets a definite answer; one already answered gets the same one.
    const outcomes = await everyUntilDefinite(present(api, 'client'), requests);
    const answeredMs = Date.now() - restartedAt;
    assertHeldOnceOrRefused(firstAnswers, outcomes, burst.inFlight);
    await assertHeldOnceInLedger({ scope, variantId, warehouseId, versionBefore, requests, outcomes });
    await waitUntilSettled(client, organizationId, requests);
    const settledMs = Date.now() - restartedAt;
    assert.equal(present(worker, 'the worker').worker.getState(), 'RUNNING', 'the worker rode out the outage');
    console.log(
      `      server kill in a burst: ${burst.inFlight} calls in flight at the kill, ${lost} answered "try again"; every first answer ${firstAnsweredMs} ms, every order answered ${answeredMs} ms and every workflow settled ${settledMs} ms after the restart`,
    );
    await assertInvariants({ em: scope.em, organizationId, client });
  });
});
