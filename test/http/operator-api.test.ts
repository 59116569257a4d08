import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startHttp, type HttpHarness } from '../helpers/http.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { tokenFor } from '../helpers/stack.ts';
import { present } from '../helpers/present.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('REST operator API: stock settings, history and adjustments', () => {
  let http: HttpHarness;
  before(async () => {
    http = await startHttp();
  });
  after(() => http.close());

  it("updates a row's thresholds, refusing max below min and unknown rows", async () => {
    const s = await stockedOrganization(10);
    const path = `/api/v1/stock/${s.variantId}/${s.warehouseId}/thresholds`;

    const updated = await http.send('PATCH', path, {
      organizationId: s.organizationId,
      body: { min_stock: 5, max_stock: 50, reorder_point: 8 },
    });
    assert.equal(updated.status, 200);
    assert.deepEqual(
      { min: updated.body.min_stock, max: updated.body.max_stock, reorder: updated.body.reorder_point },
      { min: 5, max: 50, reorder: 8 },
    );

    assert.equal(
      (await http.send('PATCH', path, { organizationId: s.organizationId, body: { max_stock: 2 } })).status,
      400,
    );
    assert.equal(
      (await http.send('PATCH', path, { organizationId: s.organizationId, body: { total: 3 } })).status,
      400,
    );
    assert.equal(
      (
        await http.send('PATCH', `/api/v1/stock/${randomUUID()}/${s.warehouseId}/thresholds`, {
          organizationId: s.organizationId,
          body: { min_stock: 1 },
        })
      ).status,
      404,
    );
    assert.equal((await http.get(`/api/v1/stock/${s.variantId}/${s.warehouseId}`, s.organizationId)).body.min_stock, 5);
  });

  it('answers the stock of a past instant from the ledger, at three instants', async () => {
    const s = await stockedOrganization(10);
    const post = (body: object) =>
      http.send('POST', '/api/v1/adjustments', {
        organizationId: s.organizationId,
        body: { variant_id: s.variantId, warehouse_id: s.warehouseId, ...body },
      });
    const t1 = new Date();
    await sleep(20);
    await post({ reason_code: 'damage', quantity: 2 });
    const t2 = new Date();
    await sleep(20);
    await post({ reason_code: 'found', quantity: 5 });
    const t3 = new Date();
    const before = new Date(t1.getTime() - 60_000);

    const at = async (instant: Date) =>
      (
        await http.get(
          `/api/v1/stock/${s.variantId}/${s.warehouseId}/as-of?at=${instant.toISOString()}`,
          s.organizationId,
        )
      ).body.quantities;
    assert.deepEqual(await at(before), { total: 0, available: 0, reserved: 0, damaged: 0, in_transit: 0, incoming: 0 });
    assert.deepEqual(await at(t1), { total: 10, available: 10, reserved: 0, damaged: 0, in_transit: 0, incoming: 0 });
    assert.deepEqual(await at(t2), { total: 10, available: 8, reserved: 0, damaged: 2, in_transit: 0, incoming: 0 });
    assert.deepEqual(await at(t3), { total: 15, available: 13, reserved: 0, damaged: 2, in_transit: 0, incoming: 0 });
    const now = present(await stockRow(s.scope, s.variantId, s.warehouseId), 'the stock row');
    assert.equal(now.available, 13);
    assert.equal(
      (await http.get(`/api/v1/stock/${s.variantId}/${s.warehouseId}/as-of?at=yesterday`, s.organizationId)).status,
      400,
    );
  });

  it('records each reason code as one ledger movement with the operator as actor', async () => {
    const s = await stockedOrganization(10);
    const ana = await tokenFor(s.organizationId, { subject: 'ana', roles: ['operator'] });
    const post = (body: object) =>
      http.send('POST', '/api/v1/adjustments', {
        body: { variant_id: s.variantId, warehouse_id: s.warehouseId, ...body },
        headers: { Authorization: `Bearer ${ana}` },
      });
    const expectations: [object, Record<string, number>][] = [
      [{ reason_code: 'receipt', quantity: 5 }, { available: 5 }],
      [
        { reason_code: 'damage', quantity: 2 },
        { available: -2, damaged: 2 },
      ],
      [{ reason_code: 'loss', quantity: 1 }, { available: -1 }],
      [{ reason_code: 'found', quantity: 1 }, { available: 1 }],
      [{ reason_code: 'return', quantity: 2 }, { available: 2 }],
      [{ reason_code: 'correction', quantity: -3 }, { available: -3 }],
      [{ reason_code: 'cycle_count', counted_quantity: 20, note: 'aisle 4' }, { available: 8 }],
    ];
    for (const [body, deltas] of expectations) {
      const response = await post(body);
      assert.equal(response.status, 201, JSON.stringify(response.body));
      for (const [quantity, delta] of Object.entries(deltas))
        assert.equal(response.body.movement.deltas[quantity], delta, `${JSON.stringify(body)}: ${quantity}`);
      assert.equal(response.body.movement.actor, 'ana', 'the actor is the token subject');
    }
    assert.deepEqual(await stockRow(s.scope, s.variantId, s.warehouseId), {
      total: 22,
      available: 20,
      reserved: 0,
      damaged: 2,
      in_transit: 0,
      incoming: 0,
      version: 9,
    });

    const list = await http.get(`/api/v1/adjustments?variant_id=${s.variantId}&limit=500`, s.organizationId);
    assert.equal(list.body.data.length, 7);
    const count = list.body.data[0];
    assert.deepEqual({ reason: count.reason_code, note: count.note }, { reason: 'cycle_count', note: 'aisle 4' });
    const one = await http.get(`/api/v1/adjustments/${count.adjustment_id}`, s.organizationId);
    assert.equal(one.body.movement.movement_id, count.movement.movement_id);
    const movement = await http.get(`/api/v1/movements/${count.movement.movement_id}`, s.organizationId);
    assert.equal(movement.body.reference.id, count.adjustment_id);
  });

  it('when two operators count the same row, the stale count gets 409 and changes nothing', async () => {
    const s = await stockedOrganization(10);
    const count = (counted: number) =>
      http.send('POST', '/api/v1/adjustments', {
        organizationId: s.organizationId,
        body: {
          variant_id: s.variantId,
          warehouse_id: s.warehouseId,
          reason_code: 'cycle_count',
          counted_quantity: counted,
          expected_quantity: 10,
        },
      });

    const first = await count(9);
    const second = await count(12);

    assert.equal(first.status, 201);
    assert.equal(second.status, 409);
    assert.equal(second.body.type, 'urn:inventory:problem:StaleCountError');
    assert.equal(second.body.current_quantity, 9);
    assert.equal(present(await stockRow(s.scope, s.variantId, s.warehouseId), 'the stock row').available, 9);
  });

  it('refuses bad adjustments and unknown ids, and replays with an Idempotency-Key', async () => {
    const s = await stockedOrganization(3);
    const post = (body: object, headers: Record<string, string> = {}) =>
      http.send('POST', '/api/v1/adjustments', {
        organizationId: s.organizationId,
        body: { variant_id: s.variantId, warehouse_id: s.warehouseId, ...body },
        headers,
      });

    assert.equal((await post({ reason_code: 'loss', quantity: -1 })).status, 400);
    assert.equal((await post({ reason_code: 'teleport', quantity: 1 })).status, 400);
    assert.equal((await post({ reason_code: 'cycle_count' })).status, 400);
    assert.equal((await post({ reason_code: 'loss', quantity: 1, reserved: 2 })).status, 400);
    assert.equal((await post({ reason_code: 'loss', quantity: 5 })).status, 409, 'cannot lose more than is available');
    assert.equal(
      (
        await http.send('POST', '/api/v1/adjustments', {
          organizationId: s.organizationId,
          body: { variant_id: randomUUID(), warehouse_id: s.warehouseId, reason_code: 'loss', quantity: 1 },
        })
      ).status,
      404,
    );
    assert.equal((await http.get(`/api/v1/adjustments/${randomUUID()}`, s.organizationId)).status, 404);
    assert.equal((await http.get(`/api/v1/movements/${randomUUID()}`, s.organizationId)).status, 404);

    const first = await post({ reason_code: 'found', quantity: 2 }, { 'Idempotency-Key': 'found-once' });
    const replay = await post({ reason_code: 'found', quantity: 2 }, { 'Idempotency-Key': 'found-once' });
    assert.deepEqual(replay.body, first.body);
    assert.equal((await post({ reason_code: 'found', quantity: 3 }, { 'Idempotency-Key': 'found-once' })).status, 422);
    assert.equal(present(await stockRow(s.scope, s.variantId, s.warehouseId), 'the stock row').available, 5);
  });
});
