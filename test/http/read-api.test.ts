import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { demo, seedDemoData } from '../../scripts/demo-data.ts';
import { startHttp, type HttpHarness } from '../helpers/http.ts';
import { newOrganization, testStack, tokenFor } from '../helpers/stack.ts';
import { createWarehouse, receiveStock } from '../helpers/fixtures.ts';
import { present } from '../helpers/present.ts';
import { applyOperation } from '../../services/inventory/stock/ledger.ts';

const org = demo.organizationId;

function assertProblem(
  response: { status: number; contentType: string; body: any },
  status: number,
  type: string,
): void {
  assert.equal(response.status, status);
  assert.match(response.contentType, /^application\/problem\+json/);
  assert.equal(response.body.type, `urn:inventory:problem:${type}`);
  assert.equal(response.body.status, status);
  assert.equal(typeof response.body.title, 'string');
  assert.equal(typeof response.body.detail, 'string');
  assert.equal(typeof response.body.request_id, 'string');
  assert.equal(typeof response.body.instance, 'string');
}

describe('REST read API on the demo data', () => {
  let http: HttpHarness;
  before(async () => {
    await seedDemoData(testStack().orm.em.fork());
    http = await startHttp();
  });
  after(() => http.close());

  it('GET /health answers while the process is alive', async () => {
    const response = await http.get('/health');
    assert.deepEqual(response.body, { status: 'ok' });
  });

  it('GET /ready reports PostgreSQL, RabbitMQ and Temporal as up', async () => {
    const response = await http.get('/ready');
    assert.equal(response.status, 200);
    assert.equal(response.body.status, 'ready');
    assert.deepEqual(
      Object.fromEntries(Object.entries<{ status: unknown }>(response.body.checks).map(([k, v]) => [k, v.status])),
      { postgresql: 'up', rabbitmq: 'up', temporal: 'up', catalog: 'off' },
    );
    assert.equal(typeof response.body.outbox.pending, 'number');
  });

  it('GET /ready reports an unreachable broker as degraded, still 200, and says events wait in the outbox', async () => {
    const withoutBroker = await startHttp({ amqpUrl: 'amqp://guest:guest@127.0.0.1:1' });
    try {
      const response = await withoutBroker.get('/ready');
      assert.equal(response.status, 200);
      assert.equal(response.body.status, 'degraded');
      assert.equal(response.body.checks.rabbitmq.status, 'down');
      assert.match(response.body.checks.rabbitmq.detail, /events are kept in the outbox \(\d+ pending\)/);
    } finally {
      await withoutBroker.close();
    }
  });

  it("GET /api/v1/warehouses lists the organization's warehouses, filtered by region", async () => {
    const all = await http.get('/api/v1/warehouses', org);
    assert.deepEqual(
      all.body.data.map((w: { code: unknown }) => w.code),
      ['BAQ-COAST', 'BOG-MAIN', 'MED-NORTH'],
    );
    const caribe = await http.get('/api/v1/warehouses?region=caribe', org);
    assert.deepEqual(
      caribe.body.data.map((w: { warehouse_id: unknown }) => w.warehouse_id),
      [demo.warehouses.coast.id],
    );
    assert.equal(caribe.body.next_cursor, null);
  });

  it('GET /api/v1/stock?low=true lists only rows at or below their minimum', async () => {
    const response = await http.get('/api/v1/stock?low=true&limit=500', org);
    assert.ok(response.body.data.length >= 3);
    for (const row of response.body.data) assert.ok(row.available <= row.min_stock, `${row.variant_id} is not low`);
    const lowBlueL = response.body.data.find(
      (r: { variant_id: unknown }) => r.variant_id === present(demo.variants[5], 'the demo variant TSHIRT-BLUE-L').id,
    );
    assert.equal(lowBlueL.available, 4);
  });

  it('GET /api/v1/stock pages through a filtered list without repeating a row', async () => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await http.get(
        `/api/v1/stock?warehouse_id=${demo.warehouses.main.id}&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        org,
      );
      assert.equal(page.status, 200);
      ids.push(...page.body.data.map((r: { stock_id: string }) => r.stock_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    const expected = demo.variants.filter((v) => v.stock.main !== undefined).length;
    assert.equal(ids.length, expected);
    assert.equal(new Set(ids).size, expected);
  });

  it('GET /api/v1/stock/{variant_id} gives each warehouse and the totals', async () => {
    const redS = present(demo.variants[0], 'the demo variant TSHIRT-RED-S');
    const response = await http.get(`/api/v1/stock/${redS.id}`, org);
    assert.equal(response.status, 200);
    assert.equal(response.body.warehouses.length, 3);
    assert.equal(response.body.totals.available, 120 + 40 + 25);
    assert.equal(response.body.totals.total, 185);
  });

  it('GET /api/v1/movements filters the ledger and lists it newest first', async () => {
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const variantId = randomUUID();
    await receiveStock(scope, variantId, warehouse.id, 2);
    await receiveStock(scope, variantId, warehouse.id, 3);
    const response = await http.get(`/api/v1/movements?variant_id=${variantId}&type=receipt`, scope.organizationId);
    assert.deepEqual(
      response.body.data.map((m: { deltas: { available: unknown } }) => m.deltas.available),
      [3, 2],
    );
    assert.equal(response.body.data[0].after.available, 5);
    assert.deepEqual(response.body.data[0].reference, { type: 'test', id: 'fixture' });
    const none = await http.get(`/api/v1/movements?variant_id=${variantId}&type=shipment`, scope.organizationId);
    assert.deepEqual(none.body.data, []);
  });

  it("GET /api/v1/movements?order_id= returns exactly one order's movements, its hold and its release", async () => {
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const variantId = randomUUID();
    await receiveStock(scope, variantId, warehouse.id, 10);
    const [orderA, orderB] = [`order-${randomUUID()}`, `order-${randomUUID()}`];
    const move = (orderId: string, step: 'hold' | 'release', units: number) =>
      scope.transaction((tx) =>
        applyOperation(tx, {
          operationKey: `test/${orderId}/${step}`,
          actor: 'test',
          reference: { type: 'reservation', id: randomUUID() },
          orderId,
          changes: [
            {
              variantId,
              warehouseId: warehouse.id,
              type: step === 'hold' ? 'reserve' : 'release',
              deltas: step === 'hold' ? { available: -units, reserved: units } : { available: units, reserved: -units },
            },
          ],
        }),
      );
    await move(orderA, 'hold', 3);
    await move(orderB, 'hold', 2);
    await move(orderA, 'release', 3);

    const a = await http.get(`/api/v1/movements?order_id=${orderA}`, scope.organizationId);
    assert.equal(a.status, 200);
    assert.deepEqual(
      a.body.data.map((m: { type: unknown; order_id: unknown; deltas: { reserved: unknown } }) => [
        m.type,
        m.order_id,
        m.deltas.reserved,
      ]),
      [
        ['release', orderA, -3],
        ['reserve', orderA, 3],
      ],
    );
    const b = await http.get(`/api/v1/movements?order_id=${orderB}`, scope.organizationId);
    assert.deepEqual(
      b.body.data.map((m: { type: unknown; order_id: unknown }) => [m.type, m.order_id]),
      [['reserve', orderB]],
    );
    const receipt = await http.get(`/api/v1/movements?variant_id=${variantId}&type=receipt`, scope.organizationId);
    assert.equal(receipt.body.data[0].order_id, null, 'a movement that serves no order names none');
  });

  it("returns an adjustment's reason_code and purchase_order_id as fields, its note as the reason", async () => {
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const variantId = randomUUID();
    await receiveStock(scope, variantId, warehouse.id, 1);
    await scope.transaction((tx) =>
      applyOperation(tx, {
        operationKey: `test/${variantId}/ordered`,
        actor: 'test',
        changes: [{ variantId, warehouseId: warehouse.id, type: 'incoming', deltas: { incoming: 5 } }],
      }),
    );
    const body = {
      variant_id: variantId,
      warehouse_id: warehouse.id,
      reason_code: 'receipt',
      quantity: 5,
      purchase_order_id: 'PO: 77',
      note: 'dock 3: pallet 2',
    };
    const created = await http.send('POST', '/api/v1/adjustments', { organizationId: scope.organizationId, body });
    assert.equal(created.status, 201);
    const expected = { reason_code: 'receipt', purchase_order_id: 'PO: 77', note: 'dock 3: pallet 2' };
    assert.deepEqual(
      {
        reason_code: created.body.reason_code,
        purchase_order_id: created.body.purchase_order_id,
        note: created.body.note,
      },
      expected,
    );
    const read = await http.get(`/api/v1/adjustments/${created.body.adjustment_id}`, scope.organizationId);
    assert.deepEqual(
      { reason_code: read.body.reason_code, purchase_order_id: read.body.purchase_order_id, note: read.body.note },
      expected,
    );
    const { movement } = read.body;
    assert.deepEqual(
      {
        reason_code: movement.reason_code,
        purchase_order_id: movement.purchase_order_id,
        reason: movement.reason,
        deltas: movement.deltas,
      },
      {
        reason_code: 'receipt',
        purchase_order_id: 'PO: 77',
        reason: 'dock 3: pallet 2',
        deltas: { total: 5, available: 5, reserved: 0, damaged: 0, in_transit: 0, incoming: -5 },
      },
    );
    const plain = await http.send('POST', '/api/v1/adjustments', {
      organizationId: scope.organizationId,
      body: { variant_id: variantId, warehouse_id: warehouse.id, reason_code: 'found', quantity: 1 },
    });
    assert.deepEqual([plain.body.reason_code, plain.body.purchase_order_id, plain.body.note], ['found', null, null]);
  });

  it("never shows one organization's rows to another", async () => {
    const other = randomUUID();
    const response = await http.get('/api/v1/stock', other);
    assert.deepEqual(response.body, { data: [], next_cursor: null });
    assertProblem(
      await http.get(`/api/v1/stock/${present(demo.variants[0], 'a demo variant').id}`, other),
      404,
      'VariantNotFoundError',
    );
  });

  it('answers bad input with a 400 problem naming each field, and changes nothing', async () => {
    const response = await http.get('/api/v1/stock?low=maybe&limit=0&colour=red', org);
    assertProblem(response, 400, 'ValidationError');
    const fields = response.body.errors.map((e: { field: string }) => e.field).sort();
    assert.deepEqual(fields, ['colour', 'limit', 'low']);
    assertProblem(await http.get('/api/v1/movements?from=yesterday', org), 400, 'ValidationError');
    assertProblem(await http.get('/api/v1/stock?cursor=garbage', org), 400, 'InvalidArgumentError');
    assertProblem(await http.get('/api/v1/stock/not-a-uuid', org), 400, 'ValidationError');
  });

  it('refuses an X-Organization-Id that differs from the token, and reads no body before authenticating', async () => {
    const token = await tokenFor(org);
    const other = await fetch(`${http.url}/api/v1/stock`, {
      headers: { Authorization: `Bearer ${token}`, 'X-Organization-Id': randomUUID() },
    });
    assert.equal(other.status, 403);
    const same = await fetch(`${http.url}/api/v1/stock`, {
      headers: { Authorization: `Bearer ${token}`, 'X-Organization-Id': org.toUpperCase() },
    });
    assert.equal(same.status, 200, 'the same organization, in any case, is accepted');
    const anonymousBigBody = await fetch(`${http.url}/api/v1/warehouses`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(2_000_000) }),
    });
    assert.equal(anonymousBigBody.status, 401, 'an anonymous caller is turned away before its body is read (not 413)');
  });

  it('answers a call without a bearer token with 401 and a Bearer challenge', async () => {
    const response = await fetch(`${http.url}/api/v1/stock`);
    assert.equal(response.status, 401);
    assert.equal(
      response.headers.get('www-authenticate'),
      'Bearer realm="inventory"',
      'no token: the bare challenge (RFC 6750)',
    );
    const forged = await fetch(`${http.url}/api/v1/stock`, { headers: { Authorization: 'Bearer not.a.token' } });
    assert.equal(forged.status, 401);
    assert.match(
      forged.headers.get('www-authenticate') ?? '',
      /^Bearer realm="inventory", error="invalid_token", error_description="/,
    );
    assertProblem(
      { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.json() },
      401,
      'Unauthenticated',
    );
  });

  it('answers unknown ids and routes with a 404 problem', async () => {
    assertProblem(await http.get(`/api/v1/stock/${randomUUID()}`, org), 404, 'VariantNotFoundError');
    assertProblem(await http.get('/api/v1/nothing-here', org), 404, 'RouteNotFound');
  });
});
