import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import pg from 'pg';
import { testStack, tokenFor } from '../helpers/stack.ts';
import { stockedOrganization } from '../helpers/fixtures.ts';
import {
  parts,
  probe,
  serviceEnvironment,
  type Part,
  type ProbeAnswer,
  type ServiceEnvironment,
} from '../helpers/service-processes.ts';
import { createReservationClient } from '../../services/workflow-clients/reservation-client.ts';
import { waitFor } from '../helpers/wait.ts';
import { present } from '../helpers/present.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const graceMs = 8000;

/** An entry point run as production runs it: its own process, configured by the environment alone. */
interface Running {
  process: ChildProcess;
  exited: Promise<number | null>;
  alive(): boolean;
  output(): string;
}

function run(part: Part, env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [path.join(root, 'services', `${part}.ts`)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  present(child.stdout, 'the stdout pipe').on('data', (chunk: Buffer) => (output += chunk.toString()));
  present(child.stderr, 'the stderr pipe').on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    process: child,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
    output: () => output,
  };
}

const get = probe;
type Answer = ProbeAnswer;

/**
 * Sends the signal and probes /ready until it stops answering 200: the first other answer (a 503 comes from the
 * process itself, so before it exits), its exit code and how long it took to exit.
 */
async function terminate(
  part: Running,
  readyUrl: string,
  signal: NodeJS.Signals,
): Promise<{ first: Answer; code: number | null; ms: number }> {
  const started = Date.now();
  part.process.kill(signal);
  const first = await waitFor(
    () => get(readyUrl),
    (a) => a === 'refused' || a.status !== 200,
    'readiness to turn false',
    graceMs,
  );
  const code = await part.exited;
  return { first, code, ms: Date.now() - started };
}

/**
 * Sessions of the test database waiting for a lock (a part's work held by the test). Asked outside the
 * holder's transaction: pg_stat_activity is a snapshot per transaction.
 */
async function sessionsWaitingForALock(): Promise<number> {
  const [row] = await testStack()
    .orm.em.fork()
    .execute<{ n: number }[]>(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
    );
  return present(row, 'the count').n;
}

/** The part's own log: readiness turned false (draining), then the drain, then the stop. */
function assertLoggedInOrder(part: Running, ...lines: RegExp[]): void {
  let from = 0;
  for (const line of lines) {
    const at = part.output().slice(from).search(line);
    assert.ok(at >= 0, `${line} (in order) in the log:\n${part.output().slice(-3000)}`);
    from += at;
  }
}

/**
 * The five entry points start once, as child processes against the hermetic stack, on free ports and with
 * exchanges, queues and a task queue of their own; the first test probes them all, each later one stops one.
 * Work in flight is held by the test with a row lock, so "in flight during the drain" is a fact, not a timing.
 */
