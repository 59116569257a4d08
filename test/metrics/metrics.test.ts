import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import amqp, { type ChannelModel } from 'amqplib';
import { createMetricsRegistry, startMetricsServer, type MetricsServer } from '../../services/metrics/registry.ts';
import { createHttpMetrics } from '../../services/metrics/http.ts';
import { createGrpcMetrics } from '../../services/metrics/grpc.ts';
import { createRelayMetrics } from '../../services/metrics/relay.ts';
import { createConsumerMetrics } from '../../services/metrics/consumer.ts';
import { createOutboxRelay, type OutboxRelay } from '../../services/messaging/outbox-relay.ts';
import { outboxBacklog } from '../../services/messaging/outbox.store.ts';
import { openHolds } from '../../services/inventory/reservations/open-holds.store.ts';
import { createActivities } from '../../activities/index.ts';
import type { HeldReservation } from '../../activities/reservation.activities.ts';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createEventConsumer } from '../../services/messaging/event-consumer.ts';
import { createCatalogEventHandlers } from '../../services/messaging/catalog-events.ts';
import { catalogEventNames, type ConsumerTopology } from '../../services/messaging/topology.ts';
import { startHttp, type HttpHarness } from '../helpers/http.ts';
import { expectStatus, startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import { createWarehouse, receiveStock, stockedOrganization } from '../helpers/fixtures.ts';
import { newOrganization, testStack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a text exposition (comments skipped). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    const [, name = '', labelText = '', value = ''] = match;
    for (const [, key = '', text = ''] of labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[key] = text.replace(/\\(.)/g, '$1');
    samples.push({ name, labels, value: Number(value) });
  }
  return samples;
}

/** The one sample named `name` whose labels include `labels`; 0 when there is none yet (a counter not yet moved). */
function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `one ${name} ${JSON.stringify(labels)} at most, found ${found.length}`);
  return found[0]?.value ?? 0;
}

/** GET /metrics without any token; asserts it is open and in the text format. */
async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parse(await response.text());
}

