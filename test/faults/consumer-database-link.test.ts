import assert from 'node:assert/strict';
import { openOrm, type Orm } from '../../services/db/orm.ts';
import { startPrivateConsumer, type PrivateConsumer } from '../helpers/consumer.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { present } from '../helpers/present.ts';
import { testStack } from '../helpers/stack.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { assertEachAppliedOnce, heldOrders, inbox, type OrderEvent, publishOrderEvent } from './event-checks.ts';
import { assertInvariants } from './invariants.ts';
import { proxyInFront } from './links.ts';

/** Longer than the consumer's two attempts (the private consumer's maxAttempts) take to run out, were they counted. */
const outageMs = 5000;

describe("faults: the consumer's PostgreSQL link fails (a TCP proxy between the consumer and the database)", function () {
  this.timeout(120_000);
  let proxy: TcpProxy | undefined;
  let orm: Orm | undefined;
  let consumer: PrivateConsumer | undefined;
  let worker: RunningWorker | undefined;
  let api: GrpcHarness | undefined;

  afterEach(async () => {
    proxy?.refuse(false);
    await consumer?.close();
    await api?.close();
    await worker?.stop();
    await orm?.close(true);
    await proxy?.close();
    proxy = orm = consumer = worker = api = undefined;
  });

  it("consumer's PostgreSQL connections cut and refused for 5 s while order events are applied: nothing is dead-lettered for the outage, and afterwards each event, duplicates included, is applied exactly once", async () => {
    const stack = testStack();
    worker = await startWorker();
    api = await startGrpc({ taskQueue: worker.taskQueue });
    const proxied = await proxyInFront(stack.databaseUrl, 5432);
    proxy = proxied.proxy;
    orm = await openOrm(proxied.url, 10);
    consumer = await startPrivateConsumer('faults-consumer-db', worker.taskQueue, { orm });
    const orders = await heldOrders(api, { label: 'consumer-db', count: 12, stocked: 20 });
    const channel = await consumer.broker.createConfirmChannel();
    const exchange = consumer.exchanges.order;
    const publish = (e: OrderEvent) => publishOrderEvent(channel, exchange, orders.organizationId, e);
    const applied = () => inbox(orders.scope);
    for (const e of orders.events.slice(0, 4)) await publish(e);
    await waitFor(applied, (rows) => rows.length > 0, 'the first event applied');

    proxy.refuse(true);
    proxy.cutAll();
    // The rest, and a second copy of two already sent, arrive while the consumer cannot reach the database.
    for (const e of [...orders.events.slice(4), ...orders.events.slice(0, 2)]) await publish(e);
    // Deliberately keep the database away: the deliveries in hand fail and come back.
    await sleep(outageMs);
    proxy.refuse(false);
    const backAt = Date.now();

    await waitFor(applied, (rows) => rows.length >= orders.events.length, 'every event applied', 45_000);
    const recoveredMs = Date.now() - backAt;
    const { deadLetterQueue } = consumer.topology;
    const orderQueue = present(
      consumer.topology.sources.find((s) => s.name === 'order'),
      'the order source',
    ).queue;
    await waitFor(
      async () => (await channel.checkQueue(orderQueue)).messageCount,
      (n) => n === 0,
      'the queue drained, the duplicates included',
    );
    assert.equal((await channel.checkQueue(deadLetterQueue)).messageCount, 0, 'nothing dead-lettered');
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
      `      consumer: ${orders.events.length} events (+2 duplicates) all applied ${recoveredMs} ms after the database came back`,
    );
  });
});
