import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { restWithWorker } from '../helpers/http.ts';

import { createWarehouse, stockedOrganization } from '../helpers/fixtures.ts';

/**
 * Every write endpoint honours Idempotency-Key: the same key and request replay the stored first
 * response (same status and body) without a second effect; the same key with another body is a 422.
 */
describe('Idempotency-Key on every write endpoint', function () {
  this.timeout(60_000);
  const rest = restWithWorker();

  async function assertIdempotent(
    organizationId: string,
    method: string,
    path: string,
    body: object | undefined,
    otherBody: object,
  ) {
    const key = `key-${randomUUID()}`;
    const first = await rest.http.send(method, path, { organizationId, body, headers: { 'Idempotency-Key': key } });
    assert.ok(first.status < 300, `${method} ${path} failed first: ${first.status} ${JSON.stringify(first.body)}`);
    const replay = await rest.http.send(method, path, { organizationId, body, headers: { 'Idempotency-Key': key } });
    assert.equal(replay.status, first.status, `${method} ${path}: replayed status`);
    assert.deepEqual(replay.body, first.body, `${method} ${path}: replayed body`);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    const reused = await rest.http.send(method, path, {
      organizationId,
      body: otherBody,
      headers: { 'Idempotency-Key': key },
    });
    assert.equal(reused.status, 422, `${method} ${path}: key reused with another body`);
    return first.body;
  }

  it('warehouses, locations, thresholds and adjustments', async () => {
    const s = await stockedOrganization(10);
    const org = s.organizationId;
    const warehouse = await assertIdempotent(
      org,
      'POST',
      '/api/v1/warehouses',
      { code: 'W1', name: 'W', region: 'r' },
      { code: 'W2', name: 'W', region: 'r' },
    );
    await assertIdempotent(
      org,
      'PATCH',
      `/api/v1/warehouses/${warehouse.warehouse_id}`,
      { name: 'W one' },
      { name: 'W uno' },
    );
    await assertIdempotent(org, 'POST', `/api/v1/warehouses/${warehouse.warehouse_id}/deactivate`, undefined, {
      note: 'x',
    });
    await assertIdempotent(org, 'POST', `/api/v1/warehouses/${warehouse.warehouse_id}/reactivate`, undefined, {
      note: 'x',
    });
    const location = await assertIdempotent(
      org,
      'POST',
      '/api/v1/locations',
      { warehouse_id: s.warehouseId, code: 'L1', name: 'L' },
      { warehouse_id: s.warehouseId, code: 'L2', name: 'L' },
    );
    await assertIdempotent(
      org,
      'PATCH',
      `/api/v1/locations/${location.location_id}`,
      { name: 'L one' },
      { name: 'L uno' },
    );
    await assertIdempotent(org, 'DELETE', `/api/v1/locations/${location.location_id}`, undefined, { force: true });
    await assertIdempotent(
      org,
      'PATCH',
      `/api/v1/stock/${s.variantId}/${s.warehouseId}/thresholds`,
      { min_stock: 2 },
      { min_stock: 3 },
    );
    await assertIdempotent(
      org,
      'POST',
      '/api/v1/adjustments',
      { variant_id: s.variantId, warehouse_id: s.warehouseId, reason_code: 'found', quantity: 1 },
      { variant_id: s.variantId, warehouse_id: s.warehouseId, reason_code: 'found', quantity: 2 },
    );
    const [row] = await s.scope.em.execute<{ available: number }[]>(
      'select available from stock where organization_id = ? and variant_id = ?',
      [org, s.variantId],
    );
    assert.ok(row, 'the stock row');
    assert.equal(row.available, 11, 'the adjustment applied once');
  });

  it('transfers: create, ship, receive and cancel', async () => {
    const s = await stockedOrganization(10);
    const org = s.organizationId;
    const destination = await createWarehouse(s.scope);
    const body = {
      origin_warehouse_id: s.warehouseId,
      destination_warehouse_id: destination.id,
      items: [{ variant_id: s.variantId, quantity: 2 }],
    };
    const transfer = await assertIdempotent(org, 'POST', '/api/v1/transfers', body, {
      ...body,
      items: [{ variant_id: s.variantId, quantity: 3 }],
    });
    await assertIdempotent(org, 'POST', `/api/v1/transfers/${transfer.transfer_id}/ship`, undefined, { carrier: 'x' });
    await assertIdempotent(
      org,
      'POST',
      `/api/v1/transfers/${transfer.transfer_id}/receive`,
      { lines: [{ variant_id: s.variantId, received: 1 }] },
      { lines: [{ variant_id: s.variantId, received: 2 }] },
    );
    const other = await assertIdempotent(
      org,
      'POST',
      '/api/v1/transfers',
      { ...body, notes: 'second' },
      { ...body, notes: 'third' },
    );
    await assertIdempotent(
      org,
      'POST',
      `/api/v1/transfers/${other.transfer_id}/cancel`,
      { reason: 'not needed' },
      { reason: 'changed mind' },
    );
    const [row] = await s.scope.em.execute<{ available: number; reserved: number; in_transit: number }[]>(
      'select available, reserved, in_transit from stock where organization_id = ? and warehouse_id = ? and variant_id = ?',
      [org, s.warehouseId, s.variantId],
    );
    assert.deepEqual(
      row,
      { available: 8, reserved: 0, in_transit: 1 },
      'one transfer shipped and half received, the other cancelled: each applied once',
    );
  });
});