describe('Prometheus metrics', function () {
  this.timeout(90_000);

  describe('the REST server', () => {
    let http: HttpHarness;
    before(async () => {
      http = await startHttp({ metrics: createHttpMetrics(createMetricsRegistry('http')) });
    });
    after(async () => http?.close());

    it('serves GET /metrics without a token, with the process metrics and each request under its OpenAPI route template', async () => {
      const { organizationId, variantId } = await stockedOrganization(5);
      for (let i = 0; i < 2; i++)
        assert.equal((await http.get(`/api/v1/stock/${variantId}`, organizationId)).status, 200);
      assert.equal((await http.get(`/api/v1/stock/${variantId}`)).status, 401);
      assert.equal((await http.get(`/api/v1/no-such-thing/${variantId}`, organizationId)).status, 404);

      const samples = await scrape(http.url);
      const route = '/api/v1/stock/{variant_id}';
      assert.equal(sampleValue(samples, 'inventory_http_requests_total', { method: 'GET', route, status: '200' }), 2);
      assert.equal(sampleValue(samples, 'inventory_http_requests_total', { method: 'GET', route, status: '401' }), 1);
      assert.equal(
        sampleValue(samples, 'inventory_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }),
        1,
      );
      assert.equal(
        sampleValue(samples, 'inventory_http_request_duration_seconds_count', { method: 'GET', route, status: '200' }),
        2,
      );
      assert.equal(
        sampleValue(samples, 'inventory_http_request_duration_seconds_bucket', {
          method: 'GET',
          route,
          status: '200',
          le: '+Inf',
        }),
        2,
      );
      assert.ok(
        samples.every((s) => !Object.values(s.labels).some((v) => v.includes(variantId))),
        'no series carries a raw URL',
      );
      assert.ok(
        samples.some((s) => s.name === 'process_cpu_user_seconds_total' && s.labels.process === 'http'),
        'the default Node process metrics',
      );

      // The scrape itself is counted under its own route, and the counter moves by exactly one per request.
      const again = await scrape(http.url);
      assert.equal(
        sampleValue(again, 'inventory_http_requests_total', { method: 'GET', route: '/metrics', status: '200' }),
        1,
      );
      assert.equal(sampleValue(again, 'inventory_http_requests_total', { method: 'GET', route, status: '200' }), 2);
    });
  });

  describe('the gRPC server', () => {
    let worker: RunningWorker;
    let api: GrpcHarness;
    let metricsServer: MetricsServer | undefined;
    let url: string;
    before(async () => {
      worker = await startWorker();
      const metrics = createGrpcMetrics(createMetricsRegistry('grpc', { defaultMetrics: false }));
      api = await startGrpc({ taskQueue: worker.taskQueue, metrics });
      metricsServer = await startMetricsServer({
        registry: metrics.registry,
        host: '127.0.0.1',
        port: 0,
        logger: testStack().logger,
      });
      assert.ok(metricsServer);
      url = `http://127.0.0.1:${metricsServer.port}`;
    });
    after(async () => {
      await metricsServer?.close();
      await api?.close();
      await worker?.stop();
    });

    it('counts each call by method and status code, and ReserveStock by outcome: held, conflict, short, invalid', async () => {
      const { organizationId, variantId } = await stockedOrganization(10);
      const orderId = `order-${randomUUID()}`;
      const reserve = (order: string, quantity: number) =>
        api.call('ReserveStock', {
          organization_id: organizationId,
          order_id: order,
          items: [{ variant_id: variantId, quantity }],
          ttl_seconds: 60,
        });

      await reserve(orderId, 3);
      await expectStatus(reserve(orderId, 4), grpc.status.ALREADY_EXISTS);
      await expectStatus(reserve(`order-${randomUUID()}`, 1000), grpc.status.FAILED_PRECONDITION);
      await expectStatus(reserve(`order-${randomUUID()}`, 0), grpc.status.INVALID_ARGUMENT);
      await expectStatus(
        api.call('GetReservation', { order_id: orderId }, new grpc.Metadata()),
        grpc.status.UNAUTHENTICATED,
      );

      const samples = await scrape(url);
      for (const outcome of ['held', 'conflict', 'short', 'invalid'])
        assert.equal(sampleValue(samples, 'inventory_reservations_total', { outcome }), 1, outcome);
      assert.equal(sampleValue(samples, 'inventory_reservations_total', { outcome: 'other' }), 0);
      assert.equal(sampleValue(samples, 'inventory_grpc_requests_total', { method: 'ReserveStock', code: 'OK' }), 1);
      assert.equal(
        sampleValue(samples, 'inventory_grpc_requests_total', { method: 'ReserveStock', code: 'ALREADY_EXISTS' }),
        1,
      );
      assert.equal(
        sampleValue(samples, 'inventory_grpc_requests_total', { method: 'ReserveStock', code: 'FAILED_PRECONDITION' }),
        1,
      );
      assert.equal(
        sampleValue(samples, 'inventory_grpc_requests_total', { method: 'ReserveStock', code: 'INVALID_ARGUMENT' }),
        1,
      );
      assert.equal(
        sampleValue(samples, 'inventory_grpc_requests_total', { method: 'GetReservation', code: 'UNAUTHENTICATED' }),
        1,
      );
      assert.equal(
        sampleValue(samples, 'inventory_grpc_request_duration_seconds_count', { method: 'ReserveStock', code: 'OK' }),
        1,
      );
      assert.ok(
        sampleValue(samples, 'inventory_grpc_request_duration_seconds_sum', { method: 'ReserveStock', code: 'OK' }) > 0,
      );
    });
  });

  describe('the outbox relay', () => {
    let relay: OutboxRelay | undefined;
    let metricsServer: MetricsServer | undefined;
    after(async () => {
      await relay?.stop();
      await metricsServer?.close();
    });

    it("shows every organization's open holds, and an active one whose expiry passed without a release", async () => {
      const stack = testStack();
      const registry = createMetricsRegistry('relay', { defaultMetrics: false });
      createRelayMetrics(
        registry,
        () => outboxBacklog(stack.systemOrm.em),
        () => openHolds(stack.systemOrm.em),
      );
      const server = await startMetricsServer({ registry, host: '127.0.0.1', port: 0, logger: stack.logger });
      assert.ok(server);
      try {
        const url = `http://127.0.0.1:${server.port}`;
        const before = await scrape(url);
        // A hold made by the activity alone: no workflow, so no timer will release it.
        const { organizationId, variantId } = await stockedOrganization(5);
        const activities = createActivities({ orm: stack.orm, systemOrm: stack.systemOrm });
        const workflowExecution = { workflowId: `reservation-metrics-${randomUUID()}`, runId: randomUUID() };
        const held: HeldReservation = await new MockActivityEnvironment({ workflowExecution }).run(() =>
          activities.holdReservationStock({
            organizationId,
            orderId: `metrics-${randomUUID()}`,
            reservationId: randomUUID(),
            items: [{ variant_id: variantId, quantity: 1 }],
            ttlSeconds: 1,
          }),
        );
        assert.equal(held.status, 'active');
        const open = await scrape(url);
        assert.ok(sampleValue(open, 'inventory_holds_open', { status: 'active' }) >= 1);
        assert.ok(!Number.isNaN(sampleValue(open, 'inventory_holds_open', { status: 'confirmed' })));

        // Left unreleased past its expiry, it is counted as such (the others only ever join it: none is released here).
        const past = await waitFor(
          () => scrape(url),
          (s) =>
            sampleValue(s, 'inventory_holds_past_expiry') >= sampleValue(before, 'inventory_holds_past_expiry') + 1,
          'the hold to be counted past its expiry',
        );
        assert.ok(
          sampleValue(past, 'inventory_holds_past_expiry') <=
            sampleValue(past, 'inventory_holds_open', { status: 'active' }),
        );
      } finally {
        await server.close();
      }
    });

    it('shows the backlog waiting, then counts what it published and times the confirms', async () => {
      const stack = testStack();
      const backlog = () => outboxBacklog(stack.systemOrm.em);
      const holds = () => openHolds(stack.systemOrm.em);
      const metrics = createRelayMetrics(createMetricsRegistry('relay', { defaultMetrics: false }), backlog, holds);
      metricsServer = await startMetricsServer({
        registry: metrics.registry,
        host: '127.0.0.1',
        port: 0,
        logger: stack.logger,
      });
      assert.ok(metricsServer);
      const url = `http://127.0.0.1:${metricsServer.port}`;
      const scope = newOrganization();
      const warehouse = await createWarehouse(scope);
      for (let i = 0; i < 5; i++) await receiveStock(scope, randomUUID(), warehouse.id, 1);

      const waiting = await scrape(url);
      assert.ok(sampleValue(waiting, 'inventory_outbox_pending') >= 5);
      assert.ok(sampleValue(waiting, 'inventory_outbox_oldest_pending_age_seconds') > 0);
      assert.equal(sampleValue(waiting, 'inventory_outbox_published_total'), 0);

      // The relay runs as the system role, as in production.

      relay = createOutboxRelay({
        orm: stack.systemOrm,

        databaseUrl: stack.systemDatabaseUrl,

        amqpUrl: stack.amqpUrl,
        exchange: stack.exchange,
        logger: stack.logger,
        batchSize: 200,
        pollIntervalMs: 50,
        confirmTimeoutMs: 30_000,
        metrics,
      });
      await relay.start();
      const drained = await waitFor(
        () => scrape(url),
        (s) => sampleValue(s, 'inventory_outbox_pending') === 0,
        'the outbox to be drained',
        60_000,
      );
      assert.equal(sampleValue(drained, 'inventory_outbox_oldest_pending_age_seconds'), 0);
      const published = sampleValue(drained, 'inventory_outbox_published_total');
      assert.ok(published >= 5, `published ${published}`);
      assert.equal(published, relay.status().published);
      assert.ok(sampleValue(drained, 'inventory_outbox_publish_confirm_seconds_count') >= 1);
    });
  });

  describe('the event consumer', () => {
    const run = `metrics.${randomUUID().slice(0, 8)}`;
    const exchange = `catalog.events.${run}`;
    const topology: ConsumerTopology = {
      sources: [
        { name: 'catalog', exchange, queue: `inventory.${run}.catalog-events`, events: catalogEventNames as never },
      ],
      deadLetterQueue: `inventory.${run}.dead-letter`,
    };
    let consumer: ReturnType<typeof createEventConsumer> | undefined;
    let broker: ChannelModel | undefined;
    let metricsServer: MetricsServer | undefined;
    after(async () => {
      await consumer?.stop();
      await metricsServer?.close();
      if (broker) {
        const channel = await broker.createChannel();
        for (const source of topology.sources) await channel.deleteQueue(source.queue);
        await channel.deleteExchange(exchange);
        await channel.deleteQueue(topology.deadLetterQueue);
        await broker.close();
      }
    });

    it('counts deliveries by source and outcome, and shows the dead-letter queue depth', async () => {
      const stack = testStack();
      const metrics = createConsumerMetrics(createMetricsRegistry('consumer', { defaultMetrics: false }));
      const handlers = createCatalogEventHandlers({ orm: stack.orm });
      consumer = createEventConsumer({
        orm: stack.orm,
        amqpUrl: stack.amqpUrl,
        logger: stack.logger,
        maxAttempts: 2,
        topology,
        metrics,
        // variant.deleted fails every time here, to see a retry and then a give-up.
        handlers: {
          catalog: { ...handlers, 'catalog.variant.deleted': () => Promise.reject(new Error('failing on purpose')) },
        },
      });
      await consumer.start();
      await consumer.ready();
      const live = consumer;
      metrics.watchDeadLetterQueue(() => live.deadLetterDepth());
      metricsServer = await startMetricsServer({
        registry: metrics.registry,
        host: '127.0.0.1',
        port: 0,
        logger: stack.logger,
      });
      assert.ok(metricsServer);
      const url = `http://127.0.0.1:${metricsServer.port}`;
      broker = await amqp.connect(stack.amqpUrl);
      const channel = await broker.createConfirmChannel();
      const publish = async (event: string, eventId: string, body?: string) => {
        const content =
          body ??
          JSON.stringify({
            event,
            event_id: eventId,
            organization_id: newOrganization().organizationId,
            version: '1.0',
            data: { variant_id: randomUUID(), track_inventory: false },
          });
        channel.publish(exchange, event, Buffer.from(content), { persistent: true, messageId: eventId });
        await channel.waitForConfirms();
      };
      const count = (s: Sample[], outcome: string) =>
        sampleValue(s, 'inventory_consumer_messages_total', { source: 'catalog', outcome });

      const organizationId = newOrganization().organizationId;
      const created = JSON.stringify({
        event: 'catalog.variant.created',
        event_id: randomUUID(),
        organization_id: organizationId,
        version: '1.0',
        data: { variant_id: randomUUID(), track_inventory: false },
      });
      await publish('catalog.variant.created', 'first', created);
      await waitFor(
        () => scrape(url),
        (s) => count(s, 'applied') === 1,
        'the event to be applied',
      );
      await publish('catalog.variant.created', 'again', created);
      await waitFor(
        () => scrape(url),
        (s) => count(s, 'duplicate') === 1,
        'the redelivery to be found in the inbox',
      );
      await publish('catalog.variant.created', randomUUID(), '{not json');
      await waitFor(
        () => scrape(url),
        (s) => count(s, 'refused') === 1,
        'the malformed message to be refused',
      );
      await publish('catalog.variant.deleted', randomUUID());
      const settled = await waitFor(
        () => scrape(url),
        (s) => count(s, 'dead_lettered') === 1,
        'the failing event to be dead-lettered',
      );

      assert.equal(count(settled, 'applied'), 1);
      assert.equal(count(settled, 'duplicate'), 1);
      assert.equal(count(settled, 'refused'), 1);
      assert.equal(count(settled, 'retried'), 1);
      await waitFor(
        () => scrape(url),
        (s) => sampleValue(s, 'inventory_consumer_dead_letter_messages') === 2,
        'the dead-letter queue to hold both messages',
      );
    });
  });
});
