import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ForeignKeyConstraintViolationException } from '@mikro-orm/core';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import { createLocation } from '../../services/inventory/warehouses/locations.ts';
import { reasonCodes } from '../../services/inventory/stock/adjustments.ts';
import { restWithWorker } from '../helpers/http.ts';
import { expectStatus, startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { createWarehouse, receiveStock, stockedOrganization } from '../helpers/fixtures.ts';
import { newOrganization, testStack, type TestOrganizationScope } from '../helpers/stack.ts';
import { present } from '../helpers/present.ts';

/**
 * Organization B naming organization A's warehouse (or bin, or stock row): every write path answers as
 * if it did not exist, writes nothing, and the database refuses such a row even from raw SQL.
 */

/** Everything either organization has, or that sits in A's warehouse: what a refused request must leave alone. */
async function footprint(scope: TestOrganizationScope, organizationIds: string[], warehouseId: string) {
  const em = scope.em;
  return {
    stock: await em.execute('select * from stock where organization_id in (?) or warehouse_id = ? order by id', [
      organizationIds,
      warehouseId,
    ]),
    movements: await em.execute(
      'select id from stock_movement where organization_id in (?) or warehouse_id = ? order by id',
      [organizationIds, warehouseId],
    ),
    // published_at is the relay's business: only which events exist matters here.
    outbox: await em.execute('select id, name from outbox_event where organization_id in (?) order by id', [
      organizationIds,
    ]),
    transfers: await em.execute('select id from transfer where organization_id in (?) order by id', [organizationIds]),
    locations: await em.execute('select * from location where organization_id in (?) or warehouse_id = ? order by id', [
      organizationIds,
      warehouseId,
    ]),
  };
}

/** The problem body with the one thing that must differ (the id asked about) and the request id taken out. */
function shapeOf(body: Record<string, unknown>, askedId: string) {
  const { request_id: _requestId, ...rest } = body;
  return JSON.parse(JSON.stringify(rest).replaceAll(askedId, '<id>'));
}

async function twoOrganizations() {
  const a = await stockedOrganization(50);
  const b = newOrganization();
  const bWarehouse = await createWarehouse(b);
  return { a, b, bWarehouseId: bWarehouse.id };
}

const foreignKeyViolation = (constraint: string) => (error: unknown) => {
  assert.ok(
    error instanceof ForeignKeyConstraintViolationException,
    `expected a foreign key violation, got ${String(error)}`,
  );
  assert.match(error.message, new RegExp(constraint));
  return true;
};

describe('writes across organizations', function () {
  this.timeout(60_000);
  const rest = restWithWorker();

  it("refuses B's receipt into A's warehouse with the same 404 as a warehouse that exists nowhere, changing nothing", async () => {
    const { a, b } = await twoOrganizations();
    const receipt = (warehouseId: string) =>
      rest.http.send('POST', '/api/v1/adjustments', {
        organizationId: b.organizationId,
        body: { variant_id: a.variantId, warehouse_id: warehouseId, reason_code: 'receipt', quantity: 7 },
      });
    const before = await footprint(a.scope, [a.organizationId, b.organizationId], a.warehouseId);

    const foreign = await receipt(a.warehouseId);
    const nowhere = randomUUID();
    const unknown = await receipt(nowhere);

    assert.equal(foreign.status, 404, JSON.stringify(foreign.body));
    assert.equal(foreign.body.type, 'urn:inventory:problem:WarehouseNotFoundError');
    assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
    assert.equal(foreign.contentType, unknown.contentType);
    assert.deepEqual(
      shapeOf(foreign.body, a.warehouseId),
      shapeOf(unknown.body, nowhere),
      'no oracle: a foreign warehouse reads exactly like a missing one',
    );
    assert.deepEqual(await footprint(a.scope, [a.organizationId, b.organizationId], a.warehouseId), before);
  });

  it("answers 404 to every adjustment, threshold and location naming A's warehouse or bin, writing nothing", async () => {
    const { a, b, bWarehouseId } = await twoOrganizations();
    const aBin = await createLocation(a.scope, { warehouseId: a.warehouseId, code: 'A-01', name: 'A bin' });
    await receiveStock(b, a.variantId, bWarehouseId, 10);
    const before = await footprint(a.scope, [a.organizationId, b.organizationId], a.warehouseId);

    for (const reason_code of reasonCodes) {
      const amount = reason_code === 'cycle_count' ? { counted_quantity: 3 } : { quantity: 1 };
      const inA = await rest.http.send('POST', '/api/v1/adjustments', {
        organizationId: b.organizationId,
        body: { variant_id: a.variantId, warehouse_id: a.warehouseId, reason_code, ...amount },
      });
      assert.equal(inA.status, 404, `${reason_code}: ${JSON.stringify(inA.body)}`);
      assert.equal(inA.body.type, 'urn:inventory:problem:WarehouseNotFoundError', reason_code);
      const aBinInB = await rest.http.send('POST', '/api/v1/adjustments', {
        organizationId: b.organizationId,
        body: { variant_id: a.variantId, warehouse_id: bWarehouseId, reason_code, ...amount, location_id: aBin.id },
      });
      assert.equal(aBinInB.status, 404, `${reason_code} with A's bin: ${JSON.stringify(aBinInB.body)}`);
      assert.equal(aBinInB.body.type, 'urn:inventory:problem:LocationNotFoundError', reason_code);
    }
    const thresholds = await rest.http.send('PATCH', `/api/v1/stock/${a.variantId}/${a.warehouseId}/thresholds`, {
      organizationId: b.organizationId,
      body: { min_stock: 1 },
    });
    assert.equal(thresholds.status, 404);
    assert.equal(thresholds.body.type, 'urn:inventory:problem:WarehouseNotFoundError');
    const location = await rest.http.send('POST', '/api/v1/locations', {
      organizationId: b.organizationId,
      body: { warehouse_id: a.warehouseId, code: 'B-01', name: 'not yours' },
    });
    assert.equal(location.status, 404);
    assert.equal(location.body.type, 'urn:inventory:problem:WarehouseNotFoundError');

    assert.deepEqual(await footprint(a.scope, [a.organizationId, b.organizationId], a.warehouseId), before);
  });

  it("refuses a transfer from B naming A's warehouse, as origin or destination, with 404 and nothing written", async () => {
    const { a, b, bWarehouseId } = await twoOrganizations();
    await receiveStock(b, a.variantId, bWarehouseId, 10);
    const before = await footprint(a.scope, [a.organizationId, b.organizationId], a.warehouseId);

    for (const [origin, destination] of [
      [a.warehouseId, bWarehouseId],
      [bWarehouseId, a.warehouseId],
    ]) {
      const created = await rest.http.send('POST', '/api/v1/transfers', {
        organizationId: b.organizationId,
        body: {
          origin_warehouse_id: origin,
          destination_warehouse_id: destination,
          items: [{ variant_id: a.variantId, quantity: 2 }],
        },
      });
      assert.equal(created.status, 404, JSON.stringify(created.body));
      assert.equal(created.body.type, 'urn:inventory:problem:WarehouseNotFoundError');
      assert.equal(created.body.warehouse_id, a.warehouseId);
    }
    assert.deepEqual(await footprint(a.scope, [a.organizationId, b.organizationId], a.warehouseId), before);
  });

  it('records the operator who asked for each transfer step in its ledger rows and transitions', async () => {
    const scope = newOrganization();
    const origin = await createWarehouse(scope);
    const destination = await createWarehouse(scope);
    const variantId = randomUUID();
    await receiveStock(scope, variantId, origin.id, 10);
    const created = await rest.http.send('POST', '/api/v1/transfers', {
      organizationId: scope.organizationId,
      body: {
        origin_warehouse_id: origin.id,
        destination_warehouse_id: destination.id,
        items: [{ variant_id: variantId, quantity: 4 }],
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.transfer_id;
    await rest.http.send('POST', `/api/v1/transfers/${id}/ship`, { organizationId: scope.organizationId });
    const cancelled = await rest.http.send('POST', `/api/v1/transfers/${id}/cancel`, {
      organizationId: scope.organizationId,
      body: { reason: 'wrong truck' },
    });
    assert.equal(cancelled.body.status, 'cancelled');

    const actors = new Set<string>(cancelled.body.transitions.map((t: { actor?: string }) => t.actor));
    const movements = await scope.em.execute<{ actor: string; operation_key: string }[]>(
      "select actor, operation_key from stock_movement where organization_id = ? and reference_type = 'transfer' and reference_id = ?",
      [scope.organizationId, id],
    );
    for (const m of movements) actors.add(m.actor);
    assert.deepEqual(
      cancelled.body.transitions.map((t: { status: string }) => t.status),
      ['reserved', 'in_transit', 'cancelled'],
    );
    assert.ok(
      movements.some((m) => m.operation_key.includes('/undo-ship')),
      'the cancel undid the shipment',
    );
    assert.equal(actors.size, 1, `one operator did every step: ${[...actors].join(', ')}`);
    assert.notEqual([...actors][0], 'transfer-workflow');
    assert.ok([...actors][0], 'the actor is named');
  });

  describe('reservations', () => {
    let api: GrpcHarness;
    before(async () => {
      api = await startGrpc({ taskQueue: rest.worker.taskQueue });
    });
    after(async () => {
      await api.close();
    });

    it("never allocate B's order in A's warehouse, even from a B stock row that points there", async function () {
      const { a, b, bWarehouseId } = await twoOrganizations();
      await receiveStock(b, a.variantId, bWarehouseId, 5);
      // Such a row is what the old code could write; the foreign keys now forbid it, so it is planted
      // with them switched off for this one insert, to prove the allocation query ignores it anyway.
      const planted = await plantForeignStockRow(b, a.variantId, a.warehouseId, 100);
      if (!planted) return this.skip();
      try {
        const named = await expectStatus(
          api.call('ReserveStock', {
            organization_id: b.organizationId,
            order_id: `named-${randomUUID()}`,
            items: [{ variant_id: a.variantId, quantity: 1, warehouse_id: a.warehouseId }],
          }),
          grpc.status.NOT_FOUND,
        );
        assert.match(named.details, /warehouse .* does not exist/);

        const reserved = await api.call<ReserveStockResponse__Output>('ReserveStock', {
          organization_id: b.organizationId,
          order_id: `any-${randomUUID()}`,
          items: [{ variant_id: a.variantId, quantity: 3 }],
        });
        assert.deepEqual(
          reserved.allocations.map((x) => ({ warehouse_id: x.warehouse_id, quantity: x.quantity })),
          [{ warehouse_id: bWarehouseId, quantity: 3 }],
        );
        const [row] = await b.em.execute<{ available: number; reserved: number }[]>(
          'select available, reserved from stock where id = ?',
          [planted],
        );
        assert.deepEqual(row, { available: 100, reserved: 0 }, 'the planted row was not touched');
      } finally {
        await b.em.execute(
          'delete from stock where id = ? and not exists (select 1 from stock_movement where stock_id = ?)',
          [planted, planted],
        );
      }
    });
  });

  describe('the database', () => {
    it("refuses a stock row, location or transfer of B that names A's warehouse", async () => {
      const { a, b, bWarehouseId } = await twoOrganizations();
      await assert.rejects(
        b.em.execute('insert into stock (organization_id, variant_id, warehouse_id) values (?, ?, ?)', [
          b.organizationId,
          randomUUID(),
          a.warehouseId,
        ]),
        foreignKeyViolation('stock_warehouse_foreign'),
      );
      await assert.rejects(
        b.em.execute('insert into location (organization_id, warehouse_id, code, name) values (?, ?, ?, ?)', [
          b.organizationId,
          a.warehouseId,
          'X-1',
          'x',
        ]),
        foreignKeyViolation('location_warehouse_foreign'),
      );
      const transfer = (origin: string, destination: string) =>
        b.em.execute(
          `insert into transfer (id, organization_id, origin_warehouse_id, destination_warehouse_id, status, lines, transitions, workflow_id)
           values (?, ?, ?, ?, 'reserved', '[]', '[]', 'test')`,
          [randomUUID(), b.organizationId, origin, destination],
        );
      await assert.rejects(
        transfer(a.warehouseId, bWarehouseId),
        foreignKeyViolation('transfer_origin_warehouse_foreign'),
      );
      await assert.rejects(
        transfer(bWarehouseId, a.warehouseId),
        foreignKeyViolation('transfer_destination_warehouse_foreign'),
      );
    });

    it("refuses a stock movement of B naming A's warehouse, stock row or bin, or a bin of another warehouse", async () => {
      const { a, b, bWarehouseId } = await twoOrganizations();
      await receiveStock(b, a.variantId, bWarehouseId, 5);
      const [aStock] = await a.scope.em.execute<{ id: string }[]>(
        'select id from stock where organization_id = ? and warehouse_id = ?',
        [a.organizationId, a.warehouseId],
      );
      const [bStock] = await b.em.execute<{ id: string }[]>(
        'select id from stock where organization_id = ? and warehouse_id = ?',
        [b.organizationId, bWarehouseId],
      );
      assert.ok(aStock && bStock, "A's and B's stock rows");
      const aBin = await createLocation(a.scope, { warehouseId: a.warehouseId, code: 'A-01', name: 'A bin' });
      const otherBWarehouse = await createWarehouse(b);
      const bBinElsewhere = await createLocation(b, { warehouseId: otherBWarehouse.id, code: 'B-01', name: 'B bin' });
      const movement = (fields: { stockId: string; warehouseId: string; locationId?: string }) =>
        b.em.execute(
          `insert into stock_movement (organization_id, stock_id, variant_id, warehouse_id, type,
             total_delta, available_delta, reserved_delta, damaged_delta, in_transit_delta, incoming_delta,
             total_after, available_after, reserved_after, damaged_after, in_transit_after, incoming_after,
             actor, operation_key, location_id)
           values (?, ?, ?, ?, 'found', 1, 1, 0, 0, 0, 0, 6, 6, 0, 0, 0, 0, 'test', ?, ?)`,
          [
            b.organizationId,
            fields.stockId,
            a.variantId,
            fields.warehouseId,
            `cross-${randomUUID()}`,
            fields.locationId ?? null,
          ],
        );

      await assert.rejects(
        movement({ stockId: bStock.id, warehouseId: a.warehouseId }),
        foreignKeyViolation('stock_movement_warehouse_foreign'),
      );
      await assert.rejects(
        movement({ stockId: aStock.id, warehouseId: bWarehouseId }),
        foreignKeyViolation('stock_movement_stock_foreign'),
      );
      await assert.rejects(
        movement({ stockId: bStock.id, warehouseId: bWarehouseId, locationId: aBin.id }),
        foreignKeyViolation('stock_movement_location_foreign'),
      );
      await assert.rejects(
        movement({ stockId: bStock.id, warehouseId: bWarehouseId, locationId: bBinElsewhere.id }),
        foreignKeyViolation('stock_movement_location_foreign'),
      );
    });
  });
});

/**
 * Inserts a stock row of B in A's warehouse with the foreign keys skipped for this transaction only
 * (session_replication_role = replica, which needs a superuser, as the test stack's default is).
 * Returns its id, or undefined (after saying why) on a server that does not allow it.
 */
async function plantForeignStockRow(
  b: TestOrganizationScope,
  variantId: string,
  warehouseId: string,
  available: number,
): Promise<string | undefined> {
  const em = testStack().observerOrm.em.fork();
  try {
    return await em.transactional(async (tx) => {
      await tx.execute('set local session_replication_role = replica');
      const [row] = await tx.execute<{ id: string }[]>(
        'insert into stock (organization_id, variant_id, warehouse_id, total, available) values (?, ?, ?, ?, ?) returning id',
        [b.organizationId, variantId, warehouseId, available, available],
      );
      return present(row, 'the planted stock row').id;
    });
  } catch (error) {
    if (/permission denied/i.test(String(error))) {
      console.warn('the test database user may not set session_replication_role: skipping the planted-row test');
      return undefined;
    }
    throw error;
  }
}
