import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import amqp, { type ChannelModel, type Options } from 'amqplib';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import { loadConfig } from '../../services/config.ts';
import { createEventConsumer, type EventHandler } from '../../services/messaging/event-consumer.ts';
import { createOrderEventHandlers } from '../../services/messaging/order-events.ts';
import { createCatalogEventHandlers } from '../../services/messaging/catalog-events.ts';
import { createPurchasingEventHandlers } from '../../services/messaging/purchasing-events.ts';
import { consumerTopologyFrom } from '../../services/messaging/consumer-topology.ts';
import {
  catalogEventNames,
  orderEventNames,
  purchasingEventNames,
  type ConsumerTopology,
} from '../../services/messaging/topology.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { reservationClientFor, startWorker, type RunningWorker } from '../helpers/temporal.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { testStack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait.ts';
import { amqpUser, takeMessages } from '../helpers/amqp.ts';
import { present } from '../helpers/present.ts';

type SourceName = 'order' | 'catalog' | 'purchasing';
type Exchanges = Record<SourceName, string>;

describe('events consumed from the order, catalog and purchasing services', function () {
  this.timeout(60_000);
  const run = randomUUID().slice(0, 8);
  const exchanges = {
    order: `order.events.test.${run}`,
    catalog: `catalog.events.test.${run}`,
    purchasing: `purchasing.events.test.${run}`,
  };
  const topology = {
    sources: [
      {
        name: 'order',
        exchange: exchanges.order,
        queue: `inventory.test.${run}.order-events`,
        events: orderEventNames,
      },
      {
        name: 'catalog',
        exchange: exchanges.catalog,
        queue: `inventory.test.${run}.catalog-events`,
        events: catalogEventNames,
      },
      {
        name: 'purchasing',
        exchange: exchanges.purchasing,
        queue: `inventory.test.${run}.purchasing-events`,
        events: purchasingEventNames,
      },
    ],
    deadLetterQueue: `inventory.test.${run}.dead-letter`,
  };
  let worker: RunningWorker;
  let api: GrpcHarness;
  let consumer: ReturnType<typeof createEventConsumer>;
  let broker: ChannelModel;
  let handlers: Record<SourceName, Record<string, EventHandler>>;

  before(async () => {
    const stack = testStack();
    worker = await startWorker();
    api = await startGrpc({ taskQueue: worker.taskQueue });
    handlers = {
      order: createOrderEventHandlers({
        orm: stack.orm,
        reservations: reservationClientFor(worker.taskQueue),
        logger: stack.logger,
      }),
      catalog: createCatalogEventHandlers({ orm: stack.orm }),
      purchasing: createPurchasingEventHandlers({ orm: stack.orm }),
    };
    consumer = createEventConsumer({
      orm: stack.orm,
      amqpUrl: stack.amqpUrl,
      logger: stack.logger,
      maxAttempts: 2,
      topology,
      handlers,
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

  /**
   * Publishes an event the way its source does: to its exchange (`to`, the suite's by default), routing
   * key = event name. `exchange`, `routingKey` and `properties` let a test publish it some other way.
   */
  async function publish(
    event: string,
    organizationId: string,
    data: object,
    eventId: string = randomUUID(),
    options: { to?: Exchanges; exchange?: string; routingKey?: string; properties?: Options.Publish } = {},
  ): Promise<string> {
    const channel = await broker.createConfirmChannel();
    const to = options.to ?? exchanges;
    const exchange =
      options.exchange ??
      (event.startsWith('catalog.') ? to.catalog : event.startsWith('purchase_order.') ? to.purchasing : to.order);
    const body = Buffer.from(
      JSON.stringify({ event, event_id: eventId, organization_id: organizationId, version: '1.0', data }),
    );
    channel.publish(exchange, options.routingKey ?? event, body, {
      persistent: true,
      messageId: eventId,
      ...options.properties,
    });
    await channel.waitForConfirms();
    await channel.close();
    return eventId;
  }

  /**
   * A second consumer on exchanges and queues of its own, built from the configuration as the service
   * builds its own: only what a test publishes to `exchanges` reaches it, and the suite's consumer sees none of it.
   */
  async function ownConsumer(
    label: string,
    options: {
      sources?: SourceName[];
      publishers?: Partial<Record<SourceName, string>>;
      handlers?: Partial<Record<SourceName, Record<string, EventHandler>>>;
      maxAttempts?: number;
      amqpUrl?: string;
      prefetch?: number;
    } = {},
  ) {
    const stack = testStack();
    const own: Exchanges = {
      order: `${exchanges.order}.${label}`,
      catalog: `${exchanges.catalog}.${label}`,
      purchasing: `${exchanges.purchasing}.${label}`,
    };
    const configured = consumerTopologyFrom(
      loadConfig({
        ORDER_EVENTS_EXCHANGE: own.order,
        CATALOG_EVENTS_EXCHANGE: own.catalog,
        PURCHASING_EVENTS_EXCHANGE: own.purchasing,
        CONSUMER_QUEUE_PREFIX: `inventory.test.${run}.${label}`,
        ORDER_EVENTS_PUBLISHER: options.publishers?.order,
        CATALOG_EVENTS_PUBLISHER: options.publishers?.catalog,
        PURCHASING_EVENTS_PUBLISHER: options.publishers?.purchasing,
      }),
    );
    const sources = options.sources ?? ['order', 'catalog', 'purchasing'];
    const ownTopology: ConsumerTopology = {
      ...configured,
      sources: configured.sources.filter((src) => sources.includes(src.name as SourceName)),
    };
    const started = createEventConsumer({
      orm: stack.orm,
      amqpUrl: options.amqpUrl ?? stack.amqpUrl,
      logger: stack.logger,
      maxAttempts: options.maxAttempts ?? 2,
      prefetch: options.prefetch,
      topology: ownTopology,
      handlers: { ...handlers, ...options.handlers },
    });
    await started.start();
    await started.ready();
    return {
      exchanges: own,
      topology: ownTopology,
      async close() {
        await started.stop();
        const channel = await broker.createChannel();
        for (const source of ownTopology.sources) {
          await channel.deleteQueue(source.queue);
          await channel.deleteExchange(source.exchange);
        }
        await channel.deleteQueue(ownTopology.deadLetterQueue);
        await channel.close();
      },
    };
  }

  async function publishRaw(routingKey: string, body: string): Promise<void> {
    const channel = await broker.createConfirmChannel();
    channel.publish(exchanges.order, routingKey, Buffer.from(body));
    await channel.waitForConfirms();
    await channel.close();
  }

  const inboxOutcome = async (eventId: string, key: { source?: SourceName; organizationId?: string } = {}) => {
    const rows = await testStack()
      .observerOrm.em.fork()
      .execute<{ outcome: string }[]>(
        'select outcome from inbox_event where event_id = ? and source = coalesce(?, source) and organization_id = coalesce(?::uuid, organization_id)',
        [eventId, key.source ?? null, key.organizationId ?? null],
      );
    assert.ok(rows.length <= 1, `one inbox row for ${eventId} at most, found ${rows.length}`);
    return rows[0]?.outcome;
  };
  const reservationStatus = async (organizationId: string, orderId: string) => {
    const [row] = await testStack()
      .observerOrm.em.fork()
      .execute<{ status: string }[]>('select status from reservation where organization_id = ? and order_id = ?', [
        organizationId,
        orderId,
      ]);
    return row?.status;
  };

  it('order.confirmed, then order.shipped, drive the reservation workflow: confirmed, then fulfilled', async () => {
    const s = await stockedOrganization(10);
    const orderId = `order-${randomUUID()}`;
    await api.call<ReserveStockResponse__Output>('ReserveStock', {
      organization_id: s.organizationId,
      order_id: orderId,
      items: [{ variant_id: s.variantId, quantity: 3 }],
    });

    const confirmed = await publish('order.confirmed', s.organizationId, { order_id: orderId });
    await waitFor(
      () => inboxOutcome(confirmed),
      (o) => o === 'confirmed',
      'the confirmation',
    );
    assert.equal(await reservationStatus(s.organizationId, orderId), 'confirmed');

    const shipped = await publish('order.shipped', s.organizationId, { order_id: orderId });
    await waitFor(
      () => inboxOutcome(shipped),
      (o) => o === 'fulfilled',
      'the fulfilment',
    );
    assert.equal(await reservationStatus(s.organizationId, orderId), 'fulfilled');
    assert.deepEqual(await stockRow(s.scope, s.variantId, s.warehouseId), {
      total: 7,
      available: 7,
      reserved: 0,
      damaged: 0,
      in_transit: 0,
      incoming: 0,
      version: 4,
    });
  });

  it('order.cancelled releases the hold; a duplicate delivery changes nothing', async () => {
    const s = await stockedOrganization(10);
    const orderId = `order-${randomUUID()}`;
    await api.call('ReserveStock', {
      organization_id: s.organizationId,
      order_id: orderId,
      items: [{ variant_id: s.variantId, quantity: 4 }],
    });

    const eventId = await publish('order.cancelled', s.organizationId, {
      order_id: orderId,
      reason: 'customer cancelled',
    });
    await publish('order.cancelled', s.organizationId, { order_id: orderId, reason: 'customer cancelled' }, eventId);
    await waitFor(
      () => inboxOutcome(eventId),
      (o) => o === 'released',
      'the release',
    );
    await new Promise((r) => setTimeout(r, 500));

    assert.equal(await reservationStatus(s.organizationId, orderId), 'released');
    assert.equal(present(await stockRow(s.scope, s.variantId, s.warehouseId), 'the stock row').available, 10);
    const [counted] = await s.scope.em.execute<{ n: number }[]>(
      "select count(*)::int as n from stock_movement where organization_id = ? and type = 'release'",
      [s.organizationId],
    );
    const { n } = present(counted, 'the count');
    assert.equal(n, 1);
  });

  it('order.returned puts the units back (damaged ones as damaged) exactly once, referencing the order', async () => {
    const s = await stockedOrganization(10);
    const eventId = randomUUID();
    const data = {
      order_id: 'order-r1',
      items: [
        { variant_id: s.variantId, warehouse_id: s.warehouseId, quantity: 2 },
        { variant_id: s.variantId, warehouse_id: s.warehouseId, quantity: 1, damaged: true },
      ],
    };
    await publish('order.returned', s.organizationId, data, eventId);
    await publish('order.returned', s.organizationId, data, eventId);
    await waitFor(
      () => inboxOutcome(eventId),
      (o) => o === 'returned',
      'the return',
    );
    await new Promise((r) => setTimeout(r, 500));

    const row = present(await stockRow(s.scope, s.variantId, s.warehouseId), 'the stock row');
    assert.deepEqual(
      { available: row.available, damaged: row.damaged, total: row.total },
      { available: 12, damaged: 1, total: 13 },
    );
    const returns = await s.scope.em.execute<{ reference_id: string }[]>(
      "select reference_id from stock_movement where organization_id = ? and type = 'return'",
      [s.organizationId],
    );
    assert.deepEqual(
      returns.map((r) => r.reference_id),
      ['order-r1', 'order-r1'],
    );
  });

  it('an event for an order with no reservation is recorded and acknowledged, not retried', async () => {
    const s = await stockedOrganization(1);
    const eventId = await publish('order.confirmed', s.organizationId, { order_id: 'never-reserved' });
    await waitFor(
      () => inboxOutcome(eventId),
      (o) => o === 'no_reservation',
      'the recorded no-op',
    );
  });

  it('sends a malformed message to the dead-letter queue at once, and the queue keeps flowing', async () => {
    const s = await stockedOrganization(10);
    await publishRaw('order.confirmed', '{not json');
    await publish('order.shipped', s.organizationId, { no_order_id: true });
    const orderId = `order-${randomUUID()}`;
    await api.call('ReserveStock', {
      organization_id: s.organizationId,
      order_id: orderId,
      items: [{ variant_id: s.variantId, quantity: 1 }],
    });
    const after = await publish('order.confirmed', s.organizationId, { order_id: orderId });
    await waitFor(
      () => inboxOutcome(after),
      (o) => o === 'confirmed',
      'the event behind the poison ones',
    );

    const dead = (await takeMessages(topology.deadLetterQueue, 2)).map((message) => ({
      error: String(message.properties.headers?.['x-inventory-error']),
    }));
    assert.equal(dead.length, 2);
    assert.match(present(dead[0], 'the first dead letter').error, /not valid JSON/);
    assert.match(present(dead[1], 'the second dead letter').error, /schema mismatch: data.order_id/);
  });

  it('catalog.variant.created gives the variant a stock row in every active warehouse and announces it; untracked variants are skipped', async () => {
    const s = await stockedOrganization(1);
    const { createWarehouse } = await import('../helpers/fixtures.ts');
    await createWarehouse(s.scope);
    await createWarehouse(s.scope, { active: false });
    const variantId = randomUUID();
    const eventId = await publish('catalog.variant.created', s.organizationId, {
      variant_id: variantId,
      sku: 'NEW-1',
      track_inventory: true,
      default_min_stock: 20,
      default_max_stock: 200,
    });
    await waitFor(
      () => inboxOutcome(eventId),
      (o) => o === 'initialized',
      'the initialization',
    );

    const rows = await s.scope.em.execute<{ min_stock: number; max_stock: number; total: number }[]>(
      'select min_stock, max_stock, total from stock where organization_id = ? and variant_id = ?',
      [s.organizationId, variantId],
    );
    assert.deepEqual(
      rows,
      [
        { min_stock: 20, max_stock: 200, total: 0 },
        { min_stock: 20, max_stock: 200, total: 0 },
      ],
      'one row per active warehouse',
    );
    const [initialized] = await s.scope.em.execute<{ payload: { warehouses: unknown[]; status: string } }[]>(
      "select payload from outbox_event where organization_id = ? and name = 'inventory.stock.initialized'",
      [s.organizationId],
    );
    assert.ok(initialized, 'an inventory.stock.initialized event in the outbox');
    assert.equal(initialized.payload.warehouses.length, 2);
    assert.equal(initialized.payload.status, 'success');

    const untracked = randomUUID();
    const skipped = await publish('catalog.variant.created', s.organizationId, {
      variant_id: untracked,
      track_inventory: false,
    });
    await waitFor(
      () => inboxOutcome(skipped),
      (o) => o === 'not_tracked',
      'the skip',
    );
    assert.deepEqual(
      await s.scope.em.execute('select 1 from stock where organization_id = ? and variant_id = ?', [
        s.organizationId,
        untracked,
      ]),
      [],
    );
  });

  it('purchase_order.created makes units incoming; the receipt that names the purchase order turns them into stock', async () => {
    const s = await stockedOrganization(5);
    const eventId = await publish('purchase_order.created', s.organizationId, {
      purchase_order_id: 'PO-77',
      warehouse_id: s.warehouseId,
      items: [{ variant_id: s.variantId, quantity: 30 }],
    });
    await waitFor(
      () => inboxOutcome(eventId),
      (o) => o === 'incoming',
      'the incoming units',
    );
    assert.equal(present(await stockRow(s.scope, s.variantId, s.warehouseId), 'the stock row').incoming, 30);

    const { startHttp } = await import('../helpers/http.ts');
    const http = await startHttp();
    try {
      const receipt = await http.send('POST', '/api/v1/adjustments', {
        organizationId: s.organizationId,
        body: {
          variant_id: s.variantId,
          warehouse_id: s.warehouseId,
          reason_code: 'receipt',
          quantity: 30,
          purchase_order_id: 'PO-77',
        },
      });
      assert.equal(receipt.status, 201);
      assert.equal(receipt.body.purchase_order_id, 'PO-77');
    } finally {
      await http.close();
    }
    const row = present(await stockRow(s.scope, s.variantId, s.warehouseId), 'the stock row');
    assert.deepEqual(
      { available: row.available, incoming: row.incoming, total: row.total },
      { available: 35, incoming: 0, total: 35 },
    );
  });

  it('loses nothing and applies nothing twice when its broker connection drops mid-stream', async () => {
    const { startTcpProxy } = await import('../helpers/tcp-proxy.ts');
    const stack = testStack();
    const proxy = await startTcpProxy('127.0.0.1', Number(new URL(stack.amqpUrl).port || 5672));
    const url = new URL(stack.amqpUrl);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    // A second consumer, through the proxy, on its own exchanges and queues: this test's events reach only it.
    const proxied = await ownConsumer('proxied', {
      sources: ['purchasing'],
      amqpUrl: url.toString(),
      maxAttempts: 5,
      prefetch: 5,
    });
    try {
      const s = await stockedOrganization(1);
      const ids: string[] = [];
      for (let i = 0; i < 60; i++)
        ids.push(
          await publish(
            'purchase_order.created',
            s.organizationId,
            {
              purchase_order_id: `PO-${i}`,
              warehouse_id: s.warehouseId,
              items: [{ variant_id: s.variantId, quantity: 1 }],
            },
            undefined,
            { to: proxied.exchanges },
          ),
        );
      const applied = async () => {
        const [row] = await s.scope.em.execute<{ n: number }[]>(
          'select count(*)::int as n from inbox_event where event_id in (?)',
          [ids],
        );
        return present(row, 'the count').n;
      };
      await waitFor(applied, (n) => n >= 10, 'the stream to be under way');
      proxy.cutAll();
      await waitFor(applied, (n) => n === 60, 'every event after the reconnect', 30_000);
      assert.equal(
        present(await stockRow(s.scope, s.variantId, s.warehouseId), 'the stock row').incoming,
        60,
        'each purchase order applied exactly once',
      );
    } finally {
      await proxied.close();
      await proxy.close();
    }
  });

  it('catalog.variant.deleted archives rows that hold nothing, and refuses with the detail while stock remains', async () => {
    const s = await stockedOrganization(7);
    const blocked = await publish('catalog.variant.deleted', s.organizationId, { variant_id: s.variantId });
    await waitFor(
      () => inboxOutcome(blocked),
      (o) => o === 'blocked',
      'the refusal',
    );
    const [refusal] = await s.scope.em.execute<{ payload: any }[]>(
      "select payload from outbox_event where organization_id = ? and name = 'inventory.stock.validation_failed'",
      [s.organizationId],
    );
    assert.ok(refusal, 'an inventory.stock.validation_failed event in the outbox');
    assert.deepEqual(refusal.payload.details, {
      total_stock: 7,
      warehouses_affected: [{ warehouse_id: s.warehouseId, quantity: 7, incoming: 0 }],
    });

    const { applyOperation } = await import('../../services/inventory/stock/ledger.ts');
    const loss = {
      operationKey: randomUUID(),
      actor: 'test',
      changes: [
        { variantId: s.variantId, warehouseId: s.warehouseId, type: 'loss' as const, deltas: { available: -7 } },
      ],
    };
    await s.scope.transaction((tx) => applyOperation(tx, loss));
    const archived = await publish('catalog.variant.deleted', s.organizationId, { variant_id: s.variantId });
    await waitFor(
      () => inboxOutcome(archived),
      (o) => o === 'archived',
      'the archiving',
    );
    const [row] = await s.scope.em.execute<{ archived: boolean }[]>(
      'select archived_at is not null as archived from stock where organization_id = ? and variant_id = ?',
      [s.organizationId, s.variantId],
    );
    assert.ok(row, 'the stock row');
    assert.equal(row.archived, true);
    const [counted] = await s.scope.em.execute<{ n: number }[]>(
      "select count(*)::int as n from outbox_event where organization_id = ? and name = 'inventory.stock.archived'",
      [s.organizationId],
    );
    const { n } = present(counted, 'the count');
    assert.equal(n, 1);
  });

  /** A consumer of purchasing events whose handler always fails, and how often it was called. */
  async function failingConsumer(label: string, maxAttempts: number, publisher?: string) {
    const calls = { n: 0 };
    const failing = await ownConsumer(label, {
      sources: ['purchasing'],
      publishers: { purchasing: publisher },
      maxAttempts,
      handlers: {
        purchasing: {
          'purchase_order.created': async () => {
            calls.n += 1;
            throw new Error('the database is unreachable (on purpose)');
          },
        },
      },
    });
    return { ...failing, calls };
  }
  const purchaseOrder = () => ({
    purchase_order_id: 'PO-X',
    warehouse_id: randomUUID(),
    items: [{ variant_id: randomUUID(), quantity: 1 }],
  });
  const attemptRow = async (organizationId: string, eventId: string) => {
    const [row] = await testStack()
      .observerOrm.em.fork()
      .execute<{ attempts: number; last_error: string }[]>(
        "select attempts, last_error from consumer_attempt where source = 'purchasing' and organization_id = ? and event_id = ?",
        [organizationId, eventId],
      );
    return row;
  };

  it('retries a message that keeps failing with backoff, then dead-letters it with the error and the attempt count', async () => {
    const failing = await failingConsumer('failing', 3);
    try {
      const organizationId = randomUUID();
      const eventId = await publish('purchase_order.created', organizationId, purchaseOrder(), undefined, {
        to: failing.exchanges,
      });
      const [dead] = await takeMessages(failing.topology.deadLetterQueue, 1);
      assert.ok(dead, 'a dead-lettered message');
      assert.equal(failing.calls.n, 3);
      assert.equal(dead.properties.headers?.['x-inventory-attempts'], 3);
      assert.match(String(dead.properties.headers?.['x-inventory-error']), /unreachable/);
      assert.equal(JSON.parse(dead.content.toString()).event_id, eventId);
      assert.equal(await inboxOutcome(eventId), undefined, 'a failed event is not recorded as consumed');
      // The count is kept in PostgreSQL, and starts afresh once dead-lettered: a replay gets its retries again.
      const attempt = await waitFor(
        () => attemptRow(organizationId, eventId),
        (row) => row?.attempts === 0,
        'the reset count',
      );
      assert.ok(attempt, 'the attempt row');
      assert.match(attempt.last_error, /unreachable/);
    } finally {
      await failing.close();
    }
  });

  it('counts the attempts itself: an attempt header set by the publisher does not shorten the retries', async () => {
    // With a publisher set, so the retry copies (which cannot carry its user_id) must vouch for it too.
    const failing = await failingConsumer('forged-attempt', 3, amqpUser());
    try {
      const eventId = await publish('purchase_order.created', randomUUID(), purchaseOrder(), undefined, {
        to: failing.exchanges,
        properties: { userId: amqpUser(), headers: { 'x-inventory-attempt': 99, 'x-inventory-attempts': 99 } },
      });
      const [dead] = await takeMessages(failing.topology.deadLetterQueue, 1);
      assert.ok(dead, 'a dead-lettered message');
      assert.equal(JSON.parse(dead.content.toString()).event_id, eventId);
      assert.equal(failing.calls.n, 3, 'every attempt the consumer allows, whatever the header said');
      assert.equal(dead.properties.headers?.['x-inventory-attempts'], 3);
    } finally {
      await failing.close();
    }
  });

  it('applies an event only as its source sends it: another exchange, another routing key, another source or straight into the queue is dead-lettered', async () => {
    const own = await ownConsumer('sources');
    try {
      const s = await stockedOrganization(10);
      const orderId = `order-${randomUUID()}`;
      await api.call('ReserveStock', {
        organization_id: s.organizationId,
        order_id: orderId,
        items: [{ variant_id: s.variantId, quantity: 2 }],
      });
      const data = { order_id: orderId };
      const [orderSource, catalogSource] = own.topology.sources;
      assert.ok(orderSource && catalogSource, 'the order and catalog sources');
      // Someone who may configure the broker binds the catalog queue to an order event: the catalog's handlers still do not know it.
      const channel = await broker.createChannel();
      await channel.bindQueue(catalogSource.queue, catalogSource.exchange, 'order.confirmed');
      await channel.close();

      const sent = {
        throughCatalog: await publish('order.confirmed', s.organizationId, data, undefined, {
          exchange: own.exchanges.catalog,
          routingKey: 'catalog.variant.created',
        }),
        otherRoutingKey: await publish('order.confirmed', s.organizationId, data, undefined, {
          to: own.exchanges,
          routingKey: 'order.shipped',
        }),
        catalogSource: await publish('order.confirmed', s.organizationId, data, undefined, {
          exchange: own.exchanges.catalog,
        }),
        intoQueue: await publish('order.confirmed', s.organizationId, data, undefined, {
          exchange: '',
          routingKey: orderSource.queue,
        }),
        forgedRetry: await publish('order.confirmed', s.organizationId, data, undefined, {
          exchange: '',
          routingKey: orderSource.queue,
          properties: { headers: { 'x-inventory-routing-key': 'order.confirmed' } },
        }),
      };
      const dead = await takeMessages(own.topology.deadLetterQueue, 5);
      const reasons = Object.fromEntries(
        dead.map((m) => [
          JSON.parse(m.content.toString()).event_id,
          String(m.properties.headers?.['x-inventory-error']),
        ]),
      );
      assert.match(
        reasons[sent.throughCatalog],
        /routing key catalog\.variant\.created is not the body's event \(order\.confirmed\)/,
      );
      assert.match(
        reasons[sent.otherRoutingKey],
        /routing key order\.shipped is not the body's event \(order\.confirmed\)/,
      );
      assert.match(reasons[sent.catalogSource], /not an event the catalog source publishes \(order\.confirmed\)/);
      assert.match(reasons[sent.intoQueue], /came through the default exchange/);
      assert.match(reasons[sent.forgedRetry], /a retry copy this consumer did not make/);
      assert.equal(await reservationStatus(s.organizationId, orderId), 'active');
      for (const eventId of Object.values(sent)) assert.equal(await inboxOutcome(eventId), undefined);

      // The same event, as its source sends it, is applied.
      const proper = await publish('order.confirmed', s.organizationId, data, undefined, { to: own.exchanges });
      await waitFor(
        () => inboxOutcome(proper),
        (o) => o === 'confirmed',
        'the confirmation',
      );
      assert.equal(await reservationStatus(s.organizationId, orderId), 'confirmed');
    } finally {
      await own.close();
    }
  });

  it('with a publisher set for a source, applies only messages whose user_id names it', async () => {
    const user = amqpUser();
    const s = await stockedOrganization(10);
    const orderId = `order-${randomUUID()}`;
    await api.call('ReserveStock', {
      organization_id: s.organizationId,
      order_id: orderId,
      items: [{ variant_id: s.variantId, quantity: 2 }],
    });

    const strict = await ownConsumer('publisher-other', { publishers: { order: `order-service-${run}` } });
    try {
      const named = await publish('order.confirmed', s.organizationId, { order_id: orderId }, undefined, {
        to: strict.exchanges,
        properties: { userId: user },
      });
      const unnamed = await publish('order.confirmed', s.organizationId, { order_id: orderId }, undefined, {
        to: strict.exchanges,
      });
      const dead = await takeMessages(strict.topology.deadLetterQueue, 2);
      const reasons = Object.fromEntries(
        dead.map((m) => [
          JSON.parse(m.content.toString()).event_id,
          String(m.properties.headers?.['x-inventory-error']),
        ]),
      );
      assert.match(reasons[named], new RegExp(`published by user ${user}, not by order-service-${run}`));
      assert.match(reasons[unnamed], /no user_id/);
      assert.equal(await reservationStatus(s.organizationId, orderId), 'active');

      // The premise: RabbitMQ refuses a user_id that is not the publishing connection's own.
      const channel = await broker.createConfirmChannel();
      channel.on('error', () => undefined);
      channel.publish(strict.exchanges.order, 'order.confirmed', Buffer.from('{}'), { userId: `order-service-${run}` });
      await assert.rejects(channel.waitForConfirms());
    } finally {
      await strict.close();
    }

    const matching = await ownConsumer('publisher-same', { publishers: { order: user } });
    try {
      const applied = await publish('order.confirmed', s.organizationId, { order_id: orderId }, undefined, {
        to: matching.exchanges,
        properties: { userId: user },
      });
      await waitFor(
        () => inboxOutcome(applied),
        (o) => o === 'confirmed',
        'the confirmation',
      );
      assert.equal(await reservationStatus(s.organizationId, orderId), 'confirmed');
    } finally {
      await matching.close();
    }
  });

  it('keys the inbox by source and organization: the same event id from another source or organization is applied too', async () => {
    const [a, b] = [await stockedOrganization(1), await stockedOrganization(1)];
    const eventId = randomUUID();
    const newVariant = randomUUID();
    await publish(
      'purchase_order.created',
      a.organizationId,
      { purchase_order_id: 'PO-A', warehouse_id: a.warehouseId, items: [{ variant_id: a.variantId, quantity: 5 }] },
      eventId,
    );
    await publish('catalog.variant.created', a.organizationId, { variant_id: newVariant }, eventId);
    await publish(
      'purchase_order.created',
      b.organizationId,
      { purchase_order_id: 'PO-B', warehouse_id: b.warehouseId, items: [{ variant_id: b.variantId, quantity: 7 }] },
      eventId,
    );
    await waitFor(
      () => inboxOutcome(eventId, { source: 'purchasing', organizationId: a.organizationId }),
      (o) => o === 'incoming',
      "A's purchase order",
    );
    await waitFor(
      () => inboxOutcome(eventId, { source: 'catalog', organizationId: a.organizationId }),
      (o) => o === 'initialized',
      "A's new variant",
    );
    await waitFor(
      () => inboxOutcome(eventId, { source: 'purchasing', organizationId: b.organizationId }),
      (o) => o === 'incoming',
      "B's purchase order",
    );
    assert.equal(present(await stockRow(a.scope, a.variantId, a.warehouseId), 'the stock row').incoming, 5);
    assert.equal(present(await stockRow(b.scope, b.variantId, b.warehouseId), 'the stock row').incoming, 7);
    assert.ok(await stockRow(a.scope, newVariant, a.warehouseId), 'the new variant has its stock row');
  });

  it("refuses purchase_order.created and order.returned naming another organization's warehouse, or none: recorded as refused, nothing written", async () => {
    const [a, b] = [await stockedOrganization(10), await stockedOrganization(10)];
    const organizations = [a.organizationId, b.organizationId];
    const warehouses = [a.warehouseId, b.warehouseId];
    const db = testStack().observerOrm.em.fork();
    const snapshot = async () => ({
      stock: await db.execute('select * from stock where organization_id in (?) or warehouse_id in (?) order by id', [
        organizations,
        warehouses,
      ]),
      ledger: await db.execute(
        'select * from stock_movement where organization_id in (?) or warehouse_id in (?) order by id',
        [organizations, warehouses],
      ),
      outbox: await db.execute(
        'select id, name, payload from outbox_event where organization_id in (?) order by sequence',
        [organizations],
      ),
    });
    const before = await snapshot();

    const refused = [
      await publish('purchase_order.created', a.organizationId, {
        purchase_order_id: 'PO-FOREIGN',
        warehouse_id: b.warehouseId,
        items: [{ variant_id: a.variantId, quantity: 5 }],
      }),
      await publish('purchase_order.created', a.organizationId, {
        purchase_order_id: 'PO-NOWHERE',
        warehouse_id: randomUUID(),
        items: [{ variant_id: a.variantId, quantity: 5 }],
      }),
      await publish('order.returned', a.organizationId, {
        order_id: 'order-foreign',
        items: [
          { variant_id: a.variantId, warehouse_id: a.warehouseId, quantity: 1 },
          { variant_id: b.variantId, warehouse_id: b.warehouseId, quantity: 3 },
        ],
      }),
      await publish('order.returned', a.organizationId, {
        order_id: 'order-nowhere',
        items: [{ variant_id: a.variantId, warehouse_id: randomUUID(), quantity: 3 }],
      }),
    ];
    for (const eventId of refused)
      await waitFor(
        () => inboxOutcome(eventId, { organizationId: a.organizationId }),
        (o) => o === 'refused',
        `the refusal of ${eventId}`,
      );
    assert.deepEqual(await snapshot(), before, 'no stock row, movement or event was written');
  });

  it('reads ids in any case: an order.confirmed with an upper-case organization id confirms the reservation', async () => {
    const s = await stockedOrganization(10);
    const orderId = `order-${randomUUID()}`;
    await api.call('ReserveStock', {
      organization_id: s.organizationId,
      order_id: orderId,
      items: [{ variant_id: s.variantId, quantity: 1 }],
    });
    const eventId = await publish('order.confirmed', s.organizationId.toUpperCase(), { order_id: orderId });
    const outcome = await waitFor(
      () => inboxOutcome(eventId),
      (o) => o !== undefined,
      'the event to be consumed',
    );
    assert.equal(outcome, 'confirmed');
    assert.equal(await reservationStatus(s.organizationId, orderId), 'confirmed');
  });
});
