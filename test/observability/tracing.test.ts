import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import winston from 'winston';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities/index.ts';
import { createLogger, type Logger } from '../../services/logger.ts';
import { createOutboxRelay, type OutboxRelay } from '../../services/messaging/outbox-relay.ts';
import { createReservationClient } from '../../services/workflow-clients/reservation-client.ts';
import { startTracing, type Tracing } from '../../services/tracing/tracing.ts';
import { workerTracing, workflowClientInterceptors } from '../../services/tracing/temporal.ts';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import { reservationWorkflowId } from '../../workflows/definitions.ts';
import { bindEventQueue, type EventQueue } from '../helpers/amqp.ts';
import { createWarehouse, stockedOrganization } from '../helpers/fixtures.ts';
import { bearerFor, startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { startPrivateConsumer } from '../helpers/consumer.ts';
import { startHttp, type HttpHarness } from '../helpers/http.ts';
import { present } from '../helpers/present.ts';
import { testStack } from '../helpers/stack.ts';
import { workflowBundle } from '../helpers/temporal.ts';
import { waitFor } from '../helpers/wait.ts';

/** Every part of the service a request crosses, in this process, with tracing on or off as the settings say. */
interface Parts {
  tracing: Tracing;
  exporter: InMemorySpanExporter;
  /** Every log line the parts wrote, parsed. */
  logs: Record<string, unknown>[];
  client: Client;
  taskQueue: string;
  api: GrpcHarness;
  http: HttpHarness;
  events: EventQueue;
  /** Publishes an order event to the private consumer, with `headers` (a traceparent); returns its event id. */
  publishOrderEvent(event: string, organizationId: string, data: object, headers?: object): Promise<string>;
  close(): Promise<void>;
}

/** A logger as the service makes it (JSON lines), writing into `lines` instead of the console. */
function capturingLogger(lines: Record<string, unknown>[]): Logger {
  const logger = createLogger({ LOG_LEVEL: 'info', LOG_FORMAT: 'json' }, 'tracing-test');
  logger.clear();
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  logger.add(new winston.transports.Stream({ stream }));
  return logger;
}

/**
 * The parts with tracing on or off. Their spans go to the SDK's in-memory exporter, or, given `tracesUrl`, to the
 * OTLP exporter the service uses, at that endpoint.
 */
async function startParts(enabled: boolean, tracesUrl?: string): Promise<Parts> {
  const stack = testStack();
  const exporter = new InMemorySpanExporter();
  // The exporter's endpoint is never used: the test's in-memory exporter takes its place.
  const logs: Record<string, unknown>[] = [];
  const logger = capturingLogger(logs);
  const tracing = tracesUrl
    ? startTracing({ enabled, tracesUrl }, 'test', { logger })
    : startTracing({ enabled, tracesUrl: 'http://127.0.0.1:9/v1/traces' }, 'test', { logger, exporter });
  const client = new Client({
    connection: stack.temporal.connection,
    namespace: stack.temporal.namespace ?? 'default',
    interceptors: workflowClientInterceptors(tracing),
  });
  const taskQueue = `tracing-${randomUUID()}`;
  const worker = await Worker.create({
    connection: stack.temporal.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(stack),
    ...workerTracing(tracing),
  });
  const running = worker.run();
  const api = await startGrpc({ taskQueue, temporalClient: client, logger, traced: tracing.enabled });
  const http = await startHttp({ taskQueue, temporalClient: client, logger, traced: tracing.enabled });
  const events = await bindEventQueue();
  const relay: OutboxRelay = createOutboxRelay({
    orm: stack.systemOrm,
    databaseUrl: stack.systemDatabaseUrl,
    amqpUrl: stack.amqpUrl,
    exchange: stack.exchange,
    logger,
    batchSize: 200,
    pollIntervalMs: 50,
    confirmTimeoutMs: 30_000,
  });
  await relay.start();

  const consumer = await startPrivateConsumer('tracing', taskQueue, { temporalClient: client, logger });

  return {
    tracing,
    exporter,
    logs,
    client,
    taskQueue,
    api,
    http,
    events,
    async publishOrderEvent(event, organizationId, data, headers) {
      const eventId = randomUUID();
      const channel = await consumer.broker.createConfirmChannel();
      const body = { event, event_id: eventId, organization_id: organizationId, version: '1.0', data };
      channel.publish(consumer.exchanges.order, event, Buffer.from(JSON.stringify(body)), {
        messageId: eventId,
        ...(headers ? { headers } : {}),
      });
      await channel.waitForConfirms();
      await channel.close();
      return eventId;
    },
    async close() {
      await consumer.close();
      await relay.stop();
      await events.close();
      await http.close();
      await api.close();
      worker.shutdown();
      await running;
      await tracing.shutdown();
    },
  };
}

/** The spans exported so far of one trace. */
function traceOf(exporter: InMemorySpanExporter, traceId: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
}

function named(spans: readonly ReadableSpan[], name: string | RegExp): ReadableSpan {
  const span = spans.find((s) => (typeof name === 'string' ? s.name === name : name.test(s.name)));
  return present(span, `a span named ${name} (spans: ${spans.map((s) => s.name).join(', ')})`);
}

/** The span and every ancestor of it in `spans`, nearest first. */
function ancestry(spans: readonly ReadableSpan[], span: ReadableSpan): ReadableSpan[] {
  const chain = [span];
  for (let at = span; at.parentSpanId; ) {
    const parent = spans.find((s) => s.spanContext().spanId === at.parentSpanId);
    if (!parent) break;
    chain.push(parent);
    at = parent;
  }
  return chain;
}

/** Waits until the exported spans of the trace include every name (the workflow's arrive through the worker's sink). */
async function waitForSpans(parts: Parts, traceId: string, names: (string | RegExp)[]): Promise<ReadableSpan[]> {
  await waitFor(
    async () => {
      await parts.tracing.spanProcessor.forceFlush();
      return traceOf(parts.exporter, traceId).map((s) => s.name);
    },
    (seen) => names.every((n) => seen.some((name) => (typeof n === 'string' ? name === n : n.test(name)))),
    `spans ${names.join(', ')} in trace ${traceId}`,
    30_000,
  );
  return traceOf(parts.exporter, traceId);
}

async function outboxTrace(organizationId: string, name: string): Promise<{ id: string; traceparent?: string }> {
  const [row] = await testStack()
    .observerOrm.em.fork()
    .execute<{ id: string; trace_context: Record<string, string> | null }[]>(
      'select id, trace_context from outbox_event where organization_id = ? and name = ? order by sequence desc limit 1',
      [organizationId, name],
    );
  const found = present(row, `an outbox row ${name}`);
  return {
    id: found.id,
    ...(found.trace_context?.traceparent ? { traceparent: found.trace_context.traceparent } : {}),
  };
}

async function inboxOutcome(eventId: string): Promise<string | undefined> {
  const [row] = await testStack()
    .observerOrm.em.fork()
    .execute<{ outcome: string }[]>('select outcome from inbox_event where event_id = ?', [eventId]);
  return row?.outcome;
}

/** Mocha hooks that start the parts before the suite and stop them after it. */
function partsFor(enabled: boolean, tracesUrl?: () => string): () => Parts {
  let parts: Parts | undefined;
  before(async () => {
    parts = await startParts(enabled, tracesUrl?.());
  });
  after(async () => {
    await parts?.close();
  });
  return () => present(parts, 'the parts (started before the suite)');
}

/** A fresh organization with stock, and a hold for one of its orders, made over gRPC. */
async function reserveOne(parts: Parts): Promise<{ organizationId: string; variantId: string; orderId: string }> {
  const { organizationId, variantId } = await stockedOrganization(5);
  const orderId = `order-${randomUUID()}`;
  const reserved = await parts.api.call<ReserveStockResponse__Output>('ReserveStock', {
    organization_id: organizationId,
    order_id: orderId,
    lines: [{ variant_id: variantId, quantity: 1 }],
    ttl_seconds: 60,
  });
  assert.equal(reserved.status, 'active');
  return { organizationId, variantId, orderId };
}

describe('traces', function () {
  this.timeout(120_000);

  describe('with tracing on', () => {
    const started = partsFor(true);
    let parts: Parts;
    beforeEach(() => {
      parts = started();
    });

    it('one trace spans gRPC ReserveStock → Update-with-Start → workflow → activity → SQL → outbox, and the published message carries its trace id', async () => {
      const { organizationId, orderId } = await reserveOne(parts);
      await parts.tracing.spanProcessor.forceFlush();
      const workflowId = reservationWorkflowId(organizationId, orderId);
      const updateWithStart = named(
        parts.exporter.getFinishedSpans().filter((s) => s.attributes.temporalWorkflowId === workflowId),
        'UpdateWithStartWorkflow:reserve',
      );
      const traceId = updateWithStart.spanContext().traceId;

      // The workflow's own span ends with the workflow: release the hold (another call, another trace) to end it.
      await parts.api.call('ReleaseReservation', { organization_id: organizationId, order_id: orderId });
      await parts.client.workflow.getHandle(workflowId).result();
      const spans = await waitForSpans(parts, traceId, [
        'RunWorkflow:reservationWorkflow',
        'HandleUpdate:reserve',
        /^RunActivity:/,
        'insert outbox_event',
      ]);

      // One tree: the gRPC server span is its root and every other span descends from it.
      const server = named(spans, 'inventory.v1.InventoryService/ReserveStock');
      assert.equal(server.parentSpanId, undefined);
      for (const span of spans) {
        assert.equal(ancestry(spans, span).at(-1), server, `${span.name} does not descend from the gRPC span`);
      }
      assert.equal(updateWithStart.parentSpanId, server.spanContext().spanId);
      const activity = named(spans, /^RunActivity:/);
      const outboxInsert = spans.find((s) => s.name === 'insert outbox_event' && ancestry(spans, s).includes(activity));
      assert.ok(outboxInsert, 'the outbox insert is a span of the activity');
      assert.ok(ancestry(spans, activity).includes(named(spans, 'RunWorkflow:reservationWorkflow')));
      assert.match(String(outboxInsert.attributes['db.statement']), /^insert into outbox_event \(/);

      // The outbox row keeps the trace, and the relay publishes it in the message's headers.
      const row = await outboxTrace(organizationId, 'inventory.reservation.created');
      assert.match(row.traceparent ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      await parts.events.waitFor((r) => r.some((e) => e.body.event_id === row.id), 30_000, 'the published event');
      const message = present(
        parts.events.received.find((e) => e.body.event_id === row.id),
        'the published event',
      );
      const header = String(message.properties.headers?.traceparent ?? '');
      assert.match(header, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      const published = await waitForSpans(parts, traceId, [`${testStack().exchange} publish`]);
      const publish = present(
        published.find((s) => s.attributes['messaging.message.id'] === row.id),
        'the relay span of the event',
      );
      assert.equal(header.split('-')[2], publish.spanContext().spanId, 'the message carries the publish span');
      assert.equal(publish.parentSpanId, row.traceparent?.split('-')[2]);
    });

    it('a REST call is one trace too: the request, the Update-with-Start, the workflow, its activity and the outbox write; its access line names it', async () => {
      const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(5);
      const destination = await createWarehouse(scope);
      const created = await parts.http.send('POST', '/api/v1/transfers', {
        organizationId,
        body: {
          origin_warehouse_id: warehouseId,
          destination_warehouse_id: destination.id,
          lines: [{ variant_id: variantId, quantity: 1 }],
        },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await parts.tracing.spanProcessor.forceFlush();
      const request = named(parts.exporter.getFinishedSpans(), 'POST /api/v1/transfers');
      const traceId = request.spanContext().traceId;
      // The workflow's own span ends with the workflow: cancel the transfer (another request, another trace).
      const cancelled = await parts.http.send('POST', `/api/v1/transfers/${created.body.transfer_id}/cancel`, {
        organizationId,
        body: { reason: 'test' },
      });
      assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      const spans = await waitForSpans(parts, traceId, [
        'RunWorkflow:transferWorkflow',
        'UpdateWithStartWorkflow:create',
        'HandleUpdate:create',
        /^RunActivity:/,
        'insert outbox_event',
      ]);
      assert.equal(request.parentSpanId, undefined);
      for (const span of spans) {
        assert.equal(ancestry(spans, span).at(-1), request, `${span.name} does not descend from the request's span`);
      }
      assert.equal(named(spans, 'UpdateWithStartWorkflow:create').parentSpanId, request.spanContext().spanId);
      const activity = named(spans, /^RunActivity:/);
      assert.ok(spans.some((s) => s.name === 'insert outbox_event' && ancestry(spans, s).includes(activity)));
      const row = await outboxTrace(organizationId, 'inventory.transfer.created');
      assert.match(row.traceparent ?? '', new RegExp(`^00-${traceId}-`));
      const access = present(
        parts.logs.find((l) => l.message === 'POST /api/v1/transfers 201'),
        "the request's access line",
      );
      assert.equal(access.trace_id, traceId);
    });

    it('a consumed order event with a traceparent continues that trace into the update, the activity and the outbox, and its log line names the trace', async () => {
      const { organizationId, orderId } = await reserveOne(parts);
      // The order service's trace: what it sent the message from.
      const traceId = randomBytes(16).toString('hex');
      const parentSpanId = randomBytes(8).toString('hex');
      const eventId = await parts.publishOrderEvent(
        'order.confirmed',
        organizationId,
        { order_id: orderId },
        { traceparent: `00-${traceId}-${parentSpanId}-01` },
      );
      await waitFor(
        () => inboxOutcome(eventId),
        (outcome) => outcome === 'confirmed',
        'the confirmation',
      );
      const spans = await waitForSpans(parts, traceId, [
        /process$/,
        'StartWorkflowUpdate:confirm',
        'HandleUpdate:confirm',
        /^RunActivity:/,
        'insert outbox_event',
      ]);
      const consume = named(spans, /process$/);
      assert.equal(consume.parentSpanId, parentSpanId);
      for (const span of spans) {
        if (span === consume) continue;
        assert.ok(ancestry(spans, span).includes(consume), `${span.name} does not descend from the consumer's span`);
      }
      const row = await outboxTrace(organizationId, 'inventory.reservation.confirmed');
      assert.match(row.traceparent ?? '', new RegExp(`^00-${traceId}-`));

      const line = present(
        parts.logs.find((l) => String(l.message).includes(eventId)),
        'the consumer line for the event',
      );
      assert.equal(line.trace_id, traceId);
      assert.match(String(line.span_id), /^[0-9a-f]{16}$/);
    });

    it("a gRPC or REST call with a traceparent continues the caller's trace", async () => {
      const { organizationId, variantId } = await stockedOrganization(5);
      const caller = () => ({ traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') });
      const overGrpc = caller();
      const request = { organization_id: organizationId, items: [{ variant_id: variantId, quantity: 1 }] };
      const metadata = await bearerFor(request);
      metadata.set('traceparent', `00-${overGrpc.traceId}-${overGrpc.spanId}-01`);
      await parts.api.call('CheckAvailability', request, metadata);
      const overRest = caller();
      const read = await parts.http.send('GET', `/api/v1/stock/${variantId}`, {
        organizationId,
        headers: { traceparent: `00-${overRest.traceId}-${overRest.spanId}-01` },
      });
      assert.equal(read.status, 200);
      const grpcSpans = await waitForSpans(parts, overGrpc.traceId, [
        'inventory.v1.InventoryService/CheckAvailability',
      ]);
      assert.equal(named(grpcSpans, 'inventory.v1.InventoryService/CheckAvailability').parentSpanId, overGrpc.spanId);
      assert.ok(
        grpcSpans.some((s) => s.name === 'select available_in_active_warehouses'),
        'its SQL is in the trace',
      );
      const restSpans = await waitForSpans(parts, overRest.traceId, ['GET /api/v1/stock/:variant_id']);
      assert.equal(named(restSpans, 'GET /api/v1/stock/:variant_id').parentSpanId, overRest.spanId);
    });

    it('tracing adds no command to a workflow, and a traced history replays', async () => {
      const { organizationId, variantId } = await stockedOrganization(5);
      const stack = testStack();
      const commandsOf = async (client: Client) => {
        const orderId = `order-${randomUUID()}`;
        const reservations = createReservationClient({ client, taskQueue: parts.taskQueue, orm: stack.orm });
        await reservations.reserve(organizationId, orderId, {
          items: [{ variant_id: variantId, quantity: 1 }],
          ttlSeconds: 60,
        });
        await reservations.release({ organizationId, orderId }, 'test');
        const handle = client.workflow.getHandle(reservationWorkflowId(organizationId, orderId));
        await handle.result();
        const history = await handle.fetchHistory();
        const commands = (history.events ?? [])
          .map((e) => {
            const type = Object.keys(e).find((k) => k.endsWith('EventAttributes') && e[k as keyof typeof e]);
            return type?.replace(/EventAttributes$/, '');
          })
          .filter((t): t is string =>
            /^(activityTaskScheduled|timerStarted|markerRecorded|upsert|workflowPropertiesModified|workflowExecutionCompleted)/.test(
              t ?? '',
            ),
          );
        return { commands, history };
      };
      const traced = await commandsOf(parts.client);
      const untraced = await commandsOf(stack.temporal.client);
      assert.deepEqual(traced.commands, untraced.commands);
      const { sinks } = workerTracing(parts.tracing);
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), sinks }, traced.history);
    });
  });

  describe('with tracing off', () => {
    const started = partsFor(false);

    it('nothing is exported, no trace context is stored or sent, and log lines carry no trace id', async () => {
      const parts = started();
      const { organizationId, orderId } = await reserveOne(parts);
      // A traced order service: with tracing off, its context is not continued either.
      const eventId = await parts.publishOrderEvent(
        'order.confirmed',
        organizationId,
        { order_id: orderId },
        { traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01` },
      );
      await waitFor(
        () => inboxOutcome(eventId),
        (outcome) => outcome === 'confirmed',
        'the confirmation',
      );
      const row = await outboxTrace(organizationId, 'inventory.reservation.confirmed');
      assert.equal(row.traceparent, undefined);
      await parts.events.waitFor((r) => r.some((e) => e.body.event_id === row.id), 30_000, 'the published event');
      const message = present(
        parts.events.received.find((e) => e.body.event_id === row.id),
        'the event',
      );
      assert.equal(message.properties.headers?.traceparent, undefined);

      await parts.tracing.spanProcessor.forceFlush();
      assert.deepEqual(parts.exporter.getFinishedSpans(), []);
      const line = present(
        parts.logs.find((l) => String(l.message).includes(eventId)),
        'the consumer line for the event',
      );
      assert.equal(line.trace_id, undefined);
      assert.ok(parts.logs.every((l) => l.trace_id === undefined));
    });

    it("a relay that does not trace passes an outbox row's trace context on as it is", async () => {
      const parts = started();
      const { organizationId } = await stockedOrganization(1);
      const id = randomUUID();
      const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
      // Written by a part that traces, published by this relay, which does not.
      await testStack()
        .observerOrm.em.fork()
        .execute(
          `insert into outbox_event (id, organization_id, name, aggregate_type, aggregate_id, payload, trace_context)
           values (?, ?, 'inventory.stock.updated', 'stock', ?, '{}', ?)`,
          [id, organizationId, randomUUID(), JSON.stringify({ traceparent })],
        );
      await parts.events.waitFor((r) => r.some((e) => e.body.event_id === id), 30_000, 'the published event');
      const message = present(
        parts.events.received.find((e) => e.body.event_id === id),
        'the event',
      );
      assert.equal(String(message.properties.headers?.traceparent), traceparent);
    });
  });

  describe('exported over OTLP', () => {
    // A stand-in for a collector: it keeps the body of every OTLP/HTTP export it receives.
    const exports: { path: string; contentType: string; body: Buffer }[] = [];
    let collector: Server;
    before(async () => {
      collector = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          exports.push({
            path: req.url ?? '',
            contentType: String(req.headers['content-type']),
            body: Buffer.concat(chunks),
          });
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        });
      });
      await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    });
    after(async () => {
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    });
    const started = partsFor(true, () => `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`);

    it('the OTLP exporter sends the trace, the workflow spans from the worker included, to the configured endpoint', async () => {
      const parts = started();
      const { organizationId, orderId } = await reserveOne(parts);
      await parts.api.call('ReleaseReservation', { organization_id: organizationId, order_id: orderId });
      await parts.client.workflow.getHandle(reservationWorkflowId(organizationId, orderId)).result();
      // Protobuf keeps strings as they are: each span name is found in the bodies as sent.
      const names = [
        'inventory.v1.InventoryService/ReserveStock',
        'UpdateWithStartWorkflow:reserve',
        'RunWorkflow:reservationWorkflow',
        'HandleUpdate:reserve',
        'insert outbox_event',
      ];
      await waitFor(
        async () => {
          await parts.tracing.spanProcessor.forceFlush();
          const sent = Buffer.concat(exports.map((e) => e.body));
          return names.filter((name) => !sent.includes(name));
        },
        (missing) => missing.length === 0,
        'the spans at the collector',
        30_000,
      );
      assert.ok(exports.every((e) => e.path === '/v1/traces' && e.contentType === 'application/x-protobuf'));
    });
  });
});
