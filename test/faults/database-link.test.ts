import assert from 'node:assert/strict';
import { createActivities } from '../../activities/index.ts';
import { openOrm, type Orm } from '../../services/db/orm.ts';
import { reservationWorkflowId } from '../../workflows/definitions.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { startHttp } from '../helpers/http.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { newOrganization, testStack } from '../helpers/stack.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';
import { sleep } from '../helpers/wait.ts';
import { assertInvariants } from './invariants.ts';
import { proxyInFront, reserveUntilDefinite } from './links.ts';
import { poolFullyReturned } from './pool-use.ts';
import { reserveBurstAcrossFault } from './database-burst.ts';
import { cancelAcrossFault, shipAcrossFault } from './transfer-step.ts';
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
  async function proxiedWorker(): Promise<{ proxy: TcpProxy; api: GrpcHarness; taskQueue: string }> {
    const stack = testStack();
    const proxied = await proxyInFront(stack.databaseUrl, 5432);
    proxy = proxied.proxy;
    // The default pool (10): a cut connection is given back and dropped, so the pool never runs dry.
    orm = await openOrm(proxied.url);
    worker = await startWorker({ activities: createActivities({ orm, systemOrm: stack.systemOrm }) });
    api = await startGrpc({ taskQueue: worker.taskQueue });
    return { proxy, api, taskQueue: worker.taskQueue };
  }

  afterEach(async () => {
    proxy?.latency(0);
    proxy?.refuse(false);
    await api?.close();
    await worker?.stop();
    await proxy?.close();
    await orm?.close(true);
    proxy = orm = worker = api = undefined;
  });

  it('PostgreSQL connections cut during a ReserveStock burst and hold expiries, new ones refused for 3 s: each order held once or refused, each expired hold released once, every workflow settles, the pool gets every connection back', async () => {
    const { client } = testStack().temporal;
    const { proxy, api } = await proxiedWorker();
    const scope = newOrganization();
    const { inFlightAtFault, settledMs } = await reserveBurstAcrossFault({
      api,
      client,
      scope,
      fault: {
        begin: async () => {
          proxy.refuse(true);
          proxy.cutAll();
        },
        whileBroken: async ({ variantId, warehouseId }) => {
          const { reserved } = present(await stockRow(scope, variantId, warehouseId), 'the stock row');
          assert.equal(reserved, 6, 'no hold is released while the worker cannot reach the database');
        },
        end: async () => proxy.refuse(false),
      },
    });
    console.log(
      `      database cut: ${inFlightAtFault} orders in flight at the cut; every workflow settled ${settledMs} ms after the database came back`,
    );
    // The connections whose sockets were cut, transactions open on them included, were given back and dropped.
    const pool = await poolFullyReturned(present(orm, 'the worker pool'));
    assert.ok(pool.total <= 10, `the pool holds ${pool.total} connections`);
  });

  for (const [during, what, scenario] of [
    [
      'with a transfer step in flight',
      'the step is retried, the transfer completes, units conserved, one movement per step',
      shipAcrossFault,
    ],
    [
      "with a cancelled transfer's compensation in flight",
      'the compensation is retried, each runs once, the units are back at the origin',
      cancelAcrossFault,
    ],
  ] as const) {
    it(`PostgreSQL connections cut ${during}, new ones refused for 3 s: ${what}`, async () => {
      const stack = testStack();
      const { proxy, taskQueue } = await proxiedWorker();
      // The REST facade on the direct database: only the worker loses its link.
      const rest = await startHttp({ taskQueue });
      try {
        const { firstStatus, firstMs } = await scenario({
          http: rest,
          client: stack.temporal.client,
          scope: newOrganization(),
          lockUrl: stack.observerDatabaseUrl,
          fault: {
            begin: async () => {
              proxy.refuse(true);
              proxy.cutAll();
            },
            end: async () => proxy.refuse(false),
          },
        });
        console.log(
          `      database cut ${during}: the first call answered ${firstStatus} ${firstMs} ms after the database came back`,
        );
      } finally {
        await rest.close();
      }
      await poolFullyReturned(present(orm, 'the worker pool'));
    });
  }

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
