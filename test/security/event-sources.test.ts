import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import { eventsBySource, startPrivateConsumer, type PrivateConsumer, type SourceName } from '../helpers/consumer.ts';
import { createWarehouse, receiveStock } from '../helpers/fixtures.ts';
import { newOrganization, testStack } from '../helpers/stack.ts';
import { takeMessages } from '../helpers/amqp.ts';
import { waitFor } from '../helpers/wait.ts';
import { present } from '../helpers/present.ts';

/**
 * The consumed side of the access matrix, generated from the consumer's topology: every event this
 * service consumes, sent the ways an intruder who can publish somewhere could send it, is
 * dead-lettered with a reason (or, naming another organization's warehouse, refused) and changes
 * nothing. A new consumed event without an example here fails the first test.
 */
describe('access matrix: consumed events are trusted by the queue they came through, not by their body', function () {
  this.timeout(120_000);
  let worker: RunningWorker;
  let grpcApi: GrpcHarness;
  let consumer: PrivateConsumer;
  let target: { organizationId: string; warehouseId: string; variantId: string; orderId: string };
  let foreignWarehouseId: string;

  const examples = (): Record<string, object> => ({
    'order.confirmed': { order_id: target.orderId },
    'order.cancelled': { order_id: target.orderId, reason: 'intruder' },
    'order.shipped': { order_id: target.orderId },
    'order.returned': {
      order_id: target.orderId,
      items: [{ variant_id: target.variantId, warehouse_id: target.warehouseId, quantity: 5 }],
    },
    'catalog.variant.created': { variant_id: randomUUID(), track_inventory: true },
    'catalog.variant.deleted': { variant_id: target.variantId },
    'purchase_order.created': {
      purchase_order_id: 'PO-intruder',
      warehouse_id: target.warehouseId,
      items: [{ variant_id: target.variantId, quantity: 5 }],
    },
  });

  before(async () => {
    worker = await startWorker();
    grpcApi = await startGrpc({ taskQueue: worker.taskQueue });
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const variantId = randomUUID();
    await receiveStock(scope, variantId, warehouse.id, 50);
    const orderId = `order-${randomUUID()}`;
    await grpcApi.call('ReserveStock', {
      organization_id: scope.organizationId,
      order_id: orderId,
      items: [{ variant_id: variantId, quantity: 3 }],
      ttl_seconds: 3600,
    });
    target = { organizationId: scope.organizationId, warehouseId: warehouse.id, variantId, orderId };
    foreignWarehouseId = (await createWarehouse(newOrganization())).id;
    consumer = await startPrivateConsumer('matrix', worker.taskQueue);
  });
  after(async () => {
    await consumer?.close();
    await grpcApi.close();
    await worker.stop();
  });

  async function publish(
    exchange: string,
    routingKey: string,
    event: string,
    data: object,
    organizationId = target.organizationId,
  ): Promise<string> {
    const eventId = randomUUID();
    const channel = await consumer.broker.createConfirmChannel();
    channel.publish(
      exchange,
      routingKey,
      Buffer.from(JSON.stringify({ event, event_id: eventId, organization_id: organizationId, version: '1.0', data })),
      { persistent: true, messageId: eventId },
    );
    await channel.waitForConfirms();
    await channel.close();
    return eventId;
  }

  async function stateOf(): Promise<string> {
    const em = testStack().observerOrm.em.fork();
    const rows = await em.execute<{ fingerprint: string }[]>(
      `select (select md5(coalesce(string_agg(s::text, '|' order by s::text), '')) from stock s where organization_id = ?)
           || (select count(*) from stock_movement where organization_id = ?)
           || (select md5(coalesce(string_agg(r.status, ',' order by r.status), '')) from reservation r where organization_id = ?) as fingerprint`,
      [target.organizationId, target.organizationId, target.organizationId],
    );
    return present(rows[0], 'the fingerprint').fingerprint;
  }

  it('has an example for every consumed event', () => {
    const consumed = Object.values(eventsBySource).flat();
    assert.deepEqual(
      consumed.filter((event) => !(event in examples())),
      [],
      'add these events to the matrix',
    );
  });

  it('an event sent through another source, or under another routing key, or straight to a queue, is dead-lettered with the reason and changes nothing', async () => {
    const before = await stateOf();
    const sent: { eventId: string; how: string }[] = [];
    for (const [source, events] of Object.entries(eventsBySource) as [SourceName, readonly string[]][]) {
      for (const event of events) {
        const data = present(examples()[event], `an example of ${event}`);
        for (const other of (Object.keys(consumer.exchanges) as SourceName[]).filter((s) => s !== source)) {
          // The other source's own routing key, so the message reaches that source's queue.
          sent.push({
            eventId: await publish(
              consumer.exchanges[other],
              present(eventsBySource[other][0], `a routing key of ${other}`),
              event,
              data,
            ),
            how: `${event} through ${other}`,
          });
        }
        const otherKey = events.find((e) => e !== event);
        if (otherKey)
          sent.push({
            eventId: await publish(consumer.exchanges[source], otherKey, event, data),
            how: `${event} under routing key ${otherKey}`,
          });
        sent.push({
          eventId: await publish(
            '',
            present(
              consumer.topology.sources.find((s) => s.name === source),
              `the ${source} source`,
            ).queue,
            event,
            data,
          ),
          how: `${event} straight to its queue`,
        });
      }
    }
    const deadLettered = await takeMessages(consumer.topology.deadLetterQueue, sent.length, 30_000);
    for (const { eventId, how } of sent) {
      const message = deadLettered.find((m) => m.properties.messageId === eventId);
      assert.ok(message, `${how} was not dead-lettered`);
      assert.ok(String(message.properties.headers?.['x-inventory-error'] ?? '').length > 0, `${how} carries no reason`);
    }
    assert.equal(await stateOf(), before, 'the target organization is unchanged');
  });

  it("an event naming another organization's warehouse, through the right source, is refused and changes nothing", async () => {
    const before = await stateOf();
    const refused: string[] = [];
    for (const event of ['order.returned', 'purchase_order.created']) {
      const data = JSON.parse(
        JSON.stringify(examples()[event]).replaceAll(target.warehouseId, foreignWarehouseId),
      ) as object;
      const source: SourceName = event.startsWith('order.') ? 'order' : 'purchasing';
      refused.push(await publish(consumer.exchanges[source], event, event, data));
    }
    const em = testStack().observerOrm.em.fork();
    const outcomes = await waitFor(
      () =>
        em.execute<{ event_id: string; outcome: string }[]>(
          'select event_id, outcome from inbox_event where event_id in (?)',
          [refused],
        ),
      (rows) => rows.length === refused.length,
      'both events recorded in the inbox',
    );
    assert.deepEqual(
      outcomes.map((r) => r.outcome),
      ['refused', 'refused'],
    );
    assert.equal(await stateOf(), before, 'the target organization is unchanged');
    const [{ n } = { n: 0 }] = await em.execute<{ n: number }[]>(
      'select count(*)::int as n from stock_movement where warehouse_id = ? ',
      [foreignWarehouseId],
    );
    assert.equal(n, 0, "nothing was written into the other organization's warehouse");
  });
});
