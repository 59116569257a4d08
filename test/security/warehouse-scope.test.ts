import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { restWithWorker } from '../helpers/http.ts';
import { bearerFor, expectStatus, startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { createWarehouse, receiveStock, stockRow } from '../helpers/fixtures.ts';
import { newOrganization, tokenFor } from '../helpers/stack.ts';

/** An operator whose token lists some warehouses works in those only: lists, reads by id, and writes. */
describe("an operator's warehouse scope", () => {
  const rest = restWithWorker();
  let grpcApi: GrpcHarness;
  let scope: ReturnType<typeof newOrganization>;
  let mine: string;
  let theirs: string;
  let third: string;
  const variantId = randomUUID();
  let theirTransfer: string;
  let theirLocation: string;
  let operator: string;

  before(async () => {
    grpcApi = await startGrpc({ taskQueue: rest.worker.taskQueue });
    scope = newOrganization();
    [mine, theirs, third] = [
      (await createWarehouse(scope)).id,
      (await createWarehouse(scope)).id,
      (await createWarehouse(scope)).id,
    ];
    for (const warehouseId of [mine, theirs]) await receiveStock(scope, variantId, warehouseId, 20);
    const admin = { organizationId: scope.organizationId };
    theirTransfer = (
      await rest.http.send('POST', '/api/v1/transfers', {
        ...admin,
        body: {
          origin_warehouse_id: theirs,
          destination_warehouse_id: third,
          items: [{ variant_id: variantId, quantity: 1 }],
        },
      })
    ).body.transfer_id;
    theirLocation = (
      await rest.http.send('POST', '/api/v1/locations', {
        ...admin,
        body: { warehouse_id: theirs, code: 'B-1', name: 'Theirs' },
      })
    ).body.location_id;
    operator = await tokenFor(scope.organizationId, { subject: 'ana', roles: ['operator'], warehouses: [mine] });
  });
  after(() => grpcApi?.close());

  const as = (token: string, method: string, path: string, body?: unknown) =>
    fetch(rest.http.url + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as any,
    }));

  it('lists show only the warehouses in scope', async () => {
    const warehouses = await as(operator, 'GET', '/api/v1/warehouses');
    assert.deepEqual(
      warehouses.body.data.map((w: { warehouse_id: string }) => w.warehouse_id),
      [mine],
    );
    const stock = await as(operator, 'GET', '/api/v1/stock');
    assert.deepEqual(
      stock.body.data.map((r: { warehouse_id: string }) => r.warehouse_id),
      [mine],
    );
    const variant = await as(operator, 'GET', `/api/v1/stock/${variantId}`);
    assert.equal(variant.body.totals.available, 20, 'totals count only the rows in scope');
    const movements = await as(operator, 'GET', `/api/v1/movements?variant_id=${variantId}`);
    assert.ok(
      movements.body.data.length > 0 &&
        movements.body.data.every((m: { warehouse_id: string }) => m.warehouse_id === mine),
    );
    assert.deepEqual((await as(operator, 'GET', '/api/v1/transfers')).body.data, []);
    assert.deepEqual((await as(operator, 'GET', '/api/v1/locations')).body.data, []);
    const history = await grpcApi.call<{ movements: { warehouse_id: string }[] }>(
      'GetStockHistory',
      { variant_id: variantId },
      await bearerFor({}, operator),
    );
    assert.ok(history.movements.length > 0 && history.movements.every((m) => m.warehouse_id === mine));
  });

  it('a read or write naming a warehouse outside the scope is 403 / PERMISSION_DENIED and changes nothing', async () => {
    assert.equal((await as(operator, 'GET', `/api/v1/stock/${variantId}/${theirs}`)).status, 403);
    const adjustment = await as(operator, 'POST', '/api/v1/adjustments', {
      variant_id: variantId,
      warehouse_id: theirs,
      reason_code: 'loss',
      quantity: 5,
    });
    assert.equal(adjustment.status, 403);
    assert.equal(adjustment.body.type, 'urn:inventory:problem:PermissionDenied');
    const transfer = await as(operator, 'POST', '/api/v1/transfers', {
      origin_warehouse_id: mine,
      destination_warehouse_id: theirs,
      items: [{ variant_id: variantId, quantity: 1 }],
    });
    assert.equal(transfer.status, 403);
    await expectStatus(
      grpcApi.call('GetWarehouseStock', { warehouse_id: theirs }, await bearerFor({}, operator)),
      grpc.status.PERMISSION_DENIED,
    );
    assert.equal((await stockRow(scope, variantId, theirs))?.available, 19, 'only the admin transfer holds a unit');
    assert.equal((await stockRow(scope, variantId, mine))?.available, 20);
  });

  it("another warehouse's transfer or bin is not found, to read or to act on", async () => {
    assert.equal((await as(operator, 'GET', `/api/v1/transfers/${theirTransfer}`)).status, 404);
    assert.equal(
      (await as(operator, 'POST', `/api/v1/transfers/${theirTransfer}/cancel`, { reason: 'not mine' })).status,
      404,
    );
    assert.equal((await as(operator, 'PATCH', `/api/v1/locations/${theirLocation}`, { name: 'Renamed' })).status, 404);
    const admin = await tokenFor(scope.organizationId, { roles: ['admin'] });
    assert.equal(
      (await as(admin, 'GET', `/api/v1/transfers/${theirTransfer}`)).body.status,
      'reserved',
      'the transfer is untouched',
    );
    assert.equal((await as(admin, 'GET', `/api/v1/locations/${theirLocation}`)).body.name, 'Theirs');
  });
});
