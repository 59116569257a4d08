/**
 * What the broker fault tests check once the fault is over, shared by the link tests (a proxy between a
 * process and the broker) and the kill tests (the broker itself killed): for the relay, that the broker
 * got every outbox row's event, each stock row's in version order; for the consumer, that each order
 * event took effect exactly once.
 */
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { ConfirmChannel, GetMessage } from 'amqplib';
import type { Orm } from '../../services/db/orm.ts';
import { createOutboxRelay, type OutboxRelay } from '../../services/messaging/outbox-relay.ts';
import type { EventQueue, ReceivedEvent } from '../helpers/amqp.ts';
import { waitFor } from '../helpers/wait.ts';
import type { PrivateConsumer } from '../helpers/consumer.ts';
import { assertInvariants } from './invariants.ts';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import { createWarehouse, receiveStock, stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import type { GrpcHarness } from '../helpers/grpc.ts';
import { present } from '../helpers/present.ts';
import { newOrganization, testStack, type TestOrganizationScope } from '../helpers/stack.ts';

/**
 * The outbox relay as production runs it (the system role), publishing to the run's exchange on `amqpUrl`;
 * started. `database` replaces the system role's pool and the URL of its leader session (a proxy's, say).
 */
export async function startRelay(
  amqpUrl: string,
  options: { confirmTimeoutMs?: number; database?: { orm: Orm; url: string } } = {},
): Promise<OutboxRelay> {
  const stack = testStack();
  const { confirmTimeoutMs = 30_000, database = { orm: stack.systemOrm, url: stack.systemDatabaseUrl } } = options;
  const relay = createOutboxRelay({
    orm: database.orm,
    databaseUrl: database.url,
    amqpUrl,
    exchange: stack.exchange,
    logger: stack.logger,
    batchSize: 20,
    pollIntervalMs: 50,
    confirmTimeoutMs,
  });
  await relay.start();
  return relay;
}

/** A fresh organization whose `write` puts one unit on hand through the ledger, round-robin over `stockRows` stock rows. */
export async function ledgerWriter(stockRows = 3) {
  const scope = newOrganization();
  const warehouse = await createWarehouse(scope);
  const variants = Array.from({ length: stockRows }, () => randomUUID());
  let written = 0;
  return {
    scope,
    warehouseId: warehouse.id,
    variants,
    /** How many writes were started so far. */
    written: () => written,
    write: () => receiveStock(scope, present(variants[written++ % variants.length], 'a variant'), warehouse.id, 1),
  };
}

/**
 * An organization writing ledger events (ledgerWriter) whose first 6 the relay under test has started
 * publishing to `events`; `allPublished(since)` waits until every outbox row has arrived and is marked
 * published, checks them (exactly the outbox's ids, in version order per stock row) and the invariants,
 * and returns how long after `since` they had all arrived, and the repeats.
 */
export async function ledgerStream(events: EventQueue) {
  const writer = await ledgerWriter();
  const mine = () => events.received.filter((e) => e.body.organization_id === writer.scope.organizationId);
  for (let i = 0; i < 6; i++) await writer.write();
  await events.waitFor(() => mine().length > 0, 20_000, 'the stream to be under way');

  async function allPublished(since: number) {
    const outbox = await outboxIds(writer.scope);
    await events.waitFor(
      () => {
        const got = new Set(mine().map((e) => e.messageId));
        return outbox.every((id) => got.has(id));
      },
      45_000,
      `all ${outbox.length} events`,
    );
    const recoveredMs = Date.now() - since;
    await waitFor(
      () => unpublishedCount(writer.scope),
      (n) => n === 0,
      'every row marked published',
    );
    const duplicates = assertPublishedInOrder(mine(), outbox, writer.variants.length);
    await assertInvariants({ em: writer.scope.em, organizationId: writer.scope.organizationId });
    return { outbox, recoveredMs, duplicates };
  }
  return { ...writer, mine, allPublished };
}

/**
 * Once a consumer fault is over: waits until every order event is applied (`timeoutMs`) and the consumer's
 * order queue has drained, duplicates included, then checks that nothing was dead-lettered, that each event
 * took effect exactly once (20 units stocked) and the invariants (`client` sees the reservation workflows:
 * the run's server by default). Returns how long after `since` every event had been applied.
 */
export async function allOrderEventsAppliedOnce(
  channel: ConfirmChannel,
  consumer: PrivateConsumer,
  orders: Awaited<ReturnType<typeof heldOrders>>,
  since: number,
  options: { timeoutMs?: number; client?: Client } = {},
): Promise<number> {
  const { timeoutMs = 45_000, client = testStack().temporal.client } = options;
  await waitFor(
    () => inbox(orders.scope),
    (rows) => rows.length >= orders.events.length,
    'every event applied',
    timeoutMs,
  );
  const appliedMs = Date.now() - since;
  const orderQueue = present(
    consumer.topology.sources.find((s) => s.name === 'order'),
    'the order source',
  ).queue;
  await waitFor(
    async () => (await channel.checkQueue(orderQueue)).messageCount,
    (n) => n === 0,
    'the queue drained, the duplicates included',
  );
  assert.equal((await channel.checkQueue(consumer.topology.deadLetterQueue)).messageCount, 0, 'nothing dead-lettered');
  await assertEachAppliedOnce(orders.scope, orders.events, {
    variantId: orders.variantId,
    warehouseId: orders.warehouseId,
    stocked: 20,
  });
  await assertInvariants({
    em: orders.scope.em,
    organizationId: orders.organizationId,
    client,
  });
  return appliedMs;
}

/** The outbox's event ids of an organization, in sequence order. */
export async function outboxIds(scope: TestOrganizationScope): Promise<string[]> {
  const rows = await scope.em
    .fork()
    .execute<{ id: string }[]>('select id from outbox_event where organization_id = ? order by sequence', [
      scope.organizationId,
    ]);
  return rows.map((row) => row.id);
}

/** How many of an organization's outbox rows are not marked published yet. */
export async function unpublishedCount(scope: TestOrganizationScope): Promise<number> {
  const [row] = await scope.em
    .fork()
    .execute<{ n: number }[]>(
      'select count(*)::int as n from outbox_event where organization_id = ? and published_at is null',
      [scope.organizationId],
    );
  return present(row, 'the count').n;
}

/**
 * The broker got exactly the outbox's event ids (at least once each: a redelivery is the same id, which
 * consumers deduplicate), and each stock row's `stock.updated` events first arrived in version order, no
 * gap. Returns how many arrivals were repeats.
 */
export function assertPublishedInOrder(arrivals: ReceivedEvent[], outbox: string[], stockRows: number): number {
  const seen = new Set<string>();
  const firsts = arrivals.filter((e) => !seen.has(e.messageId) && seen.add(e.messageId));
  assert.deepEqual(
    new Set(firsts.map((e) => e.messageId)),
    new Set(outbox),
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
  assert.equal(lastVersion.size, stockRows, 'every stock row had its events published');
  return arrivals.length - firsts.length;
}

/** A message taken from a queue, as the link tests' event queue records it. */
export function receivedEvent(message: GetMessage): ReceivedEvent {
  return {
    messageId: String(message.properties.messageId),
    routingKey: message.fields.routingKey,
    properties: message.properties,
    body: JSON.parse(message.content.toString('utf8')),
  };
}

/** One order event a test publishes as the order service would: even orders cancelled, odd ones confirmed. */
export interface OrderEvent {
  event: 'order.cancelled' | 'order.confirmed';
  orderId: string;
  eventId: string;
}

/**
 * A fresh organization with `stocked` units of one variant and `count` orders holding one unit each (ReserveStock
 * through `api`), and one event per order, each with its own id: even orders cancelled, odd ones confirmed.
 */
export async function heldOrders(api: GrpcHarness, options: { label: string; count: number; stocked: number }) {
  const stocked = await stockedOrganization(options.stocked);
  const orderIds = Array.from({ length: options.count }, (_, i) => `${options.label}-${i}`);
  await Promise.all(
    orderIds.map((orderId) =>
      api.call<ReserveStockResponse__Output>('ReserveStock', {
        organization_id: stocked.organizationId,
        order_id: orderId,
        items: [{ variant_id: stocked.variantId, quantity: 1 }],
      }),
    ),
  );
  const events: OrderEvent[] = orderIds.map((orderId, i) => ({
    event: i % 2 === 0 ? 'order.cancelled' : 'order.confirmed',
    orderId,
    eventId: randomUUID(),
  }));
  return { ...stocked, events };
}

/** Publishes the event persistent to the order exchange and waits for the broker's confirm. */
export async function publishOrderEvent(
  channel: ConfirmChannel,
  exchange: string,
  organizationId: string,
  e: OrderEvent,
): Promise<void> {
  const body = Buffer.from(
    JSON.stringify({
      event: e.event,
      event_id: e.eventId,
      organization_id: organizationId,
      version: '1.0',
      data: { order_id: e.orderId, reason: 'fault test' },
    }),
  );
  channel.publish(exchange, e.event, body, { persistent: true, messageId: e.eventId });
  await channel.waitForConfirms();
}

/** The organization's inbox: which events were applied, and with what outcome. */
export async function inbox(scope: TestOrganizationScope): Promise<{ event_id: string; outcome: string }[]> {
  return scope.em
    .fork()
    .execute<{ event_id: string; outcome: string }[]>(
      'select event_id, outcome from inbox_event where organization_id = ?',
      [scope.organizationId],
    );
}

/**
 * Each event took effect exactly once, however often it came: one inbox row each with its outcome, each
 * cancelled order released (one `release` movement) and each confirmed one confirmed, and the stock row
 * (`stocked` units, one held per order) shows exactly that.
 */
export async function assertEachAppliedOnce(
  scope: TestOrganizationScope,
  events: OrderEvent[],
  stock: { variantId: string; warehouseId: string; stocked: number },
): Promise<void> {
  const cancelled = events.filter((e) => e.event === 'order.cancelled').length;
  const confirmed = events.length - cancelled;
  assert.deepEqual(
    new Map((await inbox(scope)).map((r) => [r.event_id, r.outcome])),
    new Map(events.map((e) => [e.eventId, e.event === 'order.cancelled' ? 'released' : 'confirmed'])),
    'one inbox row per event, with its effect',
  );
  const statuses = await scope.em
    .fork()
    .execute<{ status: string; n: number }[]>(
      'select status, count(*)::int as n from reservation where organization_id = ? group by status order by status',
      [scope.organizationId],
    );
  assert.deepEqual(statuses, [
    { status: 'confirmed', n: confirmed },
    { status: 'released', n: cancelled },
  ]);
  const [{ n: releases } = { n: 0 }] = await scope.em
    .fork()
    .execute<{ n: number }[]>(
      "select count(*)::int as n from stock_movement where organization_id = ? and type = 'release'",
      [scope.organizationId],
    );
  assert.equal(releases, cancelled, 'one release per cancelled order, however often its event came');
  const row = present(await stockRow(scope, stock.variantId, stock.warehouseId), 'the stock row');
  assert.deepEqual(
    { available: row.available, reserved: row.reserved },
    { available: stock.stocked - confirmed, reserved: confirmed },
  );
}
