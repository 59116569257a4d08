import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities, type Activities } from '../../activities/index.ts';
import { InvalidDataError, RetriesExhaustedError, WorkflowUnavailableError } from '../../services/inventory/errors.ts';
import { createOutboxRelay, type OutboxRelay } from '../../services/messaging/outbox-relay.ts';
import {
  createReservationClient,
  type ReservationClientDeps,
} from '../../services/workflow-clients/reservation-client.ts';
import { stepRetry } from '../../workflows/activity-options.ts';
import { reservationWorkflowId } from '../../workflows/definitions.ts';
import { ConfirmedOverdue, ExpiresAt } from '../../workflows/search-attributes.ts';
import { bindEventQueue, type EventQueue } from '../helpers/amqp.ts';
import { ledgerSums, stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { saveHistory } from '../helpers/histories.ts';
import { testStack, type TestOrganizationScope } from '../helpers/stack.ts';
import { startWorker } from '../helpers/temporal.ts';
import { waitFor } from '../helpers/wait.ts';
import { startFastRetryWorker } from '../workflows/fast-retries.ts';
import { present } from '../helpers/present.ts';

type HoldInput = Parameters<Activities['holdReservationStock']>[0];

const clientOn = (taskQueue: string, deps: Partial<ReservationClientDeps> = {}) => {
  const stack = testStack();
  return createReservationClient({ client: stack.temporal.client, taskQueue, orm: stack.orm, ...deps });
};

async function outbox(scope: TestOrganizationScope, name: string): Promise<Record<string, any>[]> {
  const rows = await scope.em.execute<{ payload: Record<string, any> }[]>(
    'select payload from outbox_event where organization_id = ? and name = ? order by sequence',
    [scope.organizationId, name],
  );
  return rows.map((r) => r.payload);
}

async function reservationRow(scope: TestOrganizationScope, reservationOrOrder: { orderId: string }) {
  const [row] = await scope.em.execute<
    { id: string; status: string; failure: { type: string } | null; expires_at: string | Date | null }[]
  >('select id, status, failure, expires_at from reservation where organization_id = ? and order_id = ?', [
    scope.organizationId,
    reservationOrOrder.orderId,
  ]);
  return row && { ...row, expires_at: row.expires_at === null ? null : new Date(row.expires_at) };
}

/** When the hold's ledger row was written (clock_timestamp() inside its transaction, on the database's clock). */
async function reserveCommittedAt(scope: TestOrganizationScope): Promise<Date> {
  const [row] = await scope.em.execute<{ at: string | Date }[]>(
    "select created_at as at from stock_movement where organization_id = ? and type = 'reserve'",
    [scope.organizationId],
  );
  return new Date(present(row, 'the reserve movement').at);
}

async function movementCounts(scope: TestOrganizationScope): Promise<Record<string, number>> {
  const rows = await scope.em.execute<{ type: string; n: number }[]>(
    "select type, count(*)::int as n from stock_movement where organization_id = ? and type in ('reserve', 'release') group by type",
    [scope.organizationId],
  );
  return Object.fromEntries(rows.map((r) => [r.type, r.n]));
}

/** The workflow's own end: rejects with its failure type, or resolves with its result. */
async function workflowFailureType(workflowId: string): Promise<string | undefined> {
  try {
    await testStack().temporal.client.workflow.getHandle(workflowId).result();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof WorkflowFailedError, String(error));
    assert.ok(error.cause instanceof ApplicationFailure, String(error.cause));
    return error.cause.type ?? undefined;
  }
}

