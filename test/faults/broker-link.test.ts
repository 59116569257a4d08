import assert from 'node:assert/strict';
import type { OutboxRelay } from '../../services/messaging/outbox-relay.ts';
import { bindEventQueue, type EventQueue } from '../helpers/amqp.ts';
import { startPrivateConsumer, type PrivateConsumer } from '../helpers/consumer.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { present } from '../helpers/present.ts';
import { testStack } from '../helpers/stack.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import {
  assertEachAppliedOnce,
  heldOrders,
  inbox,
  ledgerStream,
  type OrderEvent,
  publishOrderEvent,
  startRelay,
} from './event-checks.ts';
import { assertInvariants } from './invariants.ts';
import { proxyInFront } from './links.ts';

/** Longer than the relay's and the consumer's reconnect backoff cap (10 s, services/messaging/*), so they retry at the cap. */
const outageMs = 12_000;

/**
 * The heartbeat the slow-link rows ask for (`?heartbeat=` in AMQP_URL; RabbitMQ proposes 60 s): either side that
 * hears nothing for two intervals takes the connection for dead.
 */
const heartbeatSeconds = 2;
/**
 * The slow link's delay per chunk, each way. When it sets in each side hears nothing for this long: more than two
 * heartbeat intervals plus a check's phase, so the connection surely times out.
 */
const latencyMs = 7000;
/** How long the link stays slow. */
const slowMs = 12_000;

/** `url` asking the broker for a heartbeat every `seconds` (none: the broker's proposal). */
function withHeartbeat(url: string, seconds?: number): string {
  if (seconds === undefined) return url;
  const withIt = new URL(url);
  withIt.searchParams.set('heartbeat', String(seconds));
  return withIt.toString();
}

