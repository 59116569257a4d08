import { randomUUID } from 'node:crypto';
import type { rpcPermissions } from '../../services/grpc/authentication.ts';
import type { HttpHarness } from './http.ts';
import type { GrpcHarness } from './grpc.ts';
import { createWarehouse, receiveStock } from './fixtures.ts';
import { newOrganization, testStack } from './stack.ts';
import { present } from './present.ts';

/**
 * The served surface as tests drive it: an example request for every documented REST operation and
 * every RPC, aimed at an organization that has something of every kind a call can name. The access
 * matrix and the fuzz test generate their calls from these; a new operation without an example fails
 * them both.
 */
export interface RestExample {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

/** The organization the calls aim at, with something of every kind a call can name. */
export interface Target {
  organizationId: string;
  warehouseId: string;
  otherWarehouseId: string;
  emptyWarehouseId: string;
  variantId: string;
  locationId: string;
  transferId: string;
  adjustmentId: string;
  movementId: string;
  orderId: string;
}

export const restExamples = (t: Target): Record<string, RestExample> => ({
  'get /api/v1/warehouses': {},
  'post /api/v1/warehouses': { body: { code: `M-${randomUUID().slice(0, 6)}`, name: 'Matrix', region: 'north' } },
  'get /api/v1/warehouses/{warehouse_id}': { params: { warehouse_id: t.warehouseId } },
  'patch /api/v1/warehouses/{warehouse_id}': {
    params: { warehouse_id: t.warehouseId },
    body: { name: 'Renamed by an intruder' },
  },
  'post /api/v1/warehouses/{warehouse_id}/deactivate': { params: { warehouse_id: t.emptyWarehouseId } },
  'post /api/v1/warehouses/{warehouse_id}/reactivate': { params: { warehouse_id: t.emptyWarehouseId } },
  'get /api/v1/locations': { query: { warehouse_id: t.warehouseId } },
  'post /api/v1/locations': {
    body: { warehouse_id: t.warehouseId, code: `BIN-${randomUUID().slice(0, 6)}`, name: 'Intruder bin' },
  },
  'get /api/v1/locations/{location_id}': { params: { location_id: t.locationId } },
  'patch /api/v1/locations/{location_id}': {
    params: { location_id: t.locationId },
    body: { name: 'Renamed by an intruder' },
  },
  'delete /api/v1/locations/{location_id}': { params: { location_id: t.locationId } },
  'get /api/v1/stock': { query: { warehouse_id: t.warehouseId } },
  'get /api/v1/stock/{variant_id}': { params: { variant_id: t.variantId } },
  'get /api/v1/stock/{variant_id}/{warehouse_id}': { params: { variant_id: t.variantId, warehouse_id: t.warehouseId } },
  'patch /api/v1/stock/{variant_id}/{warehouse_id}/thresholds': {
    params: { variant_id: t.variantId, warehouse_id: t.warehouseId },
    body: { min_stock: 99 },
  },
  'get /api/v1/stock/{variant_id}/{warehouse_id}/as-of': {
    params: { variant_id: t.variantId, warehouse_id: t.warehouseId },
    query: { at: new Date().toISOString() },
  },
  'get /api/v1/movements': { query: { variant_id: t.variantId, warehouse_id: t.warehouseId } },
  'get /api/v1/movements/{movement_id}': { params: { movement_id: t.movementId } },
  'post /api/v1/adjustments': {
    body: { variant_id: t.variantId, warehouse_id: t.warehouseId, reason_code: 'receipt', quantity: 5 },
  },
  'get /api/v1/adjustments': { query: { warehouse_id: t.warehouseId } },
  'get /api/v1/adjustments/{adjustment_id}': { params: { adjustment_id: t.adjustmentId } },
  'post /api/v1/transfers': {
    body: {
      origin_warehouse_id: t.warehouseId,
      destination_warehouse_id: t.otherWarehouseId,
      items: [{ variant_id: t.variantId, quantity: 1 }],
    },
  },
  'get /api/v1/transfers': { query: { origin_warehouse_id: t.warehouseId } },
  'get /api/v1/transfers/{transfer_id}': { params: { transfer_id: t.transferId } },
  'post /api/v1/transfers/{transfer_id}/ship': { params: { transfer_id: t.transferId } },
  'post /api/v1/transfers/{transfer_id}/receive': {
    params: { transfer_id: t.transferId },
    body: { lines: [{ variant_id: t.variantId, received: 1 }] },
  },
  'post /api/v1/transfers/{transfer_id}/cancel': {
    params: { transfer_id: t.transferId },
    body: { reason: 'intruder' },
  },
  'post /api/v1/reconciliations': { body: { repair: true } },
  'get /api/v1/reconciliations': {},
  'get /api/v1/reconciliations/{reconciliation_id}': { params: { reconciliation_id: randomUUID() } },
  'get /api/v1/reconciliations/{reconciliation_id}/drifts': { params: { reconciliation_id: randomUUID() } },
});

export const rpcExamples = (t: Target): Record<keyof typeof rpcPermissions, object> => ({
  CheckAvailability: {
    organization_id: t.organizationId,
    items: [{ variant_id: t.variantId, quantity: 1 }],
    preferred_warehouse_id: t.warehouseId,
  },
  ReserveStock: {
    organization_id: t.organizationId,
    order_id: `intruder-${randomUUID()}`,
    items: [{ variant_id: t.variantId, quantity: 1, warehouse_id: t.warehouseId }],
  },
  ConfirmReservation: { organization_id: t.organizationId, order_id: t.orderId },
  ReleaseReservation: { organization_id: t.organizationId, order_id: t.orderId, reason: 'intruder' },
  ExtendReservation: { organization_id: t.organizationId, order_id: t.orderId, ttl_seconds: 7200 },
  FulfilReservation: { organization_id: t.organizationId, order_id: t.orderId },
  GetReservation: { organization_id: t.organizationId, order_id: t.orderId },
  GetWarehouseStock: { organization_id: t.organizationId, warehouse_id: t.warehouseId },
  GetStockHistory: { organization_id: t.organizationId, variant_id: t.variantId, warehouse_id: t.warehouseId },
});

/** A fresh organization holding a warehouse with stock, two more warehouses, a bin, an adjustment, a transfer and a held order. */
export async function targetOrganization(http: HttpHarness, grpcApi: GrpcHarness): Promise<Target> {
  const scope = newOrganization();
  const [warehouse, other, empty] = [
    await createWarehouse(scope),
    await createWarehouse(scope),
    await createWarehouse(scope),
  ];
  const variantId = randomUUID();
  await receiveStock(scope, variantId, warehouse.id, 50);
  const admin = { organizationId: scope.organizationId };
  const location = await http.send('POST', '/api/v1/locations', {
    ...admin,
    body: { warehouse_id: warehouse.id, code: 'A-1', name: 'Aisle 1' },
  });
  const adjustment = await http.send('POST', '/api/v1/adjustments', {
    ...admin,
    body: { variant_id: variantId, warehouse_id: warehouse.id, reason_code: 'found', quantity: 1 },
  });
  const transfer = await http.send('POST', '/api/v1/transfers', {
    ...admin,
    body: {
      origin_warehouse_id: warehouse.id,
      destination_warehouse_id: other.id,
      items: [{ variant_id: variantId, quantity: 2 }],
    },
  });
  const orderId = `order-${randomUUID()}`;
  await grpcApi.call('ReserveStock', {
    organization_id: scope.organizationId,
    order_id: orderId,
    items: [{ variant_id: variantId, quantity: 3 }],
    ttl_seconds: 3600,
  });
  if ([location.status, adjustment.status, transfer.status].some((status) => status !== 201))
    throw new Error('the target organization could not be set up');
  return {
    organizationId: scope.organizationId,
    warehouseId: warehouse.id,
    otherWarehouseId: other.id,
    emptyWarehouseId: empty.id,
    variantId,
    locationId: location.body.location_id,
    transferId: transfer.body.transfer_id,
    adjustmentId: adjustment.body.adjustment_id,
    movementId: adjustment.body.movement.movement_id,
    orderId,
  };
}

/** Every table that holds an organization's state, as one fingerprint per table, plus rows of others naming its warehouses. */
export async function stateOf(organizationId: string): Promise<Record<string, string>> {
  const tables = [
    'warehouse',
    'location',
    'stock',
    'stock_movement',
    'reservation',
    'transfer',
    'outbox_event',
    'idempotency_key',
    'reconciliation',
  ];
  const em = testStack().observerOrm.em.fork();
  const state: Record<string, string> = {};
  for (const table of tables) {
    const [row] = await em.execute<{ fingerprint: string }[]>(
      `select count(*) || ':' || md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as fingerprint from ${table} t where organization_id = ?`,
      [organizationId],
    );
    state[table] = present(row, `the fingerprint of ${table}`).fingerprint;
  }
  // Rows of any other organization that point at this one's warehouses: a cross-tenant write.
  const [mixed] = await em.execute<{ n: number }[]>(
    `select count(*)::int as n from (
       select warehouse_id from stock where organization_id <> ? union all
       select warehouse_id from stock_movement where organization_id <> ? union all
       select warehouse_id from location where organization_id <> ? union all
       select origin_warehouse_id from transfer where organization_id <> ? union all
       select destination_warehouse_id from transfer where organization_id <> ?
     ) named where warehouse_id in (select id from warehouse where organization_id = ?)`,
    [organizationId, organizationId, organizationId, organizationId, organizationId, organizationId],
  );
  state.foreignRowsNamingItsWarehouses = String(present(mixed, 'the count').n);
  return state;
}

/** The example's path with its parameters filled in. */
export function fillPath(path: string, params: Record<string, string> = {}): string {
  return path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const value = params[name];
    if (!value) throw new Error(`the example for ${path} has no ${name}`);
    return value;
  });
}