describe('process lifecycle: every part answers /health and /ready and drains on SIGTERM or SIGINT', function () {
  this.timeout(60_000);
  const running = new Map<Part, Running>();
  let environment: ServiceEnvironment;
  const readyUrl = Object.fromEntries(parts.map((part) => [part, () => environment.readyUrl(part)])) as Record<
    Part,
    () => string
  >;
  let names: ServiceEnvironment['names'];
  let ports: ServiceEnvironment['ports'];

  before(async () => {
    environment = await serviceEnvironment('lifecycle', { SHUTDOWN_GRACE_MS: String(graceMs) });
    ({ names, ports } = environment);
    for (const part of parts) running.set(part, run(part, environment.env));
    await Promise.all(
      parts.map((part) =>
        waitFor(
          async () => (present(running.get(part), `the ${part} process`).alive() ? get(readyUrl[part]()) : 'exited'),
          (answer) => answer === 'exited' || (answer !== 'refused' && answer.status === 200),
          `${part}'s /ready`,
          40_000,
        ).then((answer) =>
          assert.notEqual(
            answer,
            'exited',
            `${part} exited at start:\n${present(running.get(part), `the ${part} process`).output().slice(-3000)}`,
          ),
        ),
      ),
    );
  });

  after(async () => {
    for (const part of running.values()) if (part.alive()) part.process.kill('SIGKILL');
    await Promise.all([...running.values()].map((p) => p.exited));
    await environment?.remove();
  });

  it('each part answers GET /health (alive) and GET /ready (ready, with what it checked)', async () => {
    const healthUrl = (part: Part) => readyUrl[part]().replace(/\/ready$/, '/health');
    for (const part of parts) {
      const health = await get(healthUrl(part));
      assert.ok(
        health !== 'refused' && health.status === 200 && health.body.status === 'ok',
        `${part} /health: ${JSON.stringify(health)}`,
      );
    }
    const ready = Object.fromEntries(
      await Promise.all(parts.map(async (part) => [part, await get(readyUrl[part]())] as const)),
    );
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(ready).map(([part, a]) => [part, a === 'refused' ? a : `${a.status} ${a.body.status}`]),
      ),
      {
        'http-server': '200 ready',
        'grpc-server': '200 ready',
        worker: '200 ready',
        relay: '200 ready',
        consumer: '200 ready',
      },
    );
    const worker = ready.worker as { body: Record<string, unknown> };
    assert.equal(worker.body.state, 'RUNNING');
    const consumer = ready.consumer as { body: Record<string, unknown> };
    assert.deepEqual(
      consumer.body.queues,
      ['order-events', 'catalog-events', 'purchasing-events'].map((q) => `${names.CONSUMER_QUEUE_PREFIX}.${q}`),
    );
    const relay = ready.relay as { body: { rabbitmq?: string; outbox?: { pending: number } } };
    assert.equal(relay.body.rabbitmq, 'up');
    assert.equal(typeof relay.body.outbox?.pending, 'number');
  });

  it('the REST server, on SIGTERM, answers /ready 503 draining and refuses new requests while it finishes one in flight, then exits 0 within the grace period', async () => {
    const http = present(running.get('http-server'), 'the http-server process');
    const { organizationId, variantId, warehouseId } = await stockedOrganization(5);
    // The test holds the stock row, so the adjustment below stays in flight until the test lets go.
    const holder = new pg.Client({ connectionString: testStack().observerDatabaseUrl });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query(
        'select 1 from stock where organization_id = $1 and variant_id = $2 and warehouse_id = $3 for update',
        [organizationId, variantId, warehouseId],
      );
      const inFlight = fetch(`http://127.0.0.1:${ports.HTTP_PORT}/api/v1/adjustments`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await tokenFor(organizationId)}` },
        body: JSON.stringify({ variant_id: variantId, warehouse_id: warehouseId, reason_code: 'found', quantity: 2 }),
      });
      inFlight.catch(() => undefined);
      await waitFor(
        () => sessionsWaitingForALock(),
        (n) => n > 0,
        'the adjustment waiting for the stock row',
      );

      const started = Date.now();
      http.process.kill('SIGTERM');
      const first = await waitFor(
        () => get(readyUrl['http-server']()),
        (a) => a === 'refused' || a.status !== 200,
        'REST /ready to stop answering 200',
      );
      assert.deepEqual(
        first,
        { status: 503, body: { status: 'draining' } },
        'unready while the request is still in flight',
      );
      const refused = await fetch(`http://127.0.0.1:${ports.HTTP_PORT}/api/v1/stock/${variantId}`, {
        headers: { Authorization: `Bearer ${await tokenFor(organizationId)}` },
      });
      assert.equal(refused.status, 503, 'a new request is refused while draining');
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.equal(((await refused.json()) as { type: string }).type, 'urn:inventory:problem:ShuttingDown');
      assert.ok(http.alive());

      await holder.query('commit');
      const response = await inFlight;
      assert.equal(response.status, 201, 'the request in flight finished');
      assert.equal(await http.exited, 0);
      assert.ok(Date.now() - started < graceMs, `exited within the grace period (${Date.now() - started} ms)`);
      assertLoggedInOrder(http, /SIGTERM: \/ready answers 503 draining/, /requests drained/, /REST stopped/);
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await holder.end();
    }
  });

  it('the consumer, on SIGTERM, stops being ready and consuming, finishes the message in hand, then exits 0 within the grace period', async () => {
    const consumer = present(running.get('consumer'), 'the consumer process');
    const { organizationId, variantId, warehouseId } = await stockedOrganization(5);
    const eventId = randomUUID();
    const holder = new pg.Client({ connectionString: testStack().observerDatabaseUrl });
    await holder.connect();
    const broker = await amqp.connect(testStack().amqpUrl);
    try {
      // The test holds the stock row, so the purchase order's effect stays in flight until the test lets go.
      await holder.query('begin');
      await holder.query(
        'select 1 from stock where organization_id = $1 and variant_id = $2 and warehouse_id = $3 for update',
        [organizationId, variantId, warehouseId],
      );
      const channel = await broker.createConfirmChannel();
      const event = {
        event: 'purchase_order.created',
        version: 1,
        timestamp: new Date().toISOString(),
        organization_id: organizationId,
        event_id: eventId,
        data: {
          purchase_order_id: `po-${eventId}`,
          warehouse_id: warehouseId,
          items: [{ variant_id: variantId, quantity: 3 }],
        },
      };
      channel.publish(names.PURCHASING_EVENTS_EXCHANGE, event.event, Buffer.from(JSON.stringify(event)), {
        persistent: true,
        messageId: eventId,
      });
      await channel.waitForConfirms();
      await waitFor(
        () => sessionsWaitingForALock(),
        (n) => n > 0,
        'the purchase order waiting for the stock row',
      );

      const started = Date.now();
      consumer.process.kill('SIGTERM');
      const first = await waitFor(
        () => get(readyUrl.consumer()),
        (a) => a === 'refused' || a.status !== 200,
        'the consumer /ready to stop answering 200',
      );
      assert.deepEqual(first, { status: 503, body: { status: 'draining' } }, 'unready while the message is in hand');
      assert.ok(consumer.alive());

      await holder.query('commit');
      assert.equal(await consumer.exited, 0, consumer.output().slice(-3000));
      assert.ok(Date.now() - started < graceMs, `exited within the grace period (${Date.now() - started} ms)`);
      const { rows } = await holder.query<{ outcome: string }>('select outcome from inbox_event where event_id = $1', [
        eventId,
      ]);
      assert.deepEqual(rows, [{ outcome: 'incoming' }], 'the message in hand was applied');
      const check = await broker.createChannel();
      // A quorum queue settles an acknowledgement through its log: its count follows shortly.
      await waitFor(
        async () => (await check.checkQueue(`${names.CONSUMER_QUEUE_PREFIX}.purchasing-events`)).messageCount,
        (n) => n === 0,
        'the message acknowledged, nothing to redeliver',
        5000,
      );
      assertLoggedInOrder(
        consumer,
        /SIGTERM: .*\/ready answers 503 draining; consuming stopped, finishing 1 messages/,
        /purchase_order.created .*: incoming/,
        /drained: closing connections/,
        /consumer stopped/,
      );
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await holder.end();
      await broker.close();
    }
  });

  it('the worker, on SIGTERM, stops being ready and polling, finishes the activity in hand, then exits 0 within the grace period', async () => {
    const worker = present(running.get('worker'), 'the worker process');
    const { organizationId, variantId, warehouseId } = await stockedOrganization(5);
    const holder = new pg.Client({ connectionString: testStack().observerDatabaseUrl });
    await holder.connect();
    let answered: Promise<void> | undefined;
    try {
      // The test holds the stock row, so the hold's activity stays in flight until the test lets go.
      await holder.query('begin');
      await holder.query(
        'select 1 from stock where organization_id = $1 and variant_id = $2 and warehouse_id = $3 for update',
        [organizationId, variantId, warehouseId],
      );
      // Its answer never comes (the workflow's next task waits for a worker on this queue once this one
      // stopped): the call gives up after its deadline, awaited below so that nothing outlives the test.
      const stack = testStack();
      const reservations = createReservationClient({
        client: stack.temporal.client,
        taskQueue: present(environment.env.TEMPORAL_TASK_QUEUE, 'the task queue'),
        orm: stack.orm,
        deadlineMs: 3000,
      });
      answered = reservations
        .reserve(organizationId, `order-${randomUUID()}`, {
          items: [{ variant_id: variantId, quantity: 2 }],
          ttlSeconds: 300,
        })
        .then(
          () => undefined,
          () => undefined,
        );
      await waitFor(
        () => sessionsWaitingForALock(),
        (n) => n > 0,
        'the hold waiting for the stock row',
      );

      const started = Date.now();
      worker.process.kill('SIGTERM');
      const first = await waitFor(
        () => get(readyUrl.worker()),
        (a) => a === 'refused' || a.status !== 200,
        'the worker /ready to stop answering 200',
      );
      assert.deepEqual(first, { status: 503, body: { status: 'draining' } }, 'unready while the activity is in hand');
      assert.ok(worker.alive());

      await holder.query('commit');
      assert.equal(await worker.exited, 0, worker.output().slice(-3000));
      assert.ok(Date.now() - started < graceMs, `exited within the grace period (${Date.now() - started} ms)`);
      const { rows } = await holder.query<{ reserved: number }>(
        'select reserved from stock where organization_id = $1 and variant_id = $2 and warehouse_id = $3',
        [organizationId, variantId, warehouseId],
      );
      assert.deepEqual(rows, [{ reserved: 2 }], 'the activity in hand committed the hold');
      assertLoggedInOrder(
        worker,
        /SIGTERM: \/ready answers 503 draining; polling stopped/,
        /tasks drained: closing connections/,
        /worker stopped/,
      );
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await holder.end();
      await answered;
    }
  });

  // SIGINT (Ctrl-C on a part run alone) drains as SIGTERM does.
  for (const [part, signal] of [
    ['grpc-server', 'SIGTERM'],
    ['relay', 'SIGINT'],
  ] as const) {
    it(`the ${part}, on ${signal}, stops being ready before it exits, drains and exits 0 within the grace period`, async () => {
      const child = present(running.get(part), `the ${part} process`);
      const { first, code, ms } = await terminate(child, readyUrl[part](), signal);
      // Draining answers 503; once the drain is over the port closes with the process.
      assert.ok(
        first === 'refused' || (first.status === 503 && first.body.status === 'draining'),
        `503 draining or the port closed, not ${JSON.stringify(first)}`,
      );
      assert.equal(code, 0, child.output().slice(-3000));
      assert.ok(ms < graceMs, `exited within the grace period (${ms} ms)`);
      assertLoggedInOrder(
        child,
        new RegExp(`${signal}: .*/ready answers 503 draining`),
        /drained: closing connections/,
        /stopped/,
      );
    });
  }
});