describe("faults: a process's RabbitMQ link fails (a TCP proxy between it and the broker)", function () {
  this.timeout(120_000);
  let proxy: TcpProxy | undefined;
  let relay: OutboxRelay | undefined;
  let queue: EventQueue | undefined;
  let consumer: PrivateConsumer | undefined;
  let worker: RunningWorker | undefined;
  let api: GrpcHarness | undefined;

  afterEach(async () => {
    proxy?.refuse(false);
    proxy?.latency(0);
    await relay?.stop();
    await consumer?.close();
    await queue?.close();
    await api?.close();
    await worker?.stop();
    await proxy?.close();
    proxy = relay = queue = consumer = worker = api = undefined;
  });

  /**
   * The relay (as the system role, as in production) publishing through a proxy, the run's events exchange bound
   * to a queue straight on the broker, and an organization writing ledger events, the first already published.
   */
  async function relayThroughProxy(options: { heartbeat?: number; confirmTimeoutMs?: number } = {}) {
    const stack = testStack();
    const events = await bindEventQueue();
    queue = events;
    const proxied = await proxyInFront(stack.amqpUrl, 5672);
    proxy = proxied.proxy;
    const started = await startRelay(withHeartbeat(proxied.url, options.heartbeat), {
      ...(options.confirmTimeoutMs ? { confirmTimeoutMs: options.confirmTimeoutMs } : {}),
    });
    relay = started;
    const stream = await ledgerStream(events);
    return { proxy: proxied.proxy, relay: started, ...stream };
  }

  /**
   * The consumer with its real handlers reading through a proxy (its own exchanges and queues), 12 orders holding
   * a unit each of 20, and the first 4 of their events (even orders cancelled, odd ones confirmed) published
   * straight to the broker, as the order service would, the first applied.
   */
  async function consumerThroughProxy(label: string, options: { heartbeat?: number } = {}) {
    const stack = testStack();
    worker = await startWorker();
    const grpcApi = await startGrpc({ taskQueue: worker.taskQueue });
    api = grpcApi;
    const proxied = await proxyInFront(stack.amqpUrl, 5672);
    proxy = proxied.proxy;
    const started = await startPrivateConsumer(label, worker.taskQueue, {
      amqpUrl: withHeartbeat(proxied.url, options.heartbeat),
    });
    consumer = started;
    const orders = await heldOrders(grpcApi, { label, count: 12, stocked: 20 });
    const channel = await started.broker.createConfirmChannel();
    const publish = (e: OrderEvent) => publishOrderEvent(channel, started.exchanges.order, orders.organizationId, e);
    const applied = () => inbox(orders.scope);
    for (const e of orders.events.slice(0, 4)) await publish(e);
    await waitFor(applied, (rows) => rows.length > 0, 'the first event applied');
    const orderQueue = present(
      started.topology.sources.find((s) => s.name === 'order'),
      'the order source',
    ).queue;

    /**
     * Waits until every event is applied and the queue is drained, then checks that each took effect exactly once
     * and none was dead-lettered. Returns how long after `since` they had all been applied.
     */
    async function allAppliedOnce(since: number): Promise<number> {
      await waitFor(applied, (rows) => rows.length >= orders.events.length, 'every event applied', 45_000);
      const recoveredMs = Date.now() - since;
      await waitFor(
        async () => (await channel.checkQueue(orderQueue)).messageCount,
        (n) => n === 0,
        'the queue drained, the duplicates included',
      );
      await assertEachAppliedOnce(orders.scope, orders.events, {
        variantId: orders.variantId,
        warehouseId: orders.warehouseId,
        stocked: 20,
      });
      assert.equal(
        (await channel.checkQueue(started.topology.deadLetterQueue)).messageCount,
        0,
        'nothing dead-lettered',
      );
      await channel.close();
      await assertInvariants({
        em: orders.scope.em,
        organizationId: orders.organizationId,
        client: stack.temporal.client,
      });
      return recoveredMs;
    }
    return { proxy: proxied.proxy, events: orders.events, publish, applied, allAppliedOnce };
  }

  it("relay's broker refused and cut for 12 s while ledger operations keep writing events: afterwards the broker gets every outbox row at least once, each stock row's events in order, all marked published", async () => {
    const { proxy, relay, scope, write, mine, allPublished } = await relayThroughProxy();
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
    const arrivedWhileDown = new Set(mine().map((e) => e.messageId));
    assert.equal(relay.status().connected, false, 'the relay saw the broker go');
    assert.deepEqual(
      writtenWhileDown.filter((row) => arrivedWhileDown.has(row.id)),
      [],
      'nothing written during the outage was published during it',
    );
    assert.ok(writtenWhileDown.length >= 20, `events were written during the outage (${writtenWhileDown.length})`);
    proxy.refuse(false);

    const { outbox, recoveredMs, duplicates } = await allPublished(Date.now());
    assert.ok(
      recoveredMs < 20_000,
      `published within the backoff cap and a batch after the broker came back (${recoveredMs} ms)`,
    );
    console.log(
      `      relay: ${outbox.length} events, ${writtenWhileDown.length} written during the outage, all published ${recoveredMs} ms after the broker came back, ${duplicates} duplicates`,
    );
  });

  it("consumer's broker connection cut and refused for 12 s while order events are applied: each event, duplicates and redeliveries included, is applied exactly once, none lost", async () => {
    const { proxy, events, publish, applied, allAppliedOnce } = await consumerThroughProxy('faults-consumer');
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

    const recoveredMs = await allAppliedOnce(backAt);
    assert.ok(
      appliedWhileDown <= 4,
      `nothing published during the outage was applied during it (${appliedWhileDown} applied)`,
    );
    console.log(
      `      consumer: ${events.length} events (+4 duplicates) all applied ${recoveredMs} ms after the broker came back`,
    );
  });

  it("relay's link slowed to 7 s per chunk each way for 12 s (heartbeat 2 s) while ledger operations keep writing events: the broker gives its connection up and it opens another; afterwards the broker has every outbox row at least once, each stock row's events in order, all marked published", async () => {
    const { proxy, relay, write, allPublished } = await relayThroughProxy({ heartbeat: heartbeatSeconds });
    const connectionsBefore = proxy.accepted();
    proxy.latency(latencyMs);
    const slowAt = Date.now();
    const errors = new Set<string>();
    while (Date.now() - slowAt < slowMs) {
      await write();
      const { lastError } = relay.status();
      if (lastError) errors.add(lastError);
      // Deliberately paced: events keep arriving in the outbox while the link is slow.
      await sleep(400);
    }
    proxy.latency(0);

    const { outbox, recoveredMs, duplicates } = await allPublished(Date.now());
    const reconnections = proxy.accepted() - connectionsBefore;
    assert.ok(
      reconnections > 0,
      `the relay's connection was given up and another opened (errors seen: ${[...errors].join('; ') || 'none'})`,
    );
    console.log(
      `      relay: ${outbox.length} events, ${reconnections} connection(s) opened after the slowdown (${[...errors].join('; ')}), all published ${recoveredMs} ms after the link was fast again, ${duplicates} duplicates`,
    );
  });

  it("relay's link stalled (every chunk held 6 s, no heartbeat to notice) past its 1 s confirm timeout while ledger operations keep writing events: the relay gives the batch up and publishes it again on a new channel; afterwards the broker has every outbox row at least once, in order, all marked published", async () => {
    const { proxy, relay, write, allPublished } = await relayThroughProxy({ heartbeat: 0, confirmTimeoutMs: 1000 });
    proxy.latency(6000);
    const stalledAt = Date.now();
    const errors = new Set<string>();
    while (Date.now() - stalledAt < 8000) {
      await write();
      const { lastError } = relay.status();
      if (lastError) errors.add(lastError);
      // Deliberately paced: events keep arriving in the outbox while the link stalls.
      await sleep(400);
    }
    await waitFor(
      async () => relay.status().lastError,
      (error) => /did not confirm the batch within 1000 ms/.test(error ?? ''),
      'the relay to give an unconfirmed batch up',
    );
    proxy.latency(0);

    const { outbox, recoveredMs, duplicates } = await allPublished(Date.now());
    console.log(
      `      relay: ${outbox.length} events, all published ${recoveredMs} ms after the link moved again, ${duplicates} duplicates (${[...errors].join('; ')})`,
    );
  });

  it("consumer's link slowed to 7 s per chunk each way for 12 s (heartbeat 2 s) while order events are applied: the broker gives its connection up and it opens another; each event, redeliveries and duplicates included, is applied exactly once, none lost, none dead-lettered", async () => {
    const { proxy, events, publish, allAppliedOnce } = await consumerThroughProxy('slow-consumer', {
      heartbeat: heartbeatSeconds,
    });
    const connectionsBefore = proxy.accepted();
    proxy.latency(latencyMs);
    // The rest, and a second copy of two already sent, while the consumer's link is slow.
    for (const e of [...events.slice(4), ...events.slice(0, 2)]) await publish(e);
    // Deliberately keep the link slow past the heartbeat timeout and a reconnect attempt or two.
    await sleep(slowMs);
    proxy.latency(0);

    const recoveredMs = await allAppliedOnce(Date.now());
    const reconnections = proxy.accepted() - connectionsBefore;
    assert.ok(reconnections > 0, "the consumer's connection was given up and another opened");
    console.log(
      `      consumer: ${events.length} events (+2 duplicates), ${reconnections} connection(s) opened after the slowdown, all applied ${recoveredMs} ms after the link was fast again`,
    );
  });
});
