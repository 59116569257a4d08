import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import { reservationWorkflowId } from '../../workflows/definitions.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { testStack } from '../helpers/stack.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { present } from '../helpers/present.ts';
import { assertInvariants } from './invariants.ts';
import { retryable } from './links.ts';
import { childWorkers } from './processes.ts';
import { holdRowLock, type HeldRowLock } from './row-lock.ts';

/** A reservation update as a caller sends it over gRPC, and what it leaves behind once it took effect. */
interface Operation {
  method: 'ConfirmReservation' | 'ReleaseReservation' | 'ExtendReservation' | 'FulfilReservation';
  /** Its request's own fields (besides the organization and order). */
  fields: object;
  /** The activity its workflow step runs. */
  activity: string;
  /** The reservation's status afterwards. */
  status: string;
  /** The stock row afterwards (10 on hand, 2 held before). */
  stock: { total: number; available: number; reserved: number };
  /** The reservation's movements afterwards, by type. */
  movements: Record<string, number>;
  /** The event its step writes. */
  event: string;
}

const operations: Operation[] = [
  {
    method: 'ConfirmReservation',
    fields: {},
    activity: 'confirmReservation',
    status: 'confirmed',
    stock: { total: 10, available: 8, reserved: 2 },
    movements: { reserve: 1 },
    event: 'inventory.reservation.confirmed',
  },
  {
    method: 'ReleaseReservation',
    fields: { reason: 'order cancelled' },
    activity: 'releaseReservation',
    status: 'released',
    stock: { total: 10, available: 10, reserved: 0 },
    movements: { reserve: 1, release: 1 },
    event: 'inventory.stock.released',
  },
  {
    method: 'ExtendReservation',
    fields: { ttl_seconds: 900 },
    activity: 'extendReservation',
    status: 'active',
    stock: { total: 10, available: 8, reserved: 2 },
    movements: { reserve: 1 },
    event: 'inventory.reservation.extended',
  },
  {
    method: 'FulfilReservation',
    fields: {},
    activity: 'fulfilReservation',
    status: 'fulfilled',
    stock: { total: 8, available: 8, reserved: 0 },
    movements: { reserve: 1, shipment: 1 },
    event: 'inventory.movement.out',
  },
];

/** Sends the same request until it gets a definite answer; how many sends that took. */
async function callUntilDefinite<Res>(
  api: GrpcHarness,
  method: Operation['method'],
  request: object,
): Promise<{ answer: Res; sends: number }> {
  const deadline = Date.now() + 60_000;
  for (let sends = 1; ; sends++) {
    try {
      return { answer: await api.call<Res>(method, request), sends };
    } catch (error) {
      const e = error as grpc.ServiceError;
      if (!retryable.has(e.code) || Date.now() > deadline) throw error;
      await sleep(250);
    }
  }
}

