import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import { expectStatus, startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { defaultLimits, type QuotaSettings } from '../../services/limits/settings.ts';

describe('quotas on open holds', function () {
  this.timeout(60_000);
  let worker: RunningWorker;
  const apis: GrpcHarness[] = [];
  before(async () => {
    worker = await startWorker();
  });
  after(async () => {
    for (const api of apis) await api.close();
    await worker.stop();
  });
  const withQuotas = async (quotas: QuotaSettings) => {
    const api = await startGrpc({ taskQueue: worker.taskQueue, limits: { ...defaultLimits(), quotas } });
    apis.push(api);
    return api;
  };

  it('past the organization cap ReserveStock is RESOURCE_EXHAUSTED and holds nothing; a repeat of an open hold still answers', async () => {
    const api = await withQuotas({ activeHoldsPerOrganization: 2, activeHoldsPerCustomer: 0 });
    const s = await stockedOrganization(10);
    const reserve = (orderId: string) =>
      api.call<ReserveStockResponse__Output>('ReserveStock', {
        organization_id: s.organizationId,
        order_id: orderId,
        items: [{ variant_id: s.variantId, quantity: 1 }],
        ttl_seconds: 300,
      });
    await reserve('order-1');
    await reserve('order-2');
    const before = await stockRow(s.scope, s.variantId, s.warehouseId);
    const refused = await expectStatus(reserve('order-3'), grpc.status.RESOURCE_EXHAUSTED);
    assert.match(refused.details, /2 open holds/);
    assert.deepEqual(await stockRow(s.scope, s.variantId, s.warehouseId), before, 'nothing held');
    assert.equal((await reserve('order-1')).status, 'active', 'the same request for an open hold is not refused');

    await api.call('ReleaseReservation', {
      organization_id: s.organizationId,
      order_id: 'order-2',
      reason: 'cancelled',
    });
    assert.equal((await reserve('order-3')).status, 'active', 'a closed hold makes room');
  });

  it('past the customer cap a hold for that customer is RESOURCE_EXHAUSTED; other customers and orders without one are not', async () => {
    const api = await withQuotas({ activeHoldsPerOrganization: 100, activeHoldsPerCustomer: 1 });
    const s = await stockedOrganization(10);
    const reserve = (orderId: string, customerId?: string) =>
      api.call<ReserveStockResponse__Output>('ReserveStock', {
        organization_id: s.organizationId,
        order_id: orderId,
        items: [{ variant_id: s.variantId, quantity: 1 }],
        ttl_seconds: 300,
        ...(customerId ? { customer_id: customerId } : {}),
      });
    await reserve('order-a', 'customer-1');
    const before = await stockRow(s.scope, s.variantId, s.warehouseId);
    const refused = await expectStatus(reserve('order-b', 'customer-1'), grpc.status.RESOURCE_EXHAUSTED);
    assert.match(refused.details, /customer customer-1 already has 1 open holds/);
    assert.deepEqual(await stockRow(s.scope, s.variantId, s.warehouseId), before, 'nothing held');
    await reserve('order-b', 'customer-2');
    await reserve('order-c');
    assert.equal((await reserve('order-a', 'customer-1')).status, 'active', 'the repeat of the open hold answers');

    await api.call('FulfilReservation', { organization_id: s.organizationId, order_id: 'order-a' });
    assert.equal((await reserve('order-d', 'customer-1')).status, 'active', 'a fulfilled hold no longer counts');
  });

  it('refuses a customer_id longer than 200 characters with INVALID_ARGUMENT', async () => {
    const api = await withQuotas(defaultLimits().quotas);
    const s = await stockedOrganization(1);
    const refused = await expectStatus(
      api.call('ReserveStock', {
        organization_id: s.organizationId,
        order_id: 'order-x',
        items: [{ variant_id: s.variantId, quantity: 1 }],
        customer_id: 'c'.repeat(201),
      }),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.match(refused.details, /customer_id: customer_id is at most 200 characters/);
  });
});
