import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { applyOperation } from '../../services/inventory/stock/ledger.ts';
import { createEventConsumer } from '../../services/messaging/event-consumer.ts';
import { createOrderEventHandlers } from '../../services/messaging/order-events.ts';
import type { OutboxRelay } from '../../services/messaging/outbox-relay.ts';
import {
  declareConsumerTopology,
  orderEventNames,
  type ConsumedSource,
  type ConsumerTopology,
} from '../../services/messaging/topology.ts';
import type { ReceivedEvent } from '../helpers/amqp.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { present } from '../helpers/present.ts';
import { testStack } from '../helpers/stack.ts';
import { reservationClientFor, startWorker, type RunningWorker } from '../helpers/temporal.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import {
  assertEachAppliedOnce,
  assertPublishedInOrder,
  heldOrders,
  inbox,
  outboxIds,
  publishOrderEvent,
  ledgerWriter,
  receivedEvent,
  startRelay,
  unpublishedCount,
} from './event-checks.ts';
import { assertInvariants } from './invariants.ts';
import { startRabbitNode, type RabbitNode } from './rabbitmq-node.ts';

/** How long the broker stays dead after the last write: the relay and the consumer retry against a node that is gone. */
const downMs = 3000;

/** Bound to the relay's exchange on the node: where every outbox row's event must arrive. */
const relayQueue = 'relay-kill.events';
/** The consumer's one source on the node: the order service's events. */
const orderSource: ConsumedSource = {
  name: 'order',
  exchange: 'order.events',
  queue: 'inventory.order-events',
  events: orderEventNames,
};
const consumerTopology: ConsumerTopology = { sources: [orderSource], deadLetterQueue: 'inventory.dead-letter' };

/** A confirm channel on the node, its errors (the node dying under it) expected. */
async function confirmChannel(url: string): Promise<{ connection: ChannelModel; channel: ConfirmChannel }> {
  const connection = await amqp.connect(url);
  connection.on('error', () => undefined);
  const channel = await connection.createConfirmChannel();
  channel.on('error', () => undefined);
  return { connection, channel };
}

