import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startPrivateConsumer, type PrivateConsumer } from '../helpers/consumer.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { testStack } from '../helpers/stack.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { allOrderEventsAppliedOnce, heldOrders, inbox, type OrderEvent, publishOrderEvent } from './event-checks.ts';
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
    const _stack = testStack();
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
    const recoveredMs = await allOrderEventsAppliedOnce(channel, consumer, orders, Date.now(), { timeoutMs: 60_000 });
    assert.equal(appliedWhileDown, 2, 'nothing applied while no worker ran');
    await channel.close();
    console.log(
      `      consumer: ${orders.events.length} events (+1 duplicate) all applied ${recoveredMs} ms after the new worker started`,
    );
  });
});
