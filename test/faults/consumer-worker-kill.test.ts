import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startPrivateConsumer, type PrivateConsumer } from '../helpers/consumer.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { present } from '../helpers/present.ts';
import { testStack } from '../helpers/stack.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { assertEachAppliedOnce, heldOrders, inbox, type OrderEvent, publishOrderEvent } from './event-checks.ts';
import { assertInvariants } from './invariants.ts';
import { childWorkers } from './processes.ts';

/**
 * How long no worker runs: past what the private consumer's two counted attempts would take (each waits
 * out the workflow client's 10 s deadline), so that counting them would dead-letter the events.
 */
const outageMs = 25_000;

describe('faults: the worker is killed (SIGKILL) while the consumer applies order events', function () {
  this.timeout(120_000);
  const workers = childWorkers();
  let consumer: PrivateConsumer | undefined;
  let api: GrpcHarness | undefined;

  afterEach(async () => {
    await consumer?.close();
    await api?.close();
    consumer = api = undefined;
  });

  it('worker SIGKILLed while order.confirmed and order.cancelled are applied, down 25 s: nothing is dead-lettered for the outage, and once a new worker runs each event, duplicates included, is applied exactly once', async () => {
    const stack = testStack();
    const taskQueue = `faults-consumer-worker-${randomUUID()}`;
    const first = await workers.start({ taskQueue });
    api = await startGrpc({ taskQueue });
    consumer = await startPrivateConsumer('faults-consumer-worker', taskQueue);
    const orders = await heldOrders(api, { label: 'consumer-worker', count: 8, stocked: 20 });
    const channel = await consumer.broker.createConfirmChannel();
    const publish = (e: OrderEvent) =>
      publishOrderEvent(channel, consumer?.exchanges.order ?? '', orders.organizationId, e);
    const applied = () => inbox(orders.scope);
    for (const e of orders.events.slice(0, 2)) await publish(e);
    await waitFor(applied, (rows) => rows.length >= 2, 'the first events applied');

    await first.kill();
    // The rest, and a second copy of one already applied, arrive while no worker runs.
    for (const e of [...orders.events.slice(2), ...orders.events.slice(0, 1)]) await publish(e);
    // Deliberately keep the worker away past what two counted attempts would take.
    await sleep(outageMs);
    const appliedWhileDown = (await applied()).length;
    const { deadLetterQueue } = consumer.topology;
    assert.equal(
      (await channel.checkQueue(deadLetterQueue)).messageCount,
      0,
      'nothing dead-lettered during the outage',
    );

    await workers.start({ taskQueue });
    const backAt = Date.now();
    await waitFor(applied, (rows) => rows.length >= orders.events.length, 'every event applied', 60_000);
    const recoveredMs = Date.now() - backAt;
    const orderQueue = present(
      consumer.topology.sources.find((s) => s.name === 'order'),
      'the order source',
    ).queue;
    await waitFor(
      async () => (await channel.checkQueue(orderQueue)).messageCount,
      (n) => n === 0,
      'the queue drained, the duplicate included',
    );
    assert.equal((await channel.checkQueue(deadLetterQueue)).messageCount, 0, 'nothing dead-lettered');
    assert.equal(appliedWhileDown, 2, 'nothing applied while no worker ran');
    await assertEachAppliedOnce(orders.scope, orders.events, {
      variantId: orders.variantId,
      warehouseId: orders.warehouseId,
      stocked: 20,
    });
    await channel.close();
    await assertInvariants({
      em: orders.scope.em,
      organizationId: orders.organizationId,
      client: stack.temporal.client,
    });
    console.log(
      `      consumer: ${orders.events.length} events (+1 duplicate) all applied ${recoveredMs} ms after the new worker started`,
    );
  });
});
