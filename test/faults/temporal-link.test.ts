import assert from 'node:assert/strict';
import { NativeConnection } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { reservationWorkflowId } from '../../workflows/definitions.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { present } from '../helpers/present.ts';
import { testStack } from '../helpers/stack.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { sleep } from '../helpers/wait.ts';
import { assertInvariants } from './invariants.ts';
import { reserveUntilDefinite } from './links.ts';

const { EventType } = proto.temporal.api.enums.v1;

/** Each chunk's delay, each way: a workflow task's round trip through it outlasts its 10 s timeout. */
const latencyMs = 6000;
/** How long the link stays slow. */
const slowMs = 10_000;

describe("faults: the worker's Temporal link is slow (a TCP proxy between the worker and the Temporal server)", function () {
  this.timeout(120_000);
  let proxy: TcpProxy | undefined;
  let connection: NativeConnection | undefined;
  let worker: RunningWorker | undefined;
  let api: GrpcHarness | undefined;

  afterEach(async () => {
    proxy?.latency(0);
    await api?.close();
    await worker?.stop();
    await connection?.close();
    await proxy?.close();
    proxy = connection = worker = api = undefined;
  });

  it("worker's Temporal link slowed to 6 s per chunk each way for 10 s during ReserveStock: workflow tasks time out and are retried, and each caller sending the same request until it gets a definite answer gets its order held exactly once", async () => {
    const stack = testStack();
    const [host, port] = stack.temporal.address.split(':');
    proxy = await startTcpProxy(present(host, 'the host'), Number(port));
    connection = await NativeConnection.connect({ address: `127.0.0.1:${proxy.port}` });
    worker = await startWorker({ connection });
    api = await startGrpc({ taskQueue: worker.taskQueue });
    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
    const orders = Array.from({ length: 6 }, (_, i) => ({
      organization_id: organizationId,
      order_id: `slow-temporal-${i}`,
      lines: [{ variant_id: variantId, quantity: 1 }],
      ttl_seconds: 120,
    }));

    proxy.latency(latencyMs);
    const outcomes = Promise.all(orders.map((request) => reserveUntilDefinite(api as GrpcHarness, request, 90_000)));
    // Deliberately keep the link slow: the worker's polls and completions each take seconds.
    await sleep(slowMs);
    proxy.latency(0);

    const answers = await outcomes;
    assert.deepEqual(
      answers.map((a) => ('held' in a ? 'held' : a.refused.message)),
      orders.map(() => 'held'),
    );
    const timedOut: string[] = [];
    for (const order of orders) {
      const history = await stack.temporal.client.workflow
        .getHandle(reservationWorkflowId(organizationId, order.order_id))
        .fetchHistory();
      if (history.events?.some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT))
        timedOut.push(order.order_id);
    }
    assert.ok(timedOut.length > 0, 'some workflow task timed out and was retried');
    const row = present(await stockRow(scope, variantId, warehouseId), 'the stock row');
    assert.deepEqual({ available: row.available, reserved: row.reserved }, { available: 4, reserved: 6 });
    await assertInvariants({ em: scope.em, organizationId, client: stack.temporal.client });
    console.log(`      ${timedOut.length} of ${orders.length} workflows had a workflow task time out; all held once`);
  });
});
