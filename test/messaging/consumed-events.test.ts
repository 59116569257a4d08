import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import amqp, { type ChannelModel } from 'amqplib';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import { createEventConsumer } from '../../services/messaging/event-consumer.ts';
import { createOrderEventHandlers } from '../../services/messaging/order-events.ts';
import { createCatalogEventHandlers } from '../../services/messaging/catalog-events.ts';
import { createPurchasingEventHandlers } from '../../services/messaging/purchasing-events.ts';
import { catalogEventNames, orderEventNames, purchasingEventNames } from '../../services/messaging/topology.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { reservationClientFor, startWorker, type RunningWorker } from '../helpers/temporal.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { testStack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait.ts';

describe('events consumed from the order, catalog and purchasing services', function () {
  this.timeout(60_000);
  const run = randomUUID().slice(0, 8);
  const exchanges = { order: `order.events.test.${run}`, catalog: `catalog.events.test.${run}`, purchasing: `purchasing.events.test.${run}` };
  const topology = {
    sources: [
      { exchange: exchanges.order, queue: `inventory.test.${run}.order-events`, events: orderEventNames },
      { exchange: exchanges.catalog, queue: `inventory.test.${run}.catalog-events`, events: catalogEventNames },
      { exchange: exchanges.purchasing, queue: `inventory.test.${run}.purchasing-events`, events: purchasingEventNames },
    ],
    deadLetterQueue: `inventory.test.${run}.dead-letter`,
  };
  let worker: RunningWorker;
  let api: GrpcHarness;
  let consumer: ReturnType<typeof createEventConsumer>;
  let broker: ChannelModel;

  before(async () => {
    const stack = testStack();
    worker = await startWorker();
    api = await startGrpc({ taskQueue: worker.taskQueue });
    consumer = createEventConsumer({
      orm: stack.orm,
      amqpUrl: stack.amqpUrl,
      logger: stack.logger,
      maxAttempts: 2,
      topology,
      handlers: {
        ...createOrderEventHandlers({ orm: stack.orm, reservations: reservationClientFor(worker.taskQueue), logger: stack.logger }),
        ...createCatalogEventHandlers({ orm: stack.orm }),
        ...createPurchasingEventHandlers({ orm: stack.orm }),
      },
    });
    await consumer.start();
    await consumer.ready();
    broker = await amqp.connect(stack.amqpUrl);
  });
  after(async () => {
    await consumer.stop();
    const channel = await broker.createChannel();
    for (const source of topology.sources) {
      await channel.deleteQueue(source.queue);
      await channel.deleteExchange(source.exchange);
    }
    await channel.deleteQueue(topology.deadLetterQueue);
    await broker.close();
    await api.close();
    await worker.stop();
  });

  async function publish(event: string, organizationId: string, data: object, eventId: string = randomUUID()): Promise<string> {
    const channel = await broker.createConfirmChannel();
    const exchange = event.startsWith('catalog.') ? exchanges.catalog : event.startsWith('purchase_order.') ? exchanges.purchasing : exchanges.order;
    channel.publish(exchange, event, Buffer.from(JSON.stringify({ event, event_id: eventId, organization_id: organizationId, version: '1.0', data })), { persistent: true, messageId: eventId });
    await channel.waitForConfirms();
    await channel.close();
    return eventId;
  }

  async function publishRaw(routingKey: string, body: string): Promise<void> {
    const channel = await broker.createConfirmChannel();
    channel.publish(exchanges.order, routingKey, Buffer.from(body));
    await channel.waitForConfirms();
    await channel.close();
  }

  const inboxOutcome = async (eventId: string) => {
    const [row] = await testStack().orm.em.fork().execute<{ outcome: string }[]>('select outcome from inbox_event where event_id = ?', [eventId]);
    return row?.outcome;
  };
  const reservationStatus = async (organizationId: string, orderId: string) => {
    const [row] = await testStack().orm.em.fork().execute<{ status: string }[]>('select status from reservation where organization_id = ? and order_id = ?', [organizationId, orderId]);
    return row?.status;
  };

  it('order.confirmed, then order.shipped, drive the reservation workflow: confirmed, then fulfilled', async () => {
    const s = await stockedOrganization(10);
    const orderId = `order-${randomUUID()}`;
    await api.call<ReserveStockResponse__Output>('ReserveStock', { organization_id: s.organizationId, order_id: orderId, items: [{ variant_id: s.variantId, quantity: 3 }] });

    const confirmed = await publish('order.confirmed', s.organizationId, { order_id: orderId });
    await waitFor(() => inboxOutcome(confirmed), (o) => o === 'confirmed', 'the confirmation');
    assert.equal(await reservationStatus(s.organizationId, orderId), 'confirmed');

    const shipped = await publish('order.shipped', s.organizationId, { order_id: orderId });
    await waitFor(() => inboxOutcome(shipped), (o) => o === 'fulfilled', 'the fulfilment');
    assert.equal(await reservationStatus(s.organizationId, orderId), 'fulfilled');
    assert.deepEqual(await stockRow(s.scope, s.variantId, s.warehouseId), { total: 7, available: 7, reserved: 0, damaged: 0, in_transit: 0, incoming: 0, version: 4 });
  });

  it('order.cancelled releases the hold; a duplicate delivery changes nothing', async () => {
    const s = await stockedOrganization(10);
    const orderId = `order-${randomUUID()}`;
    await api.call('ReserveStock', { organization_id: s.organizationId, order_id: orderId, items: [{ variant_id: s.variantId, quantity: 4 }] });

    const eventId = await publish('order.cancelled', s.organizationId, { order_id: orderId, reason: 'customer cancelled' });
    await publish('order.cancelled', s.organizationId, { order_id: orderId, reason: 'customer cancelled' }, eventId);
    await waitFor(() => inboxOutcome(eventId), (o) => o === 'released', 'the release');
    await new Promise((r) => setTimeout(r, 500));

    assert.equal(await reservationStatus(s.organizationId, orderId), 'released');
    assert.equal((await stockRow(s.scope, s.variantId, s.warehouseId)).available, 10);
    const [{ n }] = await s.scope.em.execute<{ n: number }[]>("select count(*)::int as n from stock_movement where organization_id = ? and type = 'release'", [s.organizationId]);
    assert.equal(n, 1);
  });

  it('order.returned puts the units back (damaged ones as damaged) exactly once, referencing the order', async () => {
    const s = await stockedOrganization(10);
    const eventId = randomUUID();
    const data = { order_id: 'order-r1', items: [{ variant_id: s.variantId, warehouse_id: s.warehouseId, quantity: 2 }, { variant_id: s.variantId, warehouse_id: s.warehouseId, quantity: 1, damaged: true }] };
    await publish('order.returned', s.organizationId, data, eventId);
    await publish('order.returned', s.organizationId, data, eventId);
    await waitFor(() => inboxOutcome(eventId), (o) => o === 'returned', 'the return');
    await new Promise((r) => setTimeout(r, 500));

    const row = await stockRow(s.scope, s.variantId, s.warehouseId);
    assert.deepEqual({ available: row.available, damaged: row.damaged, total: row.total }, { available: 12, damaged: 1, total: 13 });
    const returns = await s.scope.em.execute<{ reference_id: string }[]>("select reference_id from stock_movement where organization_id = ? and type = 'return'", [s.organizationId]);
    assert.deepEqual(returns.map((r) => r.reference_id), ['order-r1', 'order-r1']);
  });

  it('an event for an order with no reservation is recorded and acknowledged, not retried', async () => {
    const s = await stockedOrganization(1);
    const eventId = await publish('order.confirmed', s.organizationId, { order_id: 'never-reserved' });
    await waitFor(() => inboxOutcome(eventId), (o) => o === 'no_reservation', 'the recorded no-op');
  });

  it('sends a malformed message to the dead-letter queue at once, and the queue keeps flowing', async () => {
    const s = await stockedOrganization(10);
    await publishRaw('order.confirmed', '{not json');
    await publish('order.shipped', s.organizationId, { no_order_id: true });
    const orderId = `order-${randomUUID()}`;
    await api.call('ReserveStock', { organization_id: s.organizationId, order_id: orderId, items: [{ variant_id: s.variantId, quantity: 1 }] });
    const after = await publish('order.confirmed', s.organizationId, { order_id: orderId });
    await waitFor(() => inboxOutcome(after), (o) => o === 'confirmed', 'the event behind the poison ones');

    const channel = await broker.createChannel();
    const dead: { error: string }[] = [];
    for (let i = 0; i < 10 && dead.length < 2; i++) {
      const message = await channel.get(topology.deadLetterQueue, { noAck: true });
      if (message) dead.push({ error: String(message.properties.headers?.['x-inventory-error']) });
      else await new Promise((r) => setTimeout(r, 200));
    }
    await channel.close();
    assert.equal(dead.length, 2);
    assert.match(dead[0].error, /not valid JSON/);
    assert.match(dead[1].error, /schema mismatch: data.order_id/);
  });

  it('catalog.variant.created gives the variant a stock row in every active warehouse and announces it; untracked variants are skipped', async () => {
    const s = await stockedOrganization(1);
    const { createWarehouse } = await import('../helpers/fixtures.ts');
    await createWarehouse(s.scope);
    await createWarehouse(s.scope, { active: false });
    const variantId = randomUUID();
    const eventId = await publish('catalog.variant.created', s.organizationId, { variant_id: variantId, sku: 'NEW-1', track_inventory: true, default_min_stock: 20, default_max_stock: 200 });
    await waitFor(() => inboxOutcome(eventId), (o) => o === 'initialized', 'the initialization');

    const rows = await s.scope.em.execute<{ min_stock: number; max_stock: number; total: number }[]>('select min_stock, max_stock, total from stock where organization_id = ? and variant_id = ?', [s.organizationId, variantId]);
    assert.deepEqual(rows, [{ min_stock: 20, max_stock: 200, total: 0 }, { min_stock: 20, max_stock: 200, total: 0 }], 'one row per active warehouse');
    const [initialized] = await s.scope.em.execute<{ payload: { warehouses: unknown[]; status: string } }[]>("select payload from outbox_event where organization_id = ? and name = 'inventory.stock.initialized'", [s.organizationId]);
    assert.equal(initialized.payload.warehouses.length, 2);
    assert.equal(initialized.payload.status, 'success');

    const untracked = randomUUID();
    const skipped = await publish('catalog.variant.created', s.organizationId, { variant_id: untracked, track_inventory: false });
    await waitFor(() => inboxOutcome(skipped), (o) => o === 'not_tracked', 'the skip');
    assert.deepEqual(await s.scope.em.execute('select 1 from stock where organization_id = ? and variant_id = ?', [s.organizationId, untracked]), []);
  });

  it('purchase_order.created makes units incoming; the receipt that names the purchase order turns them into stock', async () => {
    const s = await stockedOrganization(5);
    const eventId = await publish('purchase_order.created', s.organizationId, { purchase_order_id: 'PO-77', warehouse_id: s.warehouseId, items: [{ variant_id: s.variantId, quantity: 30 }] });
    await waitFor(() => inboxOutcome(eventId), (o) => o === 'incoming', 'the incoming units');
    assert.equal((await stockRow(s.scope, s.variantId, s.warehouseId)).incoming, 30);

    const { startHttp } = await import('../helpers/http.ts');
    const http = await startHttp();
    try {
      const receipt = await http.send('POST', '/api/v1/adjustments', { organizationId: s.organizationId, body: { variant_id: s.variantId, warehouse_id: s.warehouseId, reason_code: 'receipt', quantity: 30, purchase_order_id: 'PO-77' } });
      assert.equal(receipt.status, 201);
      assert.equal(receipt.body.purchase_order_id, 'PO-77');
    } finally {
      await http.close();
    }
    const row = await stockRow(s.scope, s.variantId, s.warehouseId);
    assert.deepEqual({ available: row.available, incoming: row.incoming, total: row.total }, { available: 35, incoming: 0, total: 35 });
  });

  it('loses nothing and applies nothing twice when its broker connection drops mid-stream', async () => {
    const { startTcpProxy } = await import('../helpers/tcp-proxy.ts');
    const stack = testStack();
    const proxy = await startTcpProxy('127.0.0.1', Number(new URL(stack.amqpUrl).port || 5672));
    const url = new URL(stack.amqpUrl);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    // A second consumer, through the proxy, on its own queues: this test's events reach only it.
    const own = { ...topology, sources: topology.sources.map((src) => ({ ...src, queue: `${src.queue}.proxied` })), deadLetterQueue: `${topology.deadLetterQueue}.proxied` };
    const proxied = createEventConsumer({ orm: stack.orm, amqpUrl: url.toString(), logger: stack.logger, maxAttempts: 5, prefetch: 5, topology: own, handlers: createPurchasingEventHandlers({ orm: stack.orm }) });
    await proxied.start();
    await proxied.ready();
    try {
      const s = await stockedOrganization(1);
      const ids: string[] = [];
      for (let i = 0; i < 60; i++) ids.push(await publish('purchase_order.created', s.organizationId, { purchase_order_id: `PO-${i}`, warehouse_id: s.warehouseId, items: [{ variant_id: s.variantId, quantity: 1 }] }));
      const applied = async () => {
        const [row] = await s.scope.em.execute<{ n: number }[]>('select count(*)::int as n from inbox_event where event_id in (?)', [ids]);
        return row.n;
      };
      await waitFor(applied, (n) => n >= 10, 'the stream to be under way');
      proxy.cutAll();
      await waitFor(applied, (n) => n === 60, 'every event after the reconnect', 30_000);
      assert.equal((await stockRow(s.scope, s.variantId, s.warehouseId)).incoming, 60, 'each purchase order applied exactly once');
    } finally {
      await proxied.stop();
      await proxy.close();
      const channel = await broker.createChannel();
      for (const src of own.sources) await channel.deleteQueue(src.queue);
      await channel.deleteQueue(own.deadLetterQueue);
      await channel.close();
    }
  });

  it('catalog.variant.deleted archives rows that hold nothing, and refuses with the detail while stock remains', async () => {
    const s = await stockedOrganization(7);
    const blocked = await publish('catalog.variant.deleted', s.organizationId, { variant_id: s.variantId });
    await waitFor(() => inboxOutcome(blocked), (o) => o === 'blocked', 'the refusal');
    const [refusal] = await s.scope.em.execute<{ payload: any }[]>("select payload from outbox_event where organization_id = ? and name = 'inventory.stock.validation_failed'", [s.organizationId]);
    assert.deepEqual(refusal.payload.details, { total_stock: 7, warehouses_affected: [{ warehouse_id: s.warehouseId, quantity: 7, incoming: 0 }] });

    const { recordOperation } = await import('../../services/inventory/ledger.ts');
    await recordOperation(s.scope, { operationKey: randomUUID(), actor: 'test', changes: [{ variantId: s.variantId, warehouseId: s.warehouseId, type: 'loss', deltas: { available: -7 } }] });
    const archived = await publish('catalog.variant.deleted', s.organizationId, { variant_id: s.variantId });
    await waitFor(() => inboxOutcome(archived), (o) => o === 'archived', 'the archiving');
    const [row] = await s.scope.em.execute<{ archived: boolean }[]>('select archived_at is not null as archived from stock where organization_id = ? and variant_id = ?', [s.organizationId, s.variantId]);
    assert.equal(row.archived, true);
    const [{ n }] = await s.scope.em.execute<{ n: number }[]>("select count(*)::int as n from outbox_event where organization_id = ? and name = 'inventory.stock.archived'", [s.organizationId]);
    assert.equal(n, 1);
  });

  it('retries a message that keeps failing with backoff, then dead-letters it with the error and the attempt count', async () => {
    const stack = testStack();
    const own = { ...topology, sources: [{ ...topology.sources[2], queue: `${topology.sources[2].queue}.failing` }], deadLetterQueue: `${topology.deadLetterQueue}.failing` };
    let calls = 0;
    const failing = createEventConsumer({
      orm: stack.orm,
      amqpUrl: stack.amqpUrl,
      logger: stack.logger,
      maxAttempts: 3,
      topology: own,
      handlers: {
        'purchase_order.created': async () => {
          calls += 1;
          throw new Error('the database is unreachable (on purpose)');
        },
      },
    });
    await failing.start();
    await failing.ready();
    try {
      const eventId = await publish('purchase_order.created', randomUUID(), { purchase_order_id: 'PO-X', warehouse_id: randomUUID(), items: [{ variant_id: randomUUID(), quantity: 1 }] });
      const channel = await broker.createChannel();
      const dead = await waitFor(
        () => channel.get(own.deadLetterQueue, { noAck: true }),
        (m) => m !== false,
        'the dead-lettered message',
      );
      await channel.close();
      assert.ok(dead);
      assert.equal(calls, 3);
      assert.equal(dead.properties.headers?.['x-inventory-attempts'], 3);
      assert.match(String(dead.properties.headers?.['x-inventory-error']), /unreachable/);
      assert.equal(JSON.parse(dead.content.toString()).event_id, eventId);
      assert.equal(await inboxOutcome(eventId), undefined, 'a failed event is not recorded as consumed');
    } finally {
      await failing.stop();
      const channel = await broker.createChannel();
      await channel.deleteQueue(own.sources[0].queue);
      await channel.deleteQueue(own.deadLetterQueue);
      await channel.close();
    }
  });
});