describe("faults: the RabbitMQ broker is SIGKILLed and restarted on the same data (a node of the test's own)", function () {
  this.timeout(120_000);
  let node: RabbitNode | undefined;
  let relay: OutboxRelay | undefined;
  let consumer: ReturnType<typeof createEventConsumer> | undefined;
  let publisher: ChannelModel | undefined;
  let worker: RunningWorker | undefined;
  let api: GrpcHarness | undefined;

  before(async () => {
    const rabbit = await startRabbitNode('broker-kill');
    node = rabbit;
    const setup = await confirmChannel(rabbit.url);
    // What a consumer service would bind to the events exchange: a durable quorum queue, so what the broker
    // confirmed outlives the kill.
    await setup.channel.assertExchange(testStack().exchange, 'topic', { durable: true });
    await setup.channel.assertQueue(relayQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await setup.channel.bindQueue(relayQueue, testStack().exchange, 'inventory.#');
    await declareConsumerTopology(setup.channel, consumerTopology);
    await setup.connection.close();
    // A queue declared moments before a hard crash does not survive it on RabbitMQ 3.10 (README, Failure model):
    // one clean restart, as any broker that has run a while has had, makes the topology durable.
    await rabbit.stop();
    await rabbit.start();
  });

  afterEach(async () => {
    await relay?.stop();
    await consumer?.stop({ graceMs: 5000 });
    await publisher?.close().catch(() => undefined);
    await api?.close();
    await worker?.stop();
    relay = consumer = publisher = worker = api = undefined;
    // A test that failed with the broker down leaves it down: the next one needs it.
    if (node && !node.running()) await node.start();
  });

  after(async () => {
    await node?.remove();
  });

  it("broker SIGKILLed while the relay publishes ledger events, restarted 3 s after the last write: every outbox row's event reaches it at least once (those confirmed before the kill survive it), each stock row's in order, all marked published, none for a change that rolled back", async () => {
    const rabbit = present(node, 'the RabbitMQ node');
    relay = await startRelay(rabbit.url);
    const { scope, warehouseId, variants, write, written } = await ledgerWriter();
    for (let i = 0; i < 10; i++) await write();
    await waitFor(
      () => unpublishedCount(scope),
      (n) => n < 10,
      'the relay to be publishing',
      20_000,
    );

    // The kill lands among 20 more writes, each published as soon as the relay's next poll sees it.
    const writing = (async () => {
      for (let i = 0; i < 20; i++) {
        await write();
        await sleep(100);
      }
    })();
    while (written() < 12) await sleep(10);
    const killedAt = new Date();
    await rabbit.kill();
    // A change that rolls back while the broker is down: its event must never reach any broker.
    const rolledBackVariant = randomUUID();
    await assert.rejects(
      scope.transaction(async (tx) => {
        await applyOperation(tx, {
          operationKey: `rolled-back-${randomUUID()}`,
          actor: 'test',
          reference: { type: 'test', id: 'rolled-back' },
          changes: [
            {
              variantId: rolledBackVariant,
              warehouseId,
              type: 'receipt',
              deltas: { available: 1 },
              createIfMissing: true,
            },
          ],
        });
        throw new Error('rolled back on purpose');
      }),
      /rolled back on purpose/,
    );
    await writing;
    // Deliberately keep the broker dead a while after the last write.
    await sleep(downMs);
    assert.equal(relay.status().connected, false, 'the relay saw the broker go');
    const [{ n: writtenAfterKill } = { n: 0 }] = await scope.em
      .fork()
      .execute<{ n: number }[]>(
        'select count(*)::int as n from outbox_event where organization_id = ? and created_at > ?',
        [scope.organizationId, killedAt],
      );
    // Marked published while the broker is dead: each was confirmed before the kill.
    const confirmedBeforeKill = await scope.em
      .fork()
      .execute<{ id: string }[]>('select id from outbox_event where organization_id = ? and published_at is not null', [
        scope.organizationId,
      ]);

    await rabbit.start();
    const backAt = Date.now();
    await waitFor(
      () => unpublishedCount(scope),
      (n) => n === 0,
      'every row marked published',
      30_000,
    );
    const recoveredMs = Date.now() - backAt;

    // Every row is marked, so every event was confirmed: it is in the queue.
    const arrivals: ReceivedEvent[] = [];
    const reader = await amqp.connect(rabbit.url);
    try {
      const channel = await reader.createChannel();
      for (
        let m = await channel.get(relayQueue, { noAck: true });
        m;
        m = await channel.get(relayQueue, { noAck: true })
      )
        arrivals.push(receivedEvent(m));
    } finally {
      await reader.close();
    }
    const mine = arrivals.filter((e) => e.body.organization_id === scope.organizationId);
    const outbox = await outboxIds(scope);
    const changes = new Set(mine.filter((e) => e.routingKey === 'inventory.stock.updated').map((e) => e.messageId));
    assert.equal(changes.size, written(), 'one stock.updated event per committed change');
    assert.ok(confirmedBeforeKill.length > 0, 'events were confirmed before the kill');
    const got = new Set(mine.map((e) => e.messageId));
    assert.deepEqual(
      confirmedBeforeKill.filter((row) => !got.has(row.id)),
      [],
      'every event the broker confirmed before the kill survived it',
    );
    assert.deepEqual(
      mine.filter((e) => e.body.data.variant_id === rolledBackVariant),
      [],
      'no event for the change that rolled back',
    );
    const duplicates = assertPublishedInOrder(mine, outbox, variants.length);
    console.log(
      `      relay: ${outbox.length} events, ${writtenAfterKill} written after the kill, ${confirmedBeforeKill.length} confirmed before it (all survived); all published ${recoveredMs} ms after the broker accepted connections again, ${duplicates} duplicates`,
    );
    await assertInvariants({ em: scope.em, organizationId: scope.organizationId });
  });

  it('broker SIGKILLed while the consumer applies order events, restarted 3 s later: each event, duplicates and redeliveries included, is applied exactly once; those confirmed but not yet applied at the kill survive it; none dead-lettered', async () => {
    const stack = testStack();
    const rabbit = present(node, 'the RabbitMQ node');
    worker = await startWorker();
    const grpcApi = await startGrpc({ taskQueue: worker.taskQueue });
    api = grpcApi;
    consumer = createEventConsumer({
      orm: stack.orm,
      amqpUrl: rabbit.url,
      logger: stack.logger,
      maxAttempts: 5,
      // Four in hand at a time, so most events are still waiting in the queue when the broker dies.
      prefetch: 4,
      topology: consumerTopology,
      handlers: {
        order: createOrderEventHandlers({
          orm: stack.orm,
          reservations: reservationClientFor(worker.taskQueue),
          logger: stack.logger,
        }),
      },
    });
    await consumer.start();
    await consumer.ready();
    const stocked = 20;
    const { scope, organizationId, warehouseId, variantId, events } = await heldOrders(grpcApi, {
      label: 'killed-broker',
      count: 16,
      stocked,
    });

    const first = await confirmChannel(rabbit.url);
    publisher = first.connection;
    // Every event is confirmed (in the quorum queue, on disk) before the kill.
    for (const e of events) await publishOrderEvent(first.channel, orderSource.exchange, organizationId, e);
    await waitFor(
      () => inbox(scope),
      (rows) => rows.length >= 2,
      'the consumer to be applying',
    );
    await rabbit.kill();
    publisher = undefined;
    // Deliberately keep the broker dead past the deliveries in hand.
    await sleep(downMs);
    const appliedWhileDown = (await inbox(scope)).length;
    assert.equal(consumer.state().consuming, false, 'the consumer saw the broker go');

    await rabbit.start();
    const backAt = Date.now();
    const second = await confirmChannel(rabbit.url);
    publisher = second.connection;
    // The order service sends two again after the restart (it did not see their confirms, say).
    for (const e of events.slice(0, 2))
      await publishOrderEvent(second.channel, orderSource.exchange, organizationId, e);
    await waitFor(
      () => inbox(scope),
      (rows) => rows.length >= events.length,
      'every event applied',
      30_000,
    );
    const recoveredMs = Date.now() - backAt;
    await waitFor(
      async () => ({
        waiting: (await second.channel.checkQueue(orderSource.queue)).messageCount,
        inFlight: consumer?.state().inFlight,
      }),
      (s) => s.waiting === 0 && s.inFlight === 0,
      'the queue drained, the duplicates included',
    );

    assert.ok(
      appliedWhileDown < events.length,
      `events confirmed before the kill were still waiting when it came (${appliedWhileDown} of ${events.length} applied)`,
    );
    await assertEachAppliedOnce(scope, events, { variantId, warehouseId, stocked });
    assert.equal(
      (await second.channel.checkQueue(consumerTopology.deadLetterQueue)).messageCount,
      0,
      'nothing dead-lettered',
    );
    console.log(
      `      consumer: ${events.length} events (+2 duplicates), ${appliedWhileDown} applied before the kill (or in hand at it), the other ${events.length - appliedWhileDown} survived it; all applied ${recoveredMs} ms after the broker accepted connections again`,
    );
    await assertInvariants({ em: scope.em, organizationId, client: stack.temporal.client });
  });
});
