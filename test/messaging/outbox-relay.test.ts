import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createOutboxRelay, type OutboxRelay } from '../../services/messaging/outbox-relay.ts';
import { bindEventQueue, type EventQueue, type ReceivedEvent } from '../helpers/amqp.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { present } from '../helpers/present.ts';
import { createWarehouse, receiveStock } from '../helpers/fixtures.ts';
import { newOrganization, testStack, type TestOrganizationScope, organizationScope } from '../helpers/stack.ts';

function relayTo(amqpUrl: string, batchSize = 50): OutboxRelay {
  const stack = testStack();
  return createOutboxRelay({
    orm: stack.systemOrm,
    databaseUrl: stack.systemDatabaseUrl,
    amqpUrl,
    exchange: stack.exchange,
    logger: stack.logger,
    batchSize,
    pollIntervalMs: 50,
    confirmTimeoutMs: 30_000,
  });
}

/** `count` stock changes spread over `rows` stock rows of a fresh organization; each row's changes are sequential. */
async function produceEvents(rows: number, perRow: number): Promise<TestOrganizationScope> {
  const scope = newOrganization();
  const warehouse = await createWarehouse(scope);
  await Promise.all(
    Array.from({ length: rows }, async () => {
      const variantId = randomUUID();
      for (let i = 0; i < perRow; i++)
        await receiveStock(organizationScope(scope.organizationId), variantId, warehouse.id, 1);
    }),
  );
  return scope;
}

/** The organization's stock.updated events (one per change, versioned), first delivery of each. */
function firstArrivals(received: ReceivedEvent[], organizationId: string): ReceivedEvent[] {
  const seen = new Set<string>();
  return received.filter(
    (e) =>
      e.body.organization_id === organizationId &&
      e.routingKey === 'inventory.stock.updated' &&
      !seen.has(e.messageId) &&
      seen.add(e.messageId),
  );
}

/** Within each stock row, the versions must arrive strictly increasing and without gaps. */
function assertOrderedPerStockRow(events: ReceivedEvent[]): void {
  const lastVersion = new Map<string, number>();
  for (const e of events) {
    const stockId = e.body.data.stock_id as string;
    const version = e.body.data.version as number;
    const previous = lastVersion.get(stockId);
    if (previous !== undefined)
      assert.equal(version, previous + 1, `stock row ${stockId}: version ${version} arrived after ${previous}`);
    lastVersion.set(stockId, version);
  }
}

async function unpublishedCount(scope: TestOrganizationScope): Promise<number> {
  const [row] = await scope.em.execute<{ n: number }[]>(
    'select count(*)::int as n from outbox_event where organization_id = ? and published_at is null',
    [scope.organizationId],
  );
  return present(row, 'the count').n;
}

describe('the outbox relay', function () {
  this.timeout(120_000);
  let queue: EventQueue;
  let relays: OutboxRelay[] = [];
  let proxy: TcpProxy | undefined;
  const brokerPort = () => Number(new URL(testStack().amqpUrl).port || 5672);
  const proxiedUrl = (port: number) => {
    const url = new URL(testStack().amqpUrl);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    return url.toString();
  };

  beforeEach(async () => {
    queue = await bindEventQueue();
  });
  afterEach(async () => {
    await Promise.all(relays.map((r) => r.stop()));
    relays = [];
    await proxy?.close();
    proxy = undefined;
    await queue.close();
  });

  it('publishes outbox rows to the exchange in order, in the platform envelope, and marks them published', async () => {
    const scope = await produceEvents(1, 20);
    const relay = relayTo(testStack().amqpUrl);
    relays.push(relay);
    await relay.start();

    await queue.waitFor((r) => firstArrivals(r, scope.organizationId).length === 20);
    const events = firstArrivals(queue.received, scope.organizationId);
    assert.deepEqual(
      events.map((e) => e.body.data.version),
      Array.from({ length: 20 }, (_, i) => i + 2),
    );
    const [first] = events;
    assert.ok(first, 'a first event');
    assert.equal(first.routingKey, 'inventory.stock.updated');
    assert.equal(first.body.event, 'inventory.stock.updated');
    assert.equal(first.body.version, '1.0');
    assert.equal(first.body.event_id, first.messageId);
    assert.equal(first.properties.contentType, 'application/json');
    assert.equal(first.properties.deliveryMode, 2);
    assert.equal(first.properties.type, 'inventory.stock.updated');
    assert.ok(!Number.isNaN(Date.parse(first.body.timestamp)));
    assert.equal(first.body.data.quantities.available, 1);
    await waitUntil(async () => (await unpublishedCount(scope)) === 0, 'every row to be marked published');
  });

  it("loses nothing and keeps each stock row's order when the broker connection drops mid-stream", async () => {
    proxy = await startTcpProxy('127.0.0.1', brokerPort());
    const scope = await produceEvents(5, 100);
    const relay = relayTo(proxiedUrl(proxy.port), 10);
    relays.push(relay);
    await relay.start();

    await queue.waitFor(
      (r) => firstArrivals(r, scope.organizationId).length >= 60,
      30_000,
      'the stream to be under way',
    );
    proxy.cutAll();
    await queue.waitFor(
      (r) => firstArrivals(r, scope.organizationId).length === 500,
      60_000,
      'all 500 events after the reconnect',
    );

    const events = firstArrivals(queue.received, scope.organizationId);
    assert.equal(new Set(events.map((e) => e.messageId)).size, 500);
    assertOrderedPerStockRow(events);
    await waitUntil(async () => (await unpublishedCount(scope)) === 0, 'every row to be marked published');
  });

  it('keeps events in the outbox while the broker is unreachable, and publishes them when it is back', async () => {
    proxy = await startTcpProxy('127.0.0.1', brokerPort());
    proxy.refuse(true);
    const relay = relayTo(proxiedUrl(proxy.port));
    relays.push(relay);
    await relay.start();
    const scope = await produceEvents(2, 5);

    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(relay.status().connected, false);
    assert.equal(firstArrivals(queue.received, scope.organizationId).length, 0);
    assert.ok((await unpublishedCount(scope)) >= 10, 'every event still in the outbox');

    proxy.refuse(false);
    await queue.waitFor(
      (r) => firstArrivals(r, scope.organizationId).length === 10,
      30_000,
      'the held events once the broker is back',
    );
    assert.equal(relay.status().connected, true);
    assertOrderedPerStockRow(firstArrivals(queue.received, scope.organizationId));
  });

  it('lets only one of two relays publish, and the events still arrive once each and in order', async () => {
    const first = relayTo(testStack().amqpUrl, 20);
    const second = relayTo(testStack().amqpUrl, 20);
    relays.push(first, second);
    await first.start();
    await second.start();
    const scope = await produceEvents(3, 30);

    await queue.waitFor((r) => firstArrivals(r, scope.organizationId).length === 90);
    assert.equal([first, second].filter((r) => r.status().leader).length, 1);
    const mine = queue.received.filter(
      (e) => e.body.organization_id === scope.organizationId && e.routingKey === 'inventory.stock.updated',
    );
    assert.equal(mine.length, 90, 'no event published twice by two relays');
    assertOrderedPerStockRow(mine);
  });
});

async function waitUntil(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
