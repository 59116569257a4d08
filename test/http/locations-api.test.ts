import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startHttp, type HttpHarness } from '../helpers/http.ts';
import { createWarehouse, stockedOrganization } from '../helpers/fixtures.ts';

describe('REST locations (bins inside a warehouse)', () => {
  let http: HttpHarness;
  before(async () => {
    http = await startHttp();
  });
  after(() => http.close());

  it('creates, lists, reads, renames and deletes a location', async () => {
    const s = await stockedOrganization(1);
    const created = await http.send('POST', '/api/v1/locations', {
      organizationId: s.organizationId,
      body: { warehouse_id: s.warehouseId, code: 'A-01-03', name: 'Aisle 1, shelf 3' },
    });
    assert.equal(created.status, 201);
    const id = created.body.location_id;
    assert.deepEqual(
      (await http.get(`/api/v1/locations?warehouse_id=${s.warehouseId}`, s.organizationId)).body.data.map(
        (l: { code: unknown }) => l.code,
      ),
      ['A-01-03'],
    );
    assert.equal((await http.get(`/api/v1/locations/${id}`, s.organizationId)).body.name, 'Aisle 1, shelf 3');
    assert.equal(
      (
        await http.send('PATCH', `/api/v1/locations/${id}`, {
          organizationId: s.organizationId,
          body: { name: 'Aisle 1, top shelf' },
        })
      ).body.name,
      'Aisle 1, top shelf',
    );
    assert.equal(
      (await http.send('DELETE', `/api/v1/locations/${id}`, { organizationId: s.organizationId })).status,
      204,
    );
    assert.equal((await http.get(`/api/v1/locations/${id}`, s.organizationId)).status, 404);
  });

  it('refuses to delete a location named by a movement, a duplicate code, bad fields and unknown ids', async () => {
    const s = await stockedOrganization(5);
    const created = await http.send('POST', '/api/v1/locations', {
      organizationId: s.organizationId,
      body: { warehouse_id: s.warehouseId, code: 'B-02', name: 'Bin B2' },
    });
    const id = created.body.location_id;
    const counted = await http.send('POST', '/api/v1/adjustments', {
      organizationId: s.organizationId,
      body: {
        variant_id: s.variantId,
        warehouse_id: s.warehouseId,
        reason_code: 'damage',
        quantity: 1,
        location_id: id,
      },
    });
    assert.equal(counted.body.movement.location_id, id);

    const refused = await http.send('DELETE', `/api/v1/locations/${id}`, { organizationId: s.organizationId });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.type, 'urn:inventory:problem:LocationConflictError');
    assert.equal(
      (
        await http.send('POST', '/api/v1/locations', {
          organizationId: s.organizationId,
          body: { warehouse_id: s.warehouseId, code: 'B-02', name: 'Again' },
        })
      ).status,
      409,
    );
    assert.equal(
      (
        await http.send('POST', '/api/v1/locations', {
          organizationId: s.organizationId,
          body: { warehouse_id: s.warehouseId, code: 'B 03', name: 'x', capacity: 3 },
        })
      ).status,
      400,
    );
    assert.equal(
      (
        await http.send('POST', '/api/v1/locations', {
          organizationId: s.organizationId,
          body: { warehouse_id: randomUUID(), code: 'C', name: 'x' },
        })
      ).status,
      404,
    );
    const elsewhere = await createWarehouse(s.scope);
    const wrongWarehouse = await http.send('POST', '/api/v1/adjustments', {
      organizationId: s.organizationId,
      body: {
        variant_id: s.variantId,
        warehouse_id: elsewhere.id,
        reason_code: 'receipt',
        quantity: 1,
        location_id: id,
      },
    });
    assert.equal(wrongWarehouse.status, 404);
  });
});
