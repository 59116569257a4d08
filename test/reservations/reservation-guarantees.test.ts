import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import type { Reservation__Output } from '../../services/grpc/generated/inventory/v1/Reservation.ts';
import { createActivities } from '../../activities/index.ts';
import { createOutboxRelay, type OutboxRelay } from '../../services/messaging/outbox-relay.ts';
import { reservationWorkflowId } from '../../workflows/definitions.ts';
import { bindEventQueue, type EventQueue } from '../helpers/amqp.ts';
import { expectStatus, startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import { createWarehouse, ledgerSums, receiveStock, stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { newOrganization, testStack } from '../helpers/stack.ts';
import { saveHistory } from '../helpers/histories.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { present } from '../helpers/present.ts';

describe('reservation guarantees', function () {
  this.timeout(90_000);
  let worker: RunningWorker;
  let api: GrpcHarness;

  before(async () => {
    worker = await startWorker();
    api = await startGrpc({ taskQueue: worker.taskQueue });
  });
  after(async () => {
    await api.close();
    await worker.stop();
  });

  describe('oversell', () => {
    it('when 50 orders race for 20 units, exactly 20 hold one each and 30 are refused', async () => {
      const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(20);

      const outcomes = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          api.call<ReserveStockResponse__Output>('ReserveStock', {
            organization_id: organizationId,
            order_id: `race-${i}`,
            items: [{ variant_id: variantId, quantity: 1 }],
          }),
        ),
      );

      const held = outcomes.filter((o) => o.status === 'fulfilled');
      const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      assert.equal(held.length, 20);
      assert.equal(refused.length, 30);
      for (const r of refused)
        assert.equal(
          (r.reason as grpc.ServiceError).code,
          grpc.status.FAILED_PRECONDITION,
          (r.reason as Error).message,
        );
      const row = present(await stockRow(scope, variantId, warehouseId), 'the stock row');
      assert.deepEqual(
        { available: row.available, reserved: row.reserved, total: row.total },
        { available: 0, reserved: 20, total: 20 },
      );
      const sums = await ledgerSums(scope, variantId, warehouseId);
      assert.deepEqual(
        { available: sums.available, reserved: sums.reserved, total: sums.total },
        { available: 0, reserved: 20, total: 20 },
      );
    });

    it('two orders whose lines overlap in opposite order both finish, without deadlock or oversell', async () => {
      const scope = newOrganization();
      const warehouse = await createWarehouse(scope);
      const [a, b] = [randomUUID(), randomUUID()];
      await receiveStock(scope, a, warehouse.id, 30);
      await receiveStock(scope, b, warehouse.id, 30);

      const rounds = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          api.call('ReserveStock', {
            organization_id: scope.organizationId,
            order_id: `cross-${i}`,
            items:
              i % 2 === 0
                ? [
                    { variant_id: a, quantity: 2 },
                    { variant_id: b, quantity: 1 },
                  ]
                : [
                    { variant_id: b, quantity: 2 },
                    { variant_id: a, quantity: 1 },
                  ],
          }),
        ),
      );

      assert.equal(rounds.filter((r) => r.status === 'fulfilled').length, 20);
      assert.equal(present(await stockRow(scope, a, warehouse.id), 'the stock row').reserved, 30);
      assert.equal(present(await stockRow(scope, b, warehouse.id), 'the stock row').reserved, 30);
      assert.equal(present(await stockRow(scope, a, warehouse.id), 'the stock row').available, 0);
    });
  });

  it('a hold activity that fails after its transaction committed is retried and applies once', async () => {
    const real = createActivities({ orm: testStack().orm, systemOrm: testStack().systemOrm });
    let failures = 0;
    const flaky = await startWorker({
      activities: {
        async holdReservationStock(input) {
          const result = await real.holdReservationStock(input);
          if (failures++ === 0) throw new Error('connection lost after commit (on purpose)');
          return result;
        },
      },
    });
    const flakyApi = await startGrpc({ taskQueue: flaky.taskQueue });
    try {
      const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
      const reserved = await flakyApi.call<ReserveStockResponse__Output>('ReserveStock', {
        organization_id: organizationId,
        order_id: `flaky-${randomUUID()}`,
        items: [{ variant_id: variantId, quantity: 4 }],
      });

      assert.equal(failures, 2, 'the activity ran twice');
      assert.equal(reserved.status, 'active');
      assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').reserved, 4);
      const [counted] = await scope.em.execute<{ n: number }[]>(
        "select count(*)::int as n from stock_movement where organization_id = ? and type = 'reserve'",
        [organizationId],
      );
      const { n } = present(counted, 'the count');
      assert.equal(n, 1);
    } finally {
      await flakyApi.close();
      await flaky.stop();
    }
  });

  describe('time to live', () => {
    let relay: OutboxRelay;
    let events: EventQueue;
    before(async () => {
      const stack = testStack();
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

    it('a 2-second hold expires by itself: units back in available, status expired, inventory.reservation.expired published', async () => {
      const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
      const orderId = `ttl-${randomUUID()}`;
      const reserved = await api.call<ReserveStockResponse__Output>('ReserveStock', {
        organization_id: organizationId,
        order_id: orderId,
        items: [{ variant_id: variantId, quantity: 6 }],
        ttl_seconds: 2,
      });
      assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').available, 4);

      await events.waitFor(
        (r) =>
          r.some(
            (e) =>
              e.body.event === 'inventory.reservation.expired' &&
              e.body.data.reservation_id === reserved.reservation_id,
          ),
        15_000,
        'inventory.reservation.expired',
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
      const view = await api.call<Reservation__Output>('GetReservation', {
        organization_id: organizationId,
        reservation_id: reserved.reservation_id,
      });
      assert.equal(view.status, 'expired');
      assert.equal(view.release_reason, 'expired');
      await saveHistory('reserve-expire', reservationWorkflowId(organizationId, orderId));
    });

    it('confirming before expiry cancels the expiry', async () => {
      const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
      const orderId = `confirm-${randomUUID()}`;
      await api.call('ReserveStock', {
        organization_id: organizationId,
        order_id: orderId,
        items: [{ variant_id: variantId, quantity: 3 }],
        ttl_seconds: 2,
      });
      await api.call('ConfirmReservation', { organization_id: organizationId, order_id: orderId });

      await sleep(3500);

      assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').reserved, 3);
      const view = await api.call<Reservation__Output>('GetReservation', {
        organization_id: organizationId,
        order_id: orderId,
      });
      assert.equal(view.status, 'confirmed');
      await events.waitFor(
        (r) => r.some((e) => e.body.event === 'inventory.reservation.confirmed' && e.body.data.order_id === orderId),
        5000,
        'inventory.reservation.confirmed',
      );
      assert.ok(
        !events.received.some(
          (e) => e.body.event === 'inventory.reservation.expired' && e.body.data.order_id === orderId,
        ),
      );
    });

    it('extending moves the expiry; extending past the maximum lifetime is refused', async () => {
      const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
      const orderId = `extend-${randomUUID()}`;
      const reserved = await api.call<ReserveStockResponse__Output>('ReserveStock', {
        organization_id: organizationId,
        order_id: orderId,
        items: [{ variant_id: variantId, quantity: 2 }],
        ttl_seconds: 2,
      });

      const extended = await api.call<{ expires_at: string; status: string }>('ExtendReservation', {
        organization_id: organizationId,
        order_id: orderId,
        ttl_seconds: 4,
      });
      assert.ok(Date.parse(extended.expires_at) > Date.parse(reserved.expires_at) + 1000);
      const error = await expectStatus(
        api.call('ExtendReservation', {
          organization_id: organizationId,
          order_id: orderId,
          ttl_seconds: 7 * 24 * 3600,
        }),
        grpc.status.FAILED_PRECONDITION,
      );
      assert.match(error.details, /lives at most/);

      await sleep(2800);
      assert.equal(
        present(await stockRow(scope, variantId, warehouseId), 'the stock row').reserved,
        2,
        'still held after the original TTL',
      );
      await waitFor(
        () => stockRow(scope, variantId, warehouseId),
        (row) => row?.reserved === 0,
        'the extended hold to expire',
      );
      await saveHistory('reserve-extend-expire', reservationWorkflowId(organizationId, orderId));
    });
  });

  it('a hold whose worker is down when its TTL passes expires once a new worker starts, and releases exactly once', async () => {
    const first = await startWorker();
    const durableApi = await startGrpc({ taskQueue: first.taskQueue });
    try {
      const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
      await durableApi.call('ReserveStock', {
        organization_id: organizationId,
        order_id: `durable-${randomUUID()}`,
        items: [{ variant_id: variantId, quantity: 5 }],
        ttl_seconds: 2,
      });
      await first.stop();

      await sleep(3000);
      assert.equal(
        present(await stockRow(scope, variantId, warehouseId), 'the stock row').reserved,
        5,
        'no worker, no release yet',
      );

      const second = await startWorker({ taskQueue: first.taskQueue });
      try {
        await waitFor(
          () => stockRow(scope, variantId, warehouseId),
          (row) => row?.reserved === 0,
          'the release by the new worker',
        );
        await sleep(1000);
        const [counted] = await scope.em.execute<{ n: number }[]>(
          "select count(*)::int as n from stock_movement where organization_id = ? and type = 'release'",
          [organizationId],
        );
        const { n } = present(counted, 'the count');
        assert.equal(n, 1);
        assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').available, 10);
      } finally {
        await second.stop();
      }
    } finally {
      await durableApi.close();
    }
  });

  describe('bad input changes nothing', () => {
    it('ReserveStock: unknown variant or warehouse, bad quantities, no items, missing ids, TTL out of bounds', async () => {
      const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
      const base = {
        organization_id: organizationId,
        order_id: `bad-${randomUUID()}`,
        items: [{ variant_id: variantId, quantity: 1 }],
      };
      const cases: [object, grpc.status, RegExp][] = [
        [{ ...base, items: [{ variant_id: randomUUID(), quantity: 1 }] }, grpc.status.NOT_FOUND, /no stock of variant/],
        [
          { ...base, items: [{ variant_id: variantId, quantity: 1, warehouse_id: randomUUID() }] },
          grpc.status.NOT_FOUND,
          /warehouse .* does not exist/,
        ],
        [{ ...base, preferred_warehouse_id: randomUUID() }, grpc.status.NOT_FOUND, /warehouse .* does not exist/],
        [
          { ...base, items: [{ variant_id: variantId, quantity: 0 }] },
          grpc.status.INVALID_ARGUMENT,
          /quantity must be at least 1/,
        ],
        [
          { ...base, items: [{ variant_id: variantId, quantity: -3 }] },
          grpc.status.INVALID_ARGUMENT,
          /quantity must be at least 1/,
        ],
        [{ ...base, items: [] }, grpc.status.INVALID_ARGUMENT, /at least one line/],
        [{ ...base, order_id: '' }, grpc.status.INVALID_ARGUMENT, /order_id is required/],
        [
          { ...base, items: [{ variant_id: '', quantity: 1 }] },
          grpc.status.INVALID_ARGUMENT,
          /variant_id must be a UUID/,
        ],
        [{ ...base, ttl_seconds: 8 * 24 * 3600 }, grpc.status.INVALID_ARGUMENT, /TTL must be from 1 s/],
        [{ ...base, ttl_minutes: -1 }, grpc.status.INVALID_ARGUMENT, /ttl_minutes cannot be negative/],
      ];
      for (const [request, code, message] of cases) {
        const error = await expectStatus(api.call('ReserveStock', request), code);
        assert.match(error.details, message);
      }
      assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').available, 10);
      const [counted] = await scope.em.execute<{ n: number }[]>(
        'select count(*)::int as n from reservation where organization_id = ? and status <> ?',
        [organizationId, 'failed'],
      );
      const { n } = present(counted, 'the count');
      assert.equal(n, 0);
    });

    it('the other RPCs: missing reference, unknown reservation, bad TTL', async () => {
      const organization_id = randomUUID();
      for (const method of [
        'ConfirmReservation',
        'ReleaseReservation',
        'FulfilReservation',
        'GetReservation',
        'ExtendReservation',
      ] as const) {
        await expectStatus(api.call(method, { organization_id, ttl_seconds: 60 }), grpc.status.INVALID_ARGUMENT);
        await expectStatus(
          api.call(method, { organization_id, reservation_id: randomUUID(), ttl_seconds: 60 }),
          grpc.status.NOT_FOUND,
        );
        await expectStatus(
          api.call(method, { organization_id, order_id: `nobody-${randomUUID()}`, ttl_seconds: 60 }),
          grpc.status.NOT_FOUND,
        );
      }
      await expectStatus(
        api.call('ExtendReservation', { organization_id, order_id: 'x', ttl_seconds: -5 }),
        grpc.status.INVALID_ARGUMENT,
      );
    });
  });
});
