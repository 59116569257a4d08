import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { demo, seedDemoData } from '../../scripts/demo-data.ts';
import type { AvailabilityResponse__Output } from '../../services/grpc/generated/inventory/v1/AvailabilityResponse.ts';
import type { WarehouseStockResponse__Output } from '../../services/grpc/generated/inventory/v1/WarehouseStockResponse.ts';
import type { HistoryResponse__Output } from '../../services/grpc/generated/inventory/v1/HistoryResponse.ts';
import { expectStatus, startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { testStack, newOrganization } from '../helpers/stack.ts';
import { createWarehouse, receiveStock } from '../helpers/fixtures.ts';
import { present } from '../helpers/present.ts';
import { applyOperation } from '../../services/inventory/stock/ledger.ts';
import { createAdjustment } from '../../services/inventory/stock/adjustments.ts';

const org = demo.organizationId;
const redS = present(demo.variants[0], 'the demo variant TSHIRT-RED-S');
const redL = present(demo.variants[2], 'the demo variant TSHIRT-RED-L');
const blueL = present(demo.variants[5], 'the demo variant TSHIRT-BLUE-L');
const { main, north, coast } = demo.warehouses;

describe('gRPC stock reads on the demo data', () => {
  let grpcApi: GrpcHarness;
  before(async () => {
    await seedDemoData(testStack().orm.em.fork());
    grpcApi = await startGrpc();
  });
  after(() => grpcApi.close());

  describe('CheckAvailability', () => {
    it('answers from the preferred warehouse when it has enough', async () => {
      const response = await grpcApi.call<AvailabilityResponse__Output>('CheckAvailability', {
        organization_id: org,
        items: [{ variant_id: redS.id, quantity: 30 }],
        preferred_warehouse_id: north.id,
      });
      assert.deepEqual(response, {
        all_available: true,
        results: [{ variant_id: redS.id, requested: 30, available: 40, sufficient: true, warehouse_id: north.id }],
      });
    });

    it('falls back to the warehouse with the most available, and reports a shortfall per item', async () => {
      const response = await grpcApi.call<AvailabilityResponse__Output>('CheckAvailability', {
        organization_id: org,
        items: [
          { variant_id: redL.id, quantity: 10 },
          { variant_id: blueL.id, quantity: 5 },
          { variant_id: randomUUID(), quantity: 1 },
        ],
        preferred_warehouse_id: north.id,
      });
      assert.equal(response.all_available, false);
      assert.deepEqual(response.results[0], {
        variant_id: redL.id,
        requested: 10,
        available: 15,
        sufficient: true,
        warehouse_id: main.id,
      });
      assert.deepEqual(response.results[1], {
        variant_id: blueL.id,
        requested: 5,
        available: 4,
        sufficient: false,
        warehouse_id: main.id,
      });
      const unknownVariant = present(response.results[2], 'a result for the unknown variant');
      assert.equal(unknownVariant.available, 0);
      assert.equal(unknownVariant.warehouse_id, '');
    });

    it('rejects malformed input with INVALID_ARGUMENT naming each field', async () => {
      const error = await expectStatus(
        grpcApi.call('CheckAvailability', { organization_id: org, items: [{ variant_id: 'red', quantity: 0 }] }),
        grpc.status.INVALID_ARGUMENT,
      );
      assert.match(error.details, /items\[0\]\.variant_id: variant_id must be a UUID/);
      assert.match(error.details, /items\[0\]\.quantity: quantity must be at least 1/);
      await expectStatus(
        grpcApi.call('CheckAvailability', { organization_id: org, items: [] }),
        grpc.status.INVALID_ARGUMENT,
      );
    });

    it('answers NOT_FOUND for an unknown preferred warehouse', async () => {
      const error = await expectStatus(
        grpcApi.call('CheckAvailability', {
          organization_id: org,
          items: [{ variant_id: redS.id, quantity: 1 }],
          preferred_warehouse_id: randomUUID(),
        }),
        grpc.status.NOT_FOUND,
      );
      assert.match(error.details, /warehouse .* does not exist/);
    });
  });

  describe('GetWarehouseStock', () => {
    it('pages through every row of a warehouse exactly once', async () => {
      const seen: string[] = [];
      let token = '';
      let pages = 0;
      do {
        const page = await grpcApi.call<WarehouseStockResponse__Output>('GetWarehouseStock', {
          organization_id: org,
          warehouse_id: coast.id,
          page_size: 4,
          page_token: token,
        });
        assert.ok(page.items.every((i) => i.warehouse_id === coast.id));
        seen.push(...page.items.map((i) => i.variant_id));
        token = page.next_page_token;
        pages += 1;
      } while (token);
      const expected = demo.variants
        .filter((v) => v.stock.coast !== undefined)
        .map((v) => v.id)
        .sort();
      assert.deepEqual(seen, expected);
      assert.equal(pages, Math.ceil(expected.length / 4));
    });

    it('returns the quantities (under their v1.1 and deprecated v1.0 names) and thresholds of each row', async () => {
      const page = await grpcApi.call<WarehouseStockResponse__Output>('GetWarehouseStock', {
        organization_id: org,
        warehouse_id: main.id,
        page_size: 1,
        page_token: '',
      });
      const [row] = page.items;
      assert.ok(row, 'a row on the first page');
      assert.equal(row.variant_id, redS.id);
      assert.equal(row.available, 120);
      assert.equal(row.total, 120);
      assert.equal(row.available_quantity, 120);
      assert.equal(row.total_quantity, 120);
      assert.equal(row.min_stock, 20);
      assert.equal(row.reorder_point, 30);
      assert.equal(row.max_stock, 200);
    });

    it('answers NOT_FOUND for an unknown warehouse and INVALID_ARGUMENT for a bad page token or size', async () => {
      await expectStatus(
        grpcApi.call('GetWarehouseStock', { organization_id: org, warehouse_id: randomUUID() }),
        grpc.status.NOT_FOUND,
      );
      await expectStatus(
        grpcApi.call('GetWarehouseStock', { organization_id: org, warehouse_id: main.id, page_token: 'not-a-token' }),
        grpc.status.INVALID_ARGUMENT,
      );
      await expectStatus(
        grpcApi.call('GetWarehouseStock', { organization_id: org, warehouse_id: main.id, page_size: 501 }),
        grpc.status.INVALID_ARGUMENT,
      );
    });
  });

  describe('GetStockHistory', () => {
    it("lists a variant's movements newest first, optionally for one warehouse and a time range", async () => {
      const scope = newOrganization();
      const warehouse = await createWarehouse(scope);
      const other = await createWarehouse(scope);
      const variantId = randomUUID();
      await receiveStock(scope, variantId, warehouse.id, 5);
      const between = new Date();
      await receiveStock(scope, variantId, warehouse.id, 7);
      await receiveStock(scope, variantId, other.id, 9);

      const all = await grpcApi.call<HistoryResponse__Output>('GetStockHistory', {
        organization_id: scope.organizationId,
        variant_id: variantId,
      });
      assert.deepEqual(
        all.movements.map((m) => m.deltas?.available),
        [9, 7, 5],
      );
      assert.equal(present(all.movements[1], 'the second movement').after?.available, 12);

      const oneWarehouse = await grpcApi.call<HistoryResponse__Output>('GetStockHistory', {
        organization_id: scope.organizationId,
        variant_id: variantId,
        warehouse_id: warehouse.id,
        page_size: 1,
      });
      assert.equal(present(oneWarehouse.movements[0], 'a movement on the first page').deltas?.available, 7);
      const next = await grpcApi.call<HistoryResponse__Output>('GetStockHistory', {
        organization_id: scope.organizationId,
        variant_id: variantId,
        warehouse_id: warehouse.id,
        page_size: 1,
        page_token: oneWarehouse.next_page_token,
      });
      assert.equal(present(next.movements[0], 'a movement on the next page').deltas?.available, 5);
      assert.equal(next.next_page_token, '');

      const before = await grpcApi.call<HistoryResponse__Output>('GetStockHistory', {
        organization_id: scope.organizationId,
        variant_id: variantId,
        to: between.toISOString(),
      });
      assert.deepEqual(
        before.movements.map((m) => m.deltas?.available),
        [5],
      );
    });

    it("names each movement's order, adjustment reason code and purchase order, empty when there is none", async () => {
      const scope = newOrganization();
      const warehouse = await createWarehouse(scope);
      const variantId = randomUUID();
      await receiveStock(scope, variantId, warehouse.id, 5);
      await scope.transaction((tx) =>
        applyOperation(tx, {
          operationKey: `test/${variantId}/hold`,
          actor: 'test',
          orderId: 'order-77',
          changes: [{ variantId, warehouseId: warehouse.id, type: 'reserve', deltas: { available: -1, reserved: 1 } }],
        }),
      );
      await createAdjustment(scope, {
        variantId,
        warehouseId: warehouse.id,
        reasonCode: 'found',
        quantity: 2,
        note: 'shelf B',
        actor: 'test',
      });

      const history = await grpcApi.call<HistoryResponse__Output>('GetStockHistory', {
        organization_id: scope.organizationId,
        variant_id: variantId,
      });
      assert.deepEqual(
        history.movements.map((m) => [m.type, m.order_id, m.reason_code, m.purchase_order_id, m.reason]),
        [
          ['found', '', 'found', '', 'shelf B'],
          ['reserve', 'order-77', '', '', ''],
          ['receipt', '', '', '', ''],
        ],
      );
    });

    it('answers NOT_FOUND for a variant with no stock and INVALID_ARGUMENT for a bad time range', async () => {
      await expectStatus(
        grpcApi.call('GetStockHistory', { organization_id: org, variant_id: randomUUID() }),
        grpc.status.NOT_FOUND,
      );
      const error = await expectStatus(
        grpcApi.call('GetStockHistory', {
          organization_id: org,
          variant_id: redS.id,
          from: '2026-02-01T00:00:00Z',
          to: '2026-01-01T00:00:00Z',
        }),
        grpc.status.INVALID_ARGUMENT,
      );
      assert.match(error.details, /from must be before to/);
      await expectStatus(
        grpcApi.call('GetStockHistory', { organization_id: org, variant_id: redS.id, from: 'yesterday' }),
        grpc.status.INVALID_ARGUMENT,
      );
    });
  });

  it('serves reflection and the standard health service', async () => {
    const health = await import('grpc-health-check');
    const protoLoader = await import('@grpc/proto-loader');
    const definition = protoLoader.loadSync(health.protoPath, { enums: String });
    const healthProto = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: {
        health: {
          v1: {
            Health: new (
              address: string,
              credentials: grpc.ChannelCredentials,
            ) => grpc.Client & {
              Check(request: { service: string }, callback: (e: Error | null, r: { status: string }) => void): void;
            };
          };
        };
      };
    };
    const client = new healthProto.grpc.health.v1.Health(grpcApi.address, grpc.credentials.createInsecure());
    const status = await new Promise<{ status: string }>((resolve, reject) =>
      client.Check({ service: 'inventory.v1.InventoryService' }, (e, r) => (e ? reject(e) : resolve(r))),
    );
    client.close();
    assert.equal(status.status, 'SERVING');

    const reflection = await listServicesByReflection(grpcApi.address);
    assert.ok(reflection.includes('inventory.v1.InventoryService'), `reflection listed ${reflection.join(', ')}`);
    assert.ok(reflection.includes('grpc.health.v1.Health'));
  });
});

/** Asks the server's reflection service (v1) which services it serves, as grpcurl does. */
async function listServicesByReflection(address: string): Promise<string[]> {
  const protoLoader = await import('@grpc/proto-loader');
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const reflectionProto = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
  const definition = protoLoader.loadSync(reflectionProto, { keepCase: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: {
      reflection: {
        v1: {
          ServerReflection: new (
            address: string,
            credentials: grpc.ChannelCredentials,
          ) => grpc.Client & { ServerReflectionInfo(): unknown };
        };
      };
    };
  };
  const client = new loaded.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure());
  const stream = client.ServerReflectionInfo() as grpc.ClientDuplexStream<
    object,
    { list_services_response?: { service: { name: string }[] } }
  >;
  const names = await new Promise<string[]>((resolve, reject) => {
    stream.once('data', (response) =>
      resolve(response.list_services_response?.service.map((s: { name: string }) => s.name) ?? []),
    );
    stream.once('error', reject);
    stream.write({ list_services: '' });
  });
  stream.end();
  client.close();
  return names;
}
