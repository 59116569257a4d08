import assert from 'node:assert/strict';
import type { OutboxRelay } from '../../services/messaging/outbox-relay.ts';
import { bindEventQueue, type EventQueue, type ReceivedEvent } from '../helpers/amqp.ts';
import { startPrivateConsumer, type PrivateConsumer } from '../helpers/consumer.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { testStack } from '../helpers/stack.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import {
  assertEachAppliedOnce,
  assertPublishedInOrder,
  heldOrders,
  inbox,
  ledgerWriter,
  type OrderEvent,
  outboxIds,
  publishOrderEvent,
  startRelay,
  unpublishedCount,
} from './event-checks.ts';
import { assertInvariants } from './invariants.ts';
import { proxyInFront } from './links.ts';

/** Longer than the relay's and the consumer's reconnect backoff cap (10 s, services/messaging/*), so they retry at the cap. */
const outageMs = 12_000;

describe("faults: a process's RabbitMQ link is down longer than its retry window (a TCP proxy between it and the broker)", function () {
  this.timeout(120_000);
  let proxy: TcpProxy | undefined;
  let relay: OutboxRelay | undefined;
  let queue: EventQueue | undefined;
  let consumer: PrivateConsumer | undefined;
  let worker: RunningWorker | undefined;
  let api: GrpcHarness | undefined;

  afterEach(async () => {
    proxy?.refuse(false);
    await relay?.stop();
    await consumer?.close();
    await queue?.close();
    await api?.close();
    await worker?.stop();
    await proxy?.close();
    proxy = relay = queue = consumer = worker = api = undefined;
  });

  it("relay's broker refused and cut for 12 s while ledger operations keep writing events: afterwards the broker gets every outbox row at least once, each stock row's events in order, all marked published", async () => {
    const stack = testStack();
    queue = await bindEventQueue();
    const proxied = await proxyInFront(stack.amqpUrl, 5672);
    proxy = proxied.proxy;
    relay = await startRelay(proxied.url);
    const { scope, variants, write } = await ledgerWriter();
    const mine = (received: ReceivedEvent[]) => received.filter((e) => e.body.organization_id === scope.organizationId);
    for (let i = 0; i < 6; i++) await write();
    await queue.waitFor((r) => mine(r).length > 0, 20_000, 'the stream to be under way');

    proxy.refuse(true);
    proxy.cutAll();
    const downAt = new Date();
    while (Date.now() - downAt.getTime() < outageMs) {
      await write();
      // Deliberately paced: events keep arriving in the outbox throughout the outage.
      await sleep(400);
    }
    const writtenWhileDown = await scope.em
      .fork()
      .execute<{ id: string }[]>('select id from outbox_event where organization_id = ? and created_at > ?', [
        scope.organizationId,
        downAt,
      ]);
    const arrivedWhileDown = new Set(mine(queue.received).map((e) => e.messageId));
    assert.equal(relay.status().connected, false, 'the relay saw the broker go');
    assert.deepEqual(
      writtenWhileDown.filter((row) => arrivedWhileDown.has(row.id)),
      [],
      'nothing written during the outage was published during it',
    );
    proxy.refuse(false);
    const backAt = Date.now();

    const outbox = await outboxIds(scope);
    assert.ok(writtenWhileDown.length >= 20, `events were written during the outage (${writtenWhileDown.length})`);
    await queue.waitFor(
      (r) => {
        const got = new Set(mine(r).map((e) => e.messageId));
        return outbox.every((id) => got.has(id));
      },
      30_000,
      `all ${outbox.length} events once the broker is back`,
    );
    const recoveredMs = Date.now() - backAt;
    await waitFor(
      () => unpublishedCount(scope),
      (n) => n === 0,
      'every row marked published',
    );
    const duplicates = assertPublishedInOrder(mine(queue.received), outbox, variants.length);
    assert.ok(
      recoveredMs < 20_000,
      `published within the backoff cap and a batch after the broker came back (${recoveredMs} ms)`,
    );
    console.log(
      `      relay: ${outbox.length} events, ${writtenWhileDown.length} written during the outage, all published ${recoveredMs} ms after the broker came back, ${duplicates} duplicates`,
    );
    await assertInvariants({ em: scope.em, organizationId: scope.organizationId });
  });

  it("consumer's broker connection cut and refused for 12 s while order events are applied: each event, duplicates and redeliveries included, is applied exactly once, none lost", async () => {
    const stack = testStack();
    worker = await startWorker();
    const grpcApi = await startGrpc({ taskQueue: worker.taskQueue });
    api = grpcApi;
    const proxied = await proxyInFront(stack.amqpUrl, 5672);
    proxy = proxied.proxy;
    const privateConsumer = await startPrivateConsumer('faults-consumer', worker.taskQueue, { amqpUrl: proxied.url });
    consumer = privateConsumer;
    const { scope, organizationId, warehouseId, variantId, events } = await heldOrders(grpcApi, {
      label: 'consumed',
      count: 12,
      stocked: 20,
    });
    const channel = await consumer.broker.createConfirmChannel();
    const publish = (e: OrderEvent) => publishOrderEvent(channel, privateConsumer.exchanges.order, organizationId, e);
    const applied = () => inbox(scope);
    for (const e of events.slice(0, 4)) await publish(e);
    await waitFor(applied, (rows) => rows.length > 0, 'the first event applied');
    proxy.refuse(true);
    proxy.cutAll();
    // The rest, and a second copy of two already sent, reach the queue while the consumer cannot.
    for (const e of [...events.slice(4), ...events.slice(0, 2)]) await publish(e);
    // Deliberately keep the consumer's broker away past its reconnect backoff cap.
    await sleep(outageMs);
    const appliedWhileDown = (await applied()).length;
    proxy.refuse(false);
    const backAt = Date.now();
    for (const e of events.slice(2, 4)) await publish(e);

    await waitFor(applied, (r) => r.length >= events.length, 'every event applied', 30_000);
    const recoveredMs = Date.now() - backAt;
    assert.ok(
      appliedWhileDown <= 4,
      `nothing published during the outage was applied during it (${appliedWhileDown} applied)`,
    );
    await assertEachAppliedOnce(scope, events, { variantId, warehouseId, stocked: 20 });
    assert.equal(
      (await channel.checkQueue(consumer.topology.deadLetterQueue)).messageCount,
      0,
      'nothing dead-lettered',
    );
    console.log(
      `      consumer: ${events.length} events (+4 duplicates) all applied ${recoveredMs} ms after the broker came back`,
    );
    await channel.close();
    await assertInvariants({ em: scope.em, organizationId, client: stack.temporal.client });
  });
});
