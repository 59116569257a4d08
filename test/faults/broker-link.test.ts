import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createOutboxRelay, type OutboxRelay } from '../../services/messaging/outbox-relay.ts';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import { bindEventQueue, type EventQueue, type ReceivedEvent } from '../helpers/amqp.ts';
import { startPrivateConsumer, type PrivateConsumer } from '../helpers/consumer.ts';
import { createWarehouse, receiveStock, stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { newOrganization, testStack } from '../helpers/stack.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { assertInvariants } from './invariants.ts';
import { proxyInFront } from './links.ts';
import { present } from '../helpers/present.ts';

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
    // The relay runs as the system role, as in production.
    relay = createOutboxRelay({
      orm: stack.systemOrm,
      databaseUrl: stack.systemDatabaseUrl,
      amqpUrl: proxied.url,
      exchange: stack.exchange,
      logger: stack.logger,
      batchSize: 20,
      pollIntervalMs: 50,
    });
    await relay.start();

    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const variants = [randomUUID(), randomUUID(), randomUUID()];
    const mine = (received: ReceivedEvent[]) => received.filter((e) => e.body.organization_id === scope.organizationId);
    let written = 0;
    const write = async () =>
      receiveStock(scope, present(variants[written++ % variants.length], 'a variant'), warehouse.id, 1);
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

    const outbox = await scope.em
      .fork()
      .execute<{ id: string }[]>('select id from outbox_event where organization_id = ? order by sequence', [
        scope.organizationId,
      ]);
    assert.ok(writtenWhileDown.length >= 20, `events were written during the outage (${writtenWhileDown.length})`);
    await queue.waitFor(
      (r) => {
        const got = new Set(mine(r).map((e) => e.messageId));
        return outbox.every((row) => got.has(row.id));
      },
      30_000,
      `all ${outbox.length} events once the broker is back`,
    );
    const recoveredMs = Date.now() - backAt;
    await waitFor(
      async () =>
        (
          await scope.em
            .fork()
            .execute<{ n: number }[]>(
              'select count(*)::int as n from outbox_event where organization_id = ? and published_at is null',
              [scope.organizationId],
            )
        )[0]?.n,
      (n) => n === 0,
      'every row marked published',
    );

    // At least once: every row arrived; a redelivery is the same event id, which consumers deduplicate.
    const arrivals = mine(queue.received);
    const seen = new Set<string>();
    const firsts = arrivals.filter((e) => !seen.has(e.messageId) && seen.add(e.messageId));
    assert.deepEqual(
      new Set(firsts.map((e) => e.messageId)),
      new Set(outbox.map((row) => row.id)),
      "the broker got exactly the outbox's event ids",
    );
    const lastVersion = new Map<string, number>();
    for (const e of firsts.filter((e) => e.routingKey === 'inventory.stock.updated')) {
      const stockId = e.body.data.stock_id as string;
      const previous = lastVersion.get(stockId);
      if (previous !== undefined)
        assert.equal(
          e.body.data.version,
          previous + 1,
          `stock row ${stockId}: version ${e.body.data.version} arrived after ${previous}`,
        );
      lastVersion.set(stockId, e.body.data.version as number);
    }
    assert.equal(lastVersion.size, variants.length);
    assert.ok(
      recoveredMs < 20_000,
      `published within the backoff cap and a batch after the broker came back (${recoveredMs} ms)`,
    );
    console.log(
      `      relay: ${outbox.length} events, ${writtenWhileDown.length} written during the outage, all published ${recoveredMs} ms after the broker came back, ${arrivals.length - firsts.length} duplicates`,
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
    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(20);
    const orders = Array.from({ length: 12 }, (_, i) => `consumed-${i}`);
    await Promise.all(
      orders.map((orderId) =>
        grpcApi.call<ReserveStockResponse__Output>('ReserveStock', {
          organization_id: organizationId,
          order_id: orderId,
          items: [{ variant_id: variantId, quantity: 1 }],
        }),
      ),
    );

    // Even orders are cancelled (a release each), odd ones confirmed; each event has its own id.
    const events = orders.map((orderId, i) => ({
      event: i % 2 === 0 ? 'order.cancelled' : 'order.confirmed',
      orderId,
      eventId: randomUUID(),
    }));
    const channel = await consumer.broker.createConfirmChannel();
    const publish = async (e: (typeof events)[number]) => {
      const body = Buffer.from(
        JSON.stringify({
          event: e.event,
          event_id: e.eventId,
          organization_id: organizationId,
          version: '1.0',
          data: { order_id: e.orderId, reason: 'fault test' },
        }),
      );
      channel.publish(privateConsumer.exchanges.order, e.event, body, { persistent: true, messageId: e.eventId });
      await channel.waitForConfirms();
    };
    const inbox = async () =>
      scope.em
        .fork()
        .execute<{ event_id: string; outcome: string }[]>(
          'select event_id, outcome from inbox_event where organization_id = ?',
          [organizationId],
        );

    for (const e of events.slice(0, 4)) await publish(e);
    await waitFor(inbox, (rows) => rows.length > 0, 'the first event applied');
    proxy.refuse(true);
    proxy.cutAll();
    // The rest, and a second copy of two already sent, reach the queue while the consumer cannot.
    for (const e of [...events.slice(4), ...events.slice(0, 2)]) await publish(e);
    // Deliberately keep the consumer's broker away past its reconnect backoff cap.
    await sleep(outageMs);
    const appliedWhileDown = (await inbox()).length;
    proxy.refuse(false);
    const backAt = Date.now();
    for (const e of events.slice(2, 4)) await publish(e);

    const rows = await waitFor(inbox, (r) => r.length >= events.length, 'every event applied', 30_000);
    const recoveredMs = Date.now() - backAt;
    assert.ok(
      appliedWhileDown <= 4,
      `nothing published during the outage was applied during it (${appliedWhileDown} applied)`,
    );
    assert.deepEqual(
      new Map(rows.map((r) => [r.event_id, r.outcome])),
      new Map(events.map((e) => [e.eventId, e.event === 'order.cancelled' ? 'released' : 'confirmed'])),
      'one inbox row per event, with its effect',
    );
    const statuses = await scope.em
      .fork()
      .execute<{ status: string; n: number }[]>(
        'select status, count(*)::int as n from reservation where organization_id = ? group by status order by status',
        [organizationId],
      );
    assert.deepEqual(statuses, [
      { status: 'confirmed', n: 6 },
      { status: 'released', n: 6 },
    ]);
    const [{ n: releases } = { n: 0 }] = await scope.em
      .fork()
      .execute<{ n: number }[]>(
        "select count(*)::int as n from stock_movement where organization_id = ? and type = 'release'",
        [organizationId],
      );
    assert.equal(releases, 6, 'one release per cancelled order, however often its event came');
    const row = present(await stockRow(scope, variantId, warehouseId), 'the stock row');
    assert.deepEqual({ available: row.available, reserved: row.reserved }, { available: 14, reserved: 6 });
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
