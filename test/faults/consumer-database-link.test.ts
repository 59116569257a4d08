import { openOrm, type Orm } from '../../services/db/orm.ts';
import { startPrivateConsumer, type PrivateConsumer } from '../helpers/consumer.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { testStack } from '../helpers/stack.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { allOrderEventsAppliedOnce, heldOrders, inbox, type OrderEvent, publishOrderEvent } from './event-checks.ts';
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
    const recoveredMs = await allOrderEventsAppliedOnce(channel, consumer, orders, Date.now());
    await channel.close();
    console.log(
      `      consumer: ${orders.events.length} events (+2 duplicates) all applied ${recoveredMs} ms after the database came back`,
    );
  });
});