describe('reservations: no poison work', function () {
  this.timeout(60_000);
  let real: Activities;
  let relay: OutboxRelay;
  let events: EventQueue;

  before(async () => {
    const stack = testStack();
    real = createActivities({ orm: stack.orm, systemOrm: stack.systemOrm });
    events = await bindEventQueue('inventory.reservation.*');
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
    });
    await relay.start();
  });
  after(async () => {
    await relay.stop();
    await events.close();
  });

  describe('a hold that fails for good', () => {
    it('fed an order id PostgreSQL cannot store (a NUL character), fails at the first attempt with InvalidDataError: failed, announced, nothing held', async function () {
      // A Temporal server on PostgreSQL cannot store a workflow id holding a NUL either: the start itself
      // never succeeds there (the edges refuse such an id long before). The dev server (SQLite) takes it.
      if (process.env.TEMPORAL_MODE === 'cluster') this.skip();
      let attempts = 0;
      const worker = await startWorker({
        activities: {
          async holdReservationStock(input: HoldInput) {
            attempts += 1;
            return await real.holdReservationStock(input);
          },
        },
      });
      try {
        const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
        const orderId = `nul-\u0000-${randomUUID()}`;
        const started = Date.now();

        // Straight to the client, past the edges (which refuse a NUL before it gets this far).
        await assert.rejects(
          clientOn(worker.taskQueue).reserve(organizationId, orderId, {
            items: [{ variant_id: variantId, quantity: 3 }],
            ttlSeconds: 60,
          }),
          (error: unknown) => {
            assert.ok(error instanceof InvalidDataError, String(error));
            assert.match(error.message, /NUL character/);
            return true;
          },
        );

        assert.equal(attempts, 1, 'no retry of a value no retry can cure');
        assert.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms`);
        assert.equal(await workflowFailureType(reservationWorkflowId(organizationId, orderId)), 'InvalidDataError');
        const [failed] = await outbox(scope, 'inventory.reservation.failed');
        assert.ok(failed, 'an inventory.reservation.failed event in the outbox');
        assert.equal(failed.reason, 'InvalidDataError');
        assert.equal(
          failed.order_id,
          orderId.replace('\u0000', '\uFFFD'),
          'announced, the character PostgreSQL cannot store replaced',
        );
        await events.waitFor(
          (r) =>
            r.some(
              (e) =>
                e.body.event === 'inventory.reservation.failed' && e.body.data.reservation_id === failed.reservation_id,
            ),
          15_000,
          'inventory.reservation.failed',
        );
        assert.deepEqual(await stockRow(scope, variantId, warehouseId), {
          total: 10,
          available: 10,
          reserved: 0,
          damaged: 0,
          in_transit: 0,
          incoming: 0,
          version: 2,
        });
        await saveHistory('reserve-invalid-data', reservationWorkflowId(organizationId, orderId));
      } finally {
        await worker.stop();
      }
    });

    it('whose transient failure never ends, gives up after its bounded attempts: RetriesExhaustedError, failed, announced; the order may try again', async () => {
      let attempts = 0;
      const worker = await startFastRetryWorker({
        activities: {
          async holdReservationStock() {
            attempts += 1;
            throw new Error('the database is unreachable (on purpose)');
          },
        },
      });
      try {
        const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
        const orderId = `exhausted-${randomUUID()}`;
        const request = { items: [{ variant_id: variantId, quantity: 4 }], ttlSeconds: 60 };

        await assert.rejects(
          clientOn(worker.taskQueue, { deadlineMs: 30_000 }).reserve(organizationId, orderId, request),
          (error: unknown) => {
            assert.ok(error instanceof RetriesExhaustedError, String(error));
            assert.match(error.message, /holdReservationStock kept failing/);
            assert.doesNotMatch(error.message, /unreachable/, 'the cause stays internal');
            return true;
          },
        );

        assert.equal(attempts, stepRetry.maximumAttempts);
        assert.equal(
          await workflowFailureType(reservationWorkflowId(organizationId, orderId)),
          'RetriesExhaustedError',
        );
        const row = present(await reservationRow(scope, { orderId }), 'the reservation row');
        assert.equal(row.status, 'failed');
        assert.equal(row.failure?.type, 'RetriesExhaustedError');
        await events.waitFor(
          (r) =>
            r.some(
              (e) =>
                e.body.event === 'inventory.reservation.failed' &&
                e.body.data.order_id === orderId &&
                e.body.data.reason === 'RetriesExhaustedError',
            ),
          15_000,
          'inventory.reservation.failed',
        );
        assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').reserved, 0);
        await saveHistory('reserve-retries-exhausted', reservationWorkflowId(organizationId, orderId));

        const healthy = await startWorker();
        try {
          const again = await clientOn(healthy.taskQueue).reserve(organizationId, orderId, request);
          assert.equal(again.status, 'active');
          assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').reserved, 4);
        } finally {
          await healthy.stop();
        }
      } finally {
        await worker.stop();
      }
    });

    it('whose first attempt committed and lost its answer, then ran out of attempts, gives the units back: nothing stays held by a failed reservation', async () => {
      let attempts = 0;
      const worker = await startFastRetryWorker({
        maximumAttempts: 3,
        activities: {
          async holdReservationStock(input: HoldInput) {
            attempts += 1;
            if (attempts === 1) await real.holdReservationStock(input);
            throw new Error(
              attempts === 1 ? 'connection lost after commit (on purpose)' : 'the database is unreachable (on purpose)',
            );
          },
        },
      });
      try {
        const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
        const orderId = `lost-${randomUUID()}`;

        await assert.rejects(
          clientOn(worker.taskQueue, { deadlineMs: 30_000 }).reserve(organizationId, orderId, {
            items: [{ variant_id: variantId, quantity: 6 }],
            ttlSeconds: 60,
          }),
          RetriesExhaustedError,
        );

        // The caller hears first; giving back the committed attempt's units is a compensation that follows.
        await waitFor(
          () => reservationRow(scope, { orderId }),
          (row) => row?.status === 'failed',
          'the reservation to be recorded as failed',
        );
        assert.deepEqual(await stockRow(scope, variantId, warehouseId), {
          total: 10,
          available: 10,
          reserved: 0,
          damaged: 0,
          in_transit: 0,
          incoming: 0,
          version: 4,
        });
        assert.deepEqual(await movementCounts(scope), { reserve: 1, release: 1 });
        assert.deepEqual(await ledgerSums(scope, variantId, warehouseId), {
          total: 10,
          available: 10,
          reserved: 0,
          damaged: 0,
          in_transit: 0,
          incoming: 0,
        });
        const [released] = await outbox(scope, 'inventory.stock.released');
        assert.ok(released, 'an inventory.stock.released event in the outbox');
        assert.equal(released.reason, 'hold failed');
        assert.equal((await outbox(scope, 'inventory.reservation.failed')).length, 1);
        assert.equal(
          await workflowFailureType(reservationWorkflowId(organizationId, orderId)),
          'RetriesExhaustedError',
        );
      } finally {
        await worker.stop();
      }
    });
  });

  it('a confirm that committed on an attempt whose answer was lost, then ran out of attempts, answers RetriesExhaustedError; the expiry then finds the hold confirmed and keeps it', async () => {
    let attempts = 0;
    const worker = await startFastRetryWorker({
      maximumAttempts: 3,
      activities: {
        async confirmReservation(ref) {
          attempts += 1;
          if (attempts === 1) await real.confirmReservation(ref);
          throw new Error(
            attempts === 1 ? 'connection lost after commit (on purpose)' : 'the database is unreachable (on purpose)',
          );
        },
      },
    });
    try {
      const { scope, organizationId, variantId, warehouseId } = await stockedOrganization(10);
      const orderId = `confirm-lost-${randomUUID()}`;
      const client = clientOn(worker.taskQueue, { deadlineMs: 30_000 });
      await client.reserve(organizationId, orderId, { items: [{ variant_id: variantId, quantity: 3 }], ttlSeconds: 2 });

      await assert.rejects(client.confirm({ organizationId, orderId }), RetriesExhaustedError);
      assert.equal(attempts, 3);

      // The workflow still believed the hold active; its expiry reads the row, and catches up instead of releasing.
      const handle = testStack().temporal.client.workflow.getHandle(reservationWorkflowId(organizationId, orderId));
      await waitFor(
        () => client.get({ organizationId, orderId }),
        (r) => r.status === 'confirmed',
        'the workflow to catch up with the confirmed row',
        20_000,
      );
      assert.equal((await handle.describe()).status.name, 'RUNNING');
      assert.equal(
        present(await stockRow(scope, variantId, warehouseId), 'the stock row').reserved,
        3,
        'a confirmed hold is never expired',
      );
      assert.deepEqual(await movementCounts(scope), { reserve: 1 });
      assert.equal((await client.fulfil({ organizationId, orderId })).status, 'fulfilled');
      await saveHistory('reserve-confirm-lost-expiry-keeps', reservationWorkflowId(organizationId, orderId));
    } finally {
      await worker.stop();
    }
  });

  describe("a hold's time to live starts when the hold commits", () => {
    it('when the first attempt is lost before it commits, expires_at is the commit time plus the TTL, and the timer uses it', async () => {
      let attempts = 0;
      const worker = await startWorker({
        activities: {
          async holdReservationStock(input: HoldInput) {
            attempts += 1;
            if (attempts === 1) throw new Error('connection lost before commit (on purpose)');
            return await real.holdReservationStock(input);
          },
        },
      });
      try {
        const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
        const orderId = `ttl-${randomUUID()}`;
        const client = clientOn(worker.taskQueue);

        const reserved = await client.reserve(organizationId, orderId, {
          items: [{ variant_id: variantId, quantity: 2 }],
          ttlSeconds: 2,
        });

        assert.equal(attempts, 2);
        const committedAt = await reserveCommittedAt(scope);
        const row = present(await reservationRow(scope, { orderId }), 'the reservation row');
        const expiresAt = present(row.expires_at, 'the reservation expiry');
        assert.equal(reserved.expiresAt, expiresAt.toISOString(), 'the workflow keeps the expiry the hold committed');
        assert.ok(
          expiresAt.getTime() - 2000 >= committedAt.getTime(),
          `expires_at ${expiresAt.toISOString()} is at least the TTL after the hold's writes (${committedAt.toISOString()})`,
        );
        const handle = testStack().temporal.client.workflow.getHandle(reservationWorkflowId(organizationId, orderId));
        assert.equal(
          (await handle.describe()).typedSearchAttributes.get(ExpiresAt)?.toISOString(),
          reserved.expiresAt,
          'the durable timer and ExpiresAt use that expiry',
        );

        await waitFor(
          () => reservationRow(scope, { orderId }),
          (r) => r?.status === 'expired',
          'the hold to expire',
        );
        assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').available, 10);
        await saveHistory('reserve-ttl-from-commit', reservationWorkflowId(organizationId, orderId));
      } finally {
        await worker.stop();
      }
    });

    it("the expiry timer counts the TTL from the hold's write, so the hold is released on time, not late by the workflow task", async () => {
      // The hold runs inside the workflow task; the workflow's clock after it trails the write by however long
      // the worker took to start the task. Counted from that clock, the timer ran the TTL plus that delay.
      const worker = await startWorker();
      try {
        const { scope, organizationId, variantId } = await stockedOrganization(10);
        const orderId = `ttl-clock-${randomUUID()}`;
        const ttlSeconds = 2;
        const reserved = await clientOn(worker.taskQueue).reserve(organizationId, orderId, {
          items: [{ variant_id: variantId, quantity: 2 }],
          ttlSeconds,
        });

        await waitFor(
          () => reservationRow(scope, { orderId }),
          (r) => r?.status === 'expired',
          'the hold to expire',
        );
        const workflowId = reservationWorkflowId(organizationId, orderId);
        const history = await testStack().temporal.client.workflow.getHandle(workflowId).fetchHistory();
        const timer = present(
          history.events?.find((e) => e.timerStartedEventAttributes)?.timerStartedEventAttributes?.startToFireTimeout,
          'the expiry timer',
        );
        const timerMs = Number(timer.seconds ?? 0) * 1000 + Math.round((timer.nanos ?? 0) / 1e6);
        assert.ok(timerMs <= ttlSeconds * 1000, `the timer ran ${timerMs} ms for a TTL of ${ttlSeconds} s`);
        const [release] = await scope.em.execute<{ at: string | Date }[]>(
          "select created_at as at from stock_movement where organization_id = ? and type = 'release'",
          [organizationId],
        );
        const lateByMs =
          new Date(present(release, 'the release movement').at).getTime() -
          Date.parse(present(reserved.expiresAt, 'the expiry'));
        assert.ok(lateByMs >= 0, `released ${lateByMs} ms before its expiry`);
        await saveHistory('reserve-expiry-from-hold-clock', workflowId);
      } finally {
        await worker.stop();
      }
    });

    it('when the first attempt commits and loses its answer, the retry returns that commit with its expiry', async () => {
      let attempts = 0;
      const worker = await startWorker({
        activities: {
          async holdReservationStock(input: HoldInput) {
            attempts += 1;
            const held = await real.holdReservationStock(input);
            if (attempts === 1) throw new Error('connection lost after commit (on purpose)');
            return held;
          },
        },
      });
      try {
        const { scope, organizationId, variantId } = await stockedOrganization(10);
        const orderId = `ttl-lost-${randomUUID()}`;
        const reserved = await clientOn(worker.taskQueue).reserve(organizationId, orderId, {
          items: [{ variant_id: variantId, quantity: 2 }],
          ttlSeconds: 60,
        });

        assert.equal(attempts, 2);
        const committedAt = await reserveCommittedAt(scope);
        const row = present(await reservationRow(scope, { orderId }), 'the reservation row');
        const expiresAt = present(row.expires_at, 'the reservation expiry');
        assert.equal(reserved.expiresAt, expiresAt.toISOString());
        assert.ok(expiresAt.getTime() - 60_000 >= committedAt.getTime());
        const [created] = await outbox(scope, 'inventory.reservation.created');
        assert.ok(created, 'an inventory.reservation.created event in the outbox');
        assert.equal(created.expires_at, reserved.expiresAt, 'the event announces the same expiry');
      } finally {
        await worker.stop();
      }
    });
  });

  it('a confirmed hold still open past its cap is reported once (event and ConfirmedOverdue search attribute), and no longer once fulfilled', async () => {
    const worker = await startWorker();
    try {
      const { scope, organizationId, variantId, warehouseId } = await stockedOrganization(10);
      const orderId = `overdue-${randomUUID()}`;
      const client = clientOn(worker.taskQueue, { confirmedOverdueSeconds: 2 });
      const handle = testStack().temporal.client.workflow.getHandle(reservationWorkflowId(organizationId, orderId));
      await client.reserve(organizationId, orderId, {
        items: [{ variant_id: variantId, quantity: 3 }],
        ttlSeconds: 60,
      });
      await client.confirm({ organizationId, orderId });

      await events.waitFor(
        (r) =>
          r.some((e) => e.body.event === 'inventory.reservation.confirmed_overdue' && e.body.data.order_id === orderId),
        15_000,
        'inventory.reservation.confirmed_overdue',
      );
      await waitFor(
        () => handle.describe(),
        (d) => d.typedSearchAttributes.get(ConfirmedOverdue) === true,
        'ConfirmedOverdue = true',
      );
      const [report] = await outbox(scope, 'inventory.reservation.confirmed_overdue');
      assert.ok(report, 'an inventory.reservation.confirmed_overdue event in the outbox');
      assert.equal(report.overdue_after_seconds, 2);
      assert.ok(Date.parse(report.reported_at) - Date.parse(report.confirmed_at) >= 2000);
      const open = await client.get({ organizationId, orderId });
      assert.equal(open.status, 'confirmed', 'reported, not released');
      assert.ok(open.confirmedOverdueAt);
      assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').reserved, 3);

      const fulfilled = await client.fulfil({ organizationId, orderId });
      assert.equal(fulfilled.status, 'fulfilled');
      await waitFor(
        () => handle.describe(),
        (d) => d.typedSearchAttributes.get(ConfirmedOverdue) === false,
        'ConfirmedOverdue = false once fulfilled',
      );
      assert.equal((await outbox(scope, 'inventory.reservation.confirmed_overdue')).length, 1, 'reported once');
      await saveHistory('reserve-confirm-overdue-fulfil', reservationWorkflowId(organizationId, orderId));
    } finally {
      await worker.stop();
    }
  });

  it('ReserveStock with no worker running answers WorkflowUnavailableError at its deadline; the same request once a worker runs holds once', async () => {
    const taskQueue = `no-worker-${randomUUID()}`;
    const { scope, organizationId, variantId, warehouseId } = await stockedOrganization(10);
    const orderId = `deadline-${randomUUID()}`;
    const client = clientOn(taskQueue, { deadlineMs: 1500 });
    const request = { items: [{ variant_id: variantId, quantity: 3 }], ttlSeconds: 60 };
    const started = Date.now();

    await assert.rejects(client.reserve(organizationId, orderId, request), (error: unknown) => {
      assert.ok(error instanceof WorkflowUnavailableError, String(error));
      assert.equal(error.retryable, true);
      assert.match(error.message, /not answered within 1.5 s/);
      return true;
    });
    const waited = Date.now() - started;
    assert.ok(waited >= 1400 && waited < 8000, `gave up after ${waited} ms`);

    const worker = await startWorker({ taskQueue });
    try {
      const reserved = await client.reserve(organizationId, orderId, request);
      assert.equal(reserved.status, 'active');
      assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').reserved, 3);
      assert.deepEqual(await movementCounts(scope), { reserve: 1 });
    } finally {
      await worker.stop();
    }
  });
});
