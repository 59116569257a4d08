import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import type { Reservation__Output } from '../../services/grpc/generated/inventory/v1/Reservation.ts';
import { reservationWorkflowId } from '../../workflows/definitions.ts';
import { expectStatus, startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import { ledgerSums, receiveStock, stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { saveHistory } from '../helpers/histories.ts';
import { decodeStatusDetails } from '../../services/grpc/rich-error.ts';
import { present } from '../helpers/present.ts';

describe('reservations over gRPC', function () {
  this.timeout(60_000);
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

  it('holds stock, confirms, and fulfils: the units leave stock as shipments referencing the order', async () => {
    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
    const orderId = `order-${randomUUID()}`;

    const reserved = await api.call<ReserveStockResponse__Output>('ReserveStock', {
      organization_id: organizationId,
      order_id: orderId,
      items: [{ variant_id: variantId, quantity: 3 }],
      ttl_seconds: 60,
    });
    assert.equal(reserved.success, true);
    assert.equal(reserved.status, 'active');
    assert.deepEqual(reserved.allocations, [{ variant_id: variantId, warehouse_id: warehouseId, quantity: 3 }]);
    assert.ok(Date.parse(reserved.expires_at) > Date.now() + 50_000);
    assert.deepEqual(await stockRow(scope, variantId, warehouseId), {
      total: 10,
      available: 7,
      reserved: 3,
      damaged: 0,
      in_transit: 0,
      incoming: 0,
      version: 3,
    });

    const confirmed = await api.call<{ status: string }>('ConfirmReservation', {
      organization_id: organizationId,
      order_id: orderId,
    });
    assert.equal(confirmed.status, 'confirmed');
    const again = await api.call<{ status: string }>('ConfirmReservation', {
      organization_id: organizationId,
      reservation_id: reserved.reservation_id,
    });
    assert.equal(again.status, 'confirmed', 'confirm is idempotent');

    const fulfilled = await api.call<{ status: string }>('FulfilReservation', {
      organization_id: organizationId,
      order_id: orderId,
    });
    assert.equal(fulfilled.status, 'fulfilled');
    assert.deepEqual(await stockRow(scope, variantId, warehouseId), {
      total: 7,
      available: 7,
      reserved: 0,
      damaged: 0,
      in_transit: 0,
      incoming: 0,
      version: 4,
    });
    const shipments = await scope.em.execute<{ reference_type: string; reference_id: string; total_delta: number }[]>(
      "select reference_type, reference_id, total_delta from stock_movement where organization_id = ? and type = 'shipment'",
      [organizationId],
    );
    assert.deepEqual(shipments, [{ reference_type: 'order', reference_id: orderId, total_delta: -3 }]);
    const actors = await scope.em.execute<{ type: string; actor: string }[]>(
      "select type, actor from stock_movement where organization_id = ? and type in ('reserve', 'shipment') order by created_at",
      [organizationId],
    );
    assert.deepEqual(
      actors,
      [
        { type: 'reserve', actor: 'test-user' },
        { type: 'shipment', actor: 'test-user' },
      ],
      "the ledger names the caller's token subject",
    );
    assert.deepEqual(await ledgerSums(scope, variantId, warehouseId), {
      total: 7,
      available: 7,
      reserved: 0,
      damaged: 0,
      in_transit: 0,
      incoming: 0,
    });

    const view = await api.call<Reservation__Output>('GetReservation', {
      organization_id: organizationId,
      order_id: orderId,
    });
    assert.equal(view.status, 'fulfilled');
    assert.deepEqual(
      view.transitions.map((t) => t.status),
      ['active', 'confirmed', 'fulfilled'],
    );
    await expectStatus(
      api.call('ReleaseReservation', { organization_id: organizationId, order_id: orderId, reason: 'too late' }),
      grpc.status.FAILED_PRECONDITION,
    );
    await saveHistory('reserve-confirm-fulfil', reservationWorkflowId(organizationId, orderId));
  });

  it('releases a hold back to available, idempotently, and remembers why', async () => {
    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(5);
    const orderId = `order-${randomUUID()}`;
    await api.call('ReserveStock', {
      organization_id: organizationId,
      order_id: orderId,
      items: [{ variant_id: variantId, quantity: 5 }],
    });
    assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').available, 0);

    const released = await api.call<{ status: string }>('ReleaseReservation', {
      organization_id: organizationId,
      order_id: orderId,
      reason: 'customer cancelled',
    });
    const twice = await api.call<{ status: string }>('ReleaseReservation', {
      organization_id: organizationId,
      order_id: orderId,
      reason: 'customer cancelled',
    });

    assert.equal(released.status, 'released');
    assert.equal(twice.status, 'released');
    assert.deepEqual(await stockRow(scope, variantId, warehouseId), {
      total: 5,
      available: 5,
      reserved: 0,
      damaged: 0,
      in_transit: 0,
      incoming: 0,
      version: 4,
    });
    const view = await api.call<Reservation__Output>('GetReservation', {
      organization_id: organizationId,
      order_id: orderId,
    });
    assert.equal(view.release_reason, 'customer cancelled');
    await expectStatus(
      api.call('ConfirmReservation', { organization_id: organizationId, order_id: orderId }),
      grpc.status.FAILED_PRECONDITION,
    );
    await saveHistory('reserve-release', reservationWorkflowId(organizationId, orderId));
  });

  it('answers the same ReserveStock twice with one reservation and one hold', async () => {
    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
    const request = {
      organization_id: organizationId,
      order_id: `order-${randomUUID()}`,
      items: [
        { variant_id: variantId, quantity: 2 },
        { variant_id: variantId, quantity: 1 },
      ],
    };

    const first = await api.call<ReserveStockResponse__Output>('ReserveStock', request);
    const second = await api.call<ReserveStockResponse__Output>('ReserveStock', request);

    assert.equal(second.reservation_id, first.reservation_id);
    assert.equal(second.expires_at, first.expires_at);
    assert.equal(
      present(await stockRow(scope, variantId, warehouseId), 'the stock row').reserved,
      3,
      'lines of one variant are summed and held once',
    );
    const error = await expectStatus(
      api.call('ReserveStock', { ...request, items: [{ variant_id: variantId, quantity: 4 }] }),
      grpc.status.ALREADY_EXISTS,
    );
    assert.match(error.details, /already holds reservation/);
    assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').reserved, 3);
  });

  it('refuses the whole order when one line is short, names the line, changes nothing and lets the order try again', async () => {
    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
    const scarce = randomUUID();
    await receiveStock(scope, scarce, warehouseId, 1);
    const orderId = `order-${randomUUID()}`;
    const request = {
      organization_id: organizationId,
      order_id: orderId,
      items: [
        { variant_id: variantId, quantity: 4 },
        { variant_id: scarce, quantity: 2 },
      ],
    };

    const error = await expectStatus(api.call('ReserveStock', request), grpc.status.FAILED_PRECONDITION);

    assert.deepEqual(JSON.parse(String(error.metadata.get('inventory-shortages')[0])), [
      { variant_id: scarce, warehouse_id: warehouseId, requested: 2, available: 1 },
    ]);
    const rich = decodeStatusDetails(error.metadata.get('grpc-status-details-bin')[0] as Buffer);
    assert.equal(rich.code, grpc.status.FAILED_PRECONDITION);
    assert.deepEqual(rich.violations, [
      { type: 'STOCK', subject: `variant/${scarce}/warehouse/${warehouseId}`, description: 'requested 2, available 1' },
    ]);
    assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').available, 10);
    assert.equal(present(await stockRow(scope, scarce, warehouseId), 'the stock row').available, 1);
    const [failed] = await scope.em.execute<{ status: string; n: number }[]>(
      "select r.status, (select count(*)::int from outbox_event e where e.organization_id = r.organization_id and e.name = 'inventory.reservation.failed') as n from reservation r where r.organization_id = ? and r.order_id = ?",
      [organizationId, orderId],
    );
    assert.deepEqual(failed, { status: 'failed', n: 1 });
    await saveHistory('reserve-failed', reservationWorkflowId(organizationId, orderId));

    await receiveStock(scope, scarce, warehouseId, 5);
    const retried = await api.call<ReserveStockResponse__Output>('ReserveStock', request);
    assert.equal(retried.status, 'active');
    assert.equal(present(await stockRow(scope, scarce, warehouseId), 'the stock row').reserved, 2);
  });
});