describe('faults: the worker process is killed (SIGKILL) inside a reservation update', function () {
  this.timeout(120_000);
  const workers = childWorkers();
  const harnesses: GrpcHarness[] = [];
  const locks: HeldRowLock[] = [];

  afterEach(async () => {
    await Promise.all(locks.splice(0).map((l) => l.release()));
    await Promise.all(harnesses.splice(0).map((h) => h.close()));
  });

  const childWorker = (taskQueue: string) => workers.start({ taskQueue });

  it('worker SIGKILLed during ConfirmReservation, ReleaseReservation, ExtendReservation and FulfilReservation (each step blocked in its transaction on a row lock): each caller gets the answer or UNAVAILABLE, the same request sent again gets the definite answer, each lost attempt retried and applied once', async () => {
    const stack = testStack();
    const taskQueue = `faults-update-${randomUUID()}`;
    const first = await childWorker(taskQueue);
    const api = await startGrpc({ taskQueue });
    harnesses.push(api);

    // One reservation per operation, each in an organization of its own, and the kill lands in all four steps at once.
    const cases = await Promise.all(
      operations.map(async (op) => {
        const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
        const order = { organization_id: organizationId, order_id: `update-kill-${op.activity}` };
        const held = await api.call<ReserveStockResponse__Output>('ReserveStock', {
          ...order,
          items: [{ variant_id: variantId, quantity: 2 }],
          ttl_seconds: 300,
        });
        // Every one of these steps updates the reservation's row: with its lock held here, the step waits inside its transaction.
        const lock = await holdRowLock('select 1 from reservation where organization_id = ? and id = ? for update', [
          organizationId,
          held.reservation_id,
        ]);
        locks.push(lock);
        const request = { ...order, ...op.fields };
        const firstCall = Promise.allSettled([api.call<{ status: string }>(op.method, request)]);
        return { op, scope, organizationId, warehouseId, variantId, order, held, lock, request, firstCall };
      }),
    );
    await waitFor(
      async () => await Promise.all(cases.map((c) => c.lock.waiting())),
      (waiting) => waiting.every((n) => n > 0),
      'every step waiting on its row lock',
      20_000,
    );
    await first.kill();
    // The dead worker's transactions may get their locks now, but they can never commit: their client is gone.
    await Promise.all(cases.map((c) => c.lock.release()));

    const restarted = Date.now();
    await childWorker(taskQueue);
    const answered = await Promise.all(
      cases.map(async (c) => {
        const [firstAnswer] = await c.firstCall;
        if (firstAnswer?.status === 'rejected') {
          const e = firstAnswer.reason as grpc.ServiceError;
          assert.ok(retryable.has(e.code), `${c.op.method}: a definite answer or "try again", not: ${e.message}`);
        } else assert.equal(firstAnswer?.value.status, c.op.status);
        const { answer, sends } = await callUntilDefinite<{ status: string; expires_at?: string }>(
          api,
          c.op.method,
          c.request,
        );
        return {
          ...c,
          answer,
          sends,
          first: firstAnswer?.status === 'fulfilled' ? 'answered' : 'UNAVAILABLE',
          answeredMs: Date.now() - restarted,
        };
      }),
    );

    for (const {
      op,
      scope,
      organizationId,
      warehouseId,
      variantId,
      order,
      held,
      answer,
      sends,
      first,
      answeredMs,
    } of answered) {
      assert.equal(answer.status, op.status, op.method);
      const [reservation] = await scope.em
        .fork()
        .execute<{ status: string; expires_at: string }[]>('select status, expires_at from reservation where id = ?', [
          held.reservation_id,
        ]);
      assert.equal(reservation?.status, op.status, op.method);
      const row = present(await stockRow(scope, variantId, warehouseId), 'the stock row');
      assert.deepEqual({ total: row.total, available: row.available, reserved: row.reserved }, op.stock, op.method);
      const movements = await scope.em
        .fork()
        .execute<{ type: string; n: number }[]>(
          'select type, count(*)::int as n from stock_movement where organization_id = ? and reference_id in (?, ?) group by type',
          [organizationId, held.reservation_id, order.order_id],
        );
      assert.deepEqual(
        Object.fromEntries(movements.map((m) => [m.type, m.n])),
        op.movements,
        `${op.method}: each movement once`,
      );

      // The lost attempt was retried (attempt 2 or later), and each step the workflow ran wrote its change once.
      const history = await stack.temporal.client.workflow
        .getHandle(reservationWorkflowId(organizationId, order.order_id))
        .fetchHistory();
      const steps = (history.events ?? []).filter(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === op.activity,
      );
      const attempts = (history.events ?? [])
        .filter((e) =>
          steps.some((s) => String(s.eventId) === String(e.activityTaskStartedEventAttributes?.scheduledEventId)),
        )
        .map((e) => e.activityTaskStartedEventAttributes?.attempt);
      assert.ok((attempts[0] ?? 0) >= 2, `${op.method}: the step ran again after the kill: attempts ${attempts}`);
      const [events = { n: 0 }] = await scope.em
        .fork()
        .execute<{ n: number }[]>(
          'select count(*)::int as n from outbox_event where organization_id = ? and name = ? and payload::text like ?',
          [organizationId, op.event, `%${held.reservation_id}%`],
        );
      assert.equal(events.n, steps.length, `one ${op.event} per step the workflow ran (${steps.length})`);
      if (op.method === 'ExtendReservation') {
        // A resent extend is a new request ("ttl from now"): it may move the expiry again, and the last answer says where.
        assert.equal(
          new Date(present(reservation, 'the reservation').expires_at).getTime(),
          Date.parse(present(answer.expires_at, 'the new expiry')),
        );
        assert.ok(Date.parse(present(answer.expires_at, 'the new expiry')) > Date.parse(held.expires_at));
      } else assert.equal(steps.length, 1, `one ${op.activity} step, however often the caller asked`);
      console.log(
        `      kill during ${op.method}: first answer ${first}; ${sends} more sends; definite ${answeredMs} ms after the new worker was started; ${steps.length} ${op.activity} step(s), attempts ${attempts}`,
      );
      await assertInvariants({ em: scope.em, organizationId, client: stack.temporal.client });
    }
  });
});
