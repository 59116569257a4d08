import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { restWithWorker } from '../helpers/http.ts';
import { bearerFor, startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { createWarehouse, receiveStock } from '../helpers/fixtures.ts';
import { newOrganization, testStack, tokenFor } from '../helpers/stack.ts';
import { createDevIssuer } from '../../services/auth/dev-issuer.ts';
import { permissionsByRole, roles, type Permission } from '../../services/auth/access.ts';
import { rpcPermissions } from '../../services/grpc/authentication.ts';
import { loadInventoryProto } from '../../services/grpc/proto.ts';

/**
 * The cross-tenant and cross-role matrix, generated from the served surface: every operation in
 * /openapi.json and every RPC of the proto, each called with no token, an expired token, a token of
 * another issuer, another organization's token, a role without the permission, an unknown role, and
 * (where the call names a warehouse) a warehouse outside the token's scope. Each must be refused with
 * the documented status and change nothing in the organization it aimed at. A new endpoint or RPC
 * without an example request here fails the first test, so it is covered by construction.
 */

interface RestExample {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

/** The organization the calls aim at, with something of every kind a call can name. */
interface Target {
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

const restExamples = (t: Target): Record<string, RestExample> => ({
  'get /api/v1/warehouses': {},
  'post /api/v1/warehouses': { body: { code: `M-${randomUUID().slice(0, 6)}`, name: 'Matrix', region: 'north' } },
  'get /api/v1/warehouses/{warehouse_id}': { params: { warehouse_id: t.warehouseId } },
  'patch /api/v1/warehouses/{warehouse_id}': { params: { warehouse_id: t.warehouseId }, body: { name: 'Renamed by an intruder' } },
  'post /api/v1/warehouses/{warehouse_id}/deactivate': { params: { warehouse_id: t.emptyWarehouseId } },
  'post /api/v1/warehouses/{warehouse_id}/reactivate': { params: { warehouse_id: t.emptyWarehouseId } },
  'get /api/v1/locations': { query: { warehouse_id: t.warehouseId } },
  'post /api/v1/locations': { body: { warehouse_id: t.warehouseId, code: `BIN-${randomUUID().slice(0, 6)}`, name: 'Intruder bin' } },
  'get /api/v1/locations/{location_id}': { params: { location_id: t.locationId } },
  'patch /api/v1/locations/{location_id}': { params: { location_id: t.locationId }, body: { name: 'Renamed by an intruder' } },
  'delete /api/v1/locations/{location_id}': { params: { location_id: t.locationId } },
  'get /api/v1/stock': { query: { warehouse_id: t.warehouseId } },
  'get /api/v1/stock/{variant_id}': { params: { variant_id: t.variantId } },
  'get /api/v1/stock/{variant_id}/{warehouse_id}': { params: { variant_id: t.variantId, warehouse_id: t.warehouseId } },
  'patch /api/v1/stock/{variant_id}/{warehouse_id}/thresholds': { params: { variant_id: t.variantId, warehouse_id: t.warehouseId }, body: { min_stock: 99 } },
  'get /api/v1/stock/{variant_id}/{warehouse_id}/as-of': { params: { variant_id: t.variantId, warehouse_id: t.warehouseId }, query: { at: new Date().toISOString() } },
  'get /api/v1/movements': { query: { variant_id: t.variantId, warehouse_id: t.warehouseId } },
  'get /api/v1/movements/{movement_id}': { params: { movement_id: t.movementId } },
  'post /api/v1/adjustments': { body: { variant_id: t.variantId, warehouse_id: t.warehouseId, reason_code: 'receipt', quantity: 5 } },
  'get /api/v1/adjustments': { query: { warehouse_id: t.warehouseId } },
  'get /api/v1/adjustments/{adjustment_id}': { params: { adjustment_id: t.adjustmentId } },
  'post /api/v1/transfers': { body: { origin_warehouse_id: t.warehouseId, destination_warehouse_id: t.otherWarehouseId, items: [{ variant_id: t.variantId, quantity: 1 }] } },
  'get /api/v1/transfers': { query: { origin_warehouse_id: t.warehouseId } },
  'get /api/v1/transfers/{transfer_id}': { params: { transfer_id: t.transferId } },
  'post /api/v1/transfers/{transfer_id}/ship': { params: { transfer_id: t.transferId } },
  'post /api/v1/transfers/{transfer_id}/receive': { params: { transfer_id: t.transferId }, body: { lines: [{ variant_id: t.variantId, received: 1 }] } },
  'post /api/v1/transfers/{transfer_id}/cancel': { params: { transfer_id: t.transferId }, body: { reason: 'intruder' } },
  'post /api/v1/reconciliations': { body: { repair: true } },
  'get /api/v1/reconciliations': {},
  'get /api/v1/reconciliations/{reconciliation_id}': { params: { reconciliation_id: randomUUID() } },
  'get /api/v1/reconciliations/{reconciliation_id}/drifts': { params: { reconciliation_id: randomUUID() } },
});

const rpcExamples = (t: Target): Record<keyof typeof rpcPermissions, object> => ({
  CheckAvailability: { organization_id: t.organizationId, items: [{ variant_id: t.variantId, quantity: 1 }], preferred_warehouse_id: t.warehouseId },
  ReserveStock: { organization_id: t.organizationId, order_id: `intruder-${randomUUID()}`, items: [{ variant_id: t.variantId, quantity: 1, warehouse_id: t.warehouseId }] },
  ConfirmReservation: { organization_id: t.organizationId, order_id: t.orderId },
  ReleaseReservation: { organization_id: t.organizationId, order_id: t.orderId, reason: 'intruder' },
  ExtendReservation: { organization_id: t.organizationId, order_id: t.orderId, ttl_seconds: 7200 },
  FulfilReservation: { organization_id: t.organizationId, order_id: t.orderId },
  GetReservation: { organization_id: t.organizationId, order_id: t.orderId },
  GetWarehouseStock: { organization_id: t.organizationId, warehouse_id: t.warehouseId },
  GetStockHistory: { organization_id: t.organizationId, variant_id: t.variantId, warehouse_id: t.warehouseId },
});

/** Every table that holds an organization's state, as one fingerprint per table. */
async function stateOf(organizationId: string): Promise<Record<string, string>> {
  const tables = ['warehouse', 'location', 'stock', 'stock_movement', 'reservation', 'transfer', 'outbox_event', 'idempotency_key', 'reconciliation'];
  const em = testStack().orm.em.fork();
  const state: Record<string, string> = {};
  for (const table of tables) {
    const [row] = await em.execute<{ fingerprint: string }[]>(
      `select count(*) || ':' || md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as fingerprint from ${table} t where organization_id = ?`,
      [organizationId],
    );
    state[table] = row!.fingerprint;
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
  state.foreignRowsNamingItsWarehouses = String(mixed!.n);
  return state;
}

function fillPath(path: string, params: Record<string, string> = {}): string {
  return path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const value = params[name];
    if (!value) throw new Error(`the example for ${path} has no ${name}`);
    return value;
  });
}

/** A role that does not grant the permission (there is always one: the roles split the work). */
function roleWithout(permission: Permission | string): string {
  const role = roles.find((r) => !(permissionsByRole[r] as readonly string[]).includes(permission));
  if (!role) throw new Error(`every role grants ${permission}`);
  return role;
}

function roleWith(permission: Permission | string): string {
  const role = roles.find((r) => (permissionsByRole[r] as readonly string[]).includes(permission));
  if (!role) throw new Error(`no role grants ${permission}`);
  return role;
}

function namesWarehouse(example: RestExample | object): boolean {
  return /warehouse_id/.test(JSON.stringify(example));
}

describe('access matrix: every operation and RPC refuses the wrong caller and changes nothing', function () {
  this.timeout(180_000);
  const rest = restWithWorker();
  let grpcApi: GrpcHarness;
  let target: Target;
  const intruderOrganization = randomUUID();

  before(async () => {
    grpcApi = await startGrpc({ taskQueue: rest.worker.taskQueue });
    const scope = newOrganization();
    const [warehouse, other, empty] = [await createWarehouse(scope), await createWarehouse(scope), await createWarehouse(scope)];
    const variantId = randomUUID();
    await receiveStock(scope, variantId, warehouse.id, 50);
    const admin = { organizationId: scope.organizationId };
    const location = await rest.http.send('POST', '/api/v1/locations', { ...admin, body: { warehouse_id: warehouse.id, code: 'A-1', name: 'Aisle 1' } });
    const adjustment = await rest.http.send('POST', '/api/v1/adjustments', { ...admin, body: { variant_id: variantId, warehouse_id: warehouse.id, reason_code: 'found', quantity: 1 } });
    const transfer = await rest.http.send('POST', '/api/v1/transfers', { ...admin, body: { origin_warehouse_id: warehouse.id, destination_warehouse_id: other.id, items: [{ variant_id: variantId, quantity: 2 }] } });
    const orderId = `order-${randomUUID()}`;
    await grpcApi.call('ReserveStock', { organization_id: scope.organizationId, order_id: orderId, items: [{ variant_id: variantId, quantity: 3 }], ttl_seconds: 3600 });
    assert.deepEqual([location.status, adjustment.status, transfer.status], [201, 201, 201], 'the target organization is set up');
    target = {
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
  });
  after(() => grpcApi?.close());

  /** The callers every call is tried with, and what each must get. */
  async function intruders(permission: string, warehouseNamed: boolean) {
    const foreignIssuer = await createDevIssuer();
    const org = target.organizationId;
    const list: { who: string; token?: string; http: number; grpc: grpc.status; sameOrganization: boolean }[] = [
      { who: 'no token', http: 401, grpc: grpc.status.UNAUTHENTICATED, sameOrganization: true },
      { who: 'an expired token', token: await tokenFor(org, { issuedAt: Math.floor(Date.now() / 1000) - 7200, ttlSeconds: 600 }), http: 401, grpc: grpc.status.UNAUTHENTICATED, sameOrganization: true },
      { who: 'a token of another issuer', token: await foreignIssuer.mint({ subject: 'mallory', organizationId: org, roles: [...roles] }), http: 401, grpc: grpc.status.UNAUTHENTICATED, sameOrganization: true },
      { who: 'a token for another audience', token: await tokenFor(org, { audience: 'some-other-service' }), http: 401, grpc: grpc.status.UNAUTHENTICATED, sameOrganization: true },
      { who: `a role without ${permission} (${roleWithout(permission)})`, token: await tokenFor(org, { roles: [roleWithout(permission)] }), http: 403, grpc: grpc.status.PERMISSION_DENIED, sameOrganization: true },
      { who: 'an unknown role', token: await tokenFor(org, { roles: ['superuser'] }), http: 403, grpc: grpc.status.PERMISSION_DENIED, sameOrganization: true },
      { who: "another organization's admin", token: await tokenFor(intruderOrganization, { roles: [...roles] }), http: 0, grpc: grpc.status.PERMISSION_DENIED, sameOrganization: false },
    ];
    if (warehouseNamed) {
      list.push({
        who: 'a warehouse outside the token scope',
        token: await tokenFor(org, { roles: [roleWith(permission)], warehouses: [randomUUID()] }),
        http: 403,
        grpc: grpc.status.PERMISSION_DENIED,
        sameOrganization: true,
      });
    }
    return list;
  }

  it('has an example request for every documented operation and every RPC', async () => {
    const { body: doc } = await rest.http.get('/openapi.json');
    const documented = Object.entries<Record<string, { 'x-permission'?: string }>>(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).filter(([, op]) => op['x-permission']).map(([method]) => `${method} ${path}`),
    );
    assert.deepEqual(documented.filter((key) => !(key in restExamples(target))), [], 'add these operations to the matrix');
    assert.ok(documented.length >= 30, `only ${documented.length} protected operations documented`);
    const served = Object.keys(loadInventoryProto().inventory.v1.InventoryService.service);
    assert.deepEqual(served.filter((rpc) => !(rpc in rpcExamples(target))), [], 'add these RPCs to the matrix');
  });

  it('over REST: refused with the documented status, no data of the target shown, nothing changed', async () => {
    const { body: doc } = await rest.http.get('/openapi.json');
    const examples = restExamples(target);
    const before = await stateOf(target.organizationId);
    const canaries = [target.warehouseId, target.otherWarehouseId, target.locationId, target.transferId, target.movementId, target.adjustmentId];
    for (const [path, methods] of Object.entries<Record<string, { 'x-permission'?: string }>>(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const permission = op['x-permission'];
        if (!permission) continue;
        const example = examples[`${method} ${path}`]!;
        const url = fillPath(path, example.params) + (example.query ? `?${new URLSearchParams(example.query)}` : '');
        for (const intruder of await intruders(permission, namesWarehouse(example))) {
          const response = await fetch(rest.http.url + url, {
            method: method.toUpperCase(),
            headers: { 'Content-Type': 'application/json', ...(intruder.token ? { Authorization: `Bearer ${intruder.token}` } : {}) },
            body: example.body === undefined ? undefined : JSON.stringify(example.body),
          });
          const text = await response.text();
          const what = `${method.toUpperCase()} ${path} with ${intruder.who}: ${response.status} ${text.slice(0, 200)}`;
          if (intruder.sameOrganization) {
            assert.equal(response.status, intruder.http, what);
            assert.match(response.headers.get('content-type') ?? '', /application\/problem\+json/, what);
          } else {
            // Another organization sees its own (empty) world: never a 5xx, never the target's rows.
            assert.ok(response.status < 500, what);
            const named = new Set(Object.values(example.params ?? {}).concat(Object.values(example.query ?? {})));
            for (const id of canaries.filter((c) => !named.has(c) && !JSON.stringify(example.body ?? '').includes(c))) assert.ok(!text.includes(id), `${what} shows ${id}`);
          }
        }
      }
    }
    assert.deepEqual(await stateOf(target.organizationId), before, 'the target organization is unchanged');
  });

  it('over gRPC: refused with the documented code, and nothing changed', async () => {
    const examples = rpcExamples(target);
    const before = await stateOf(target.organizationId);
    for (const [rpc, request] of Object.entries(examples)) {
      const permission = rpcPermissions[rpc as keyof typeof rpcPermissions];
      for (const intruder of await intruders(permission, namesWarehouse(request))) {
        const metadata = intruder.token ? await bearerFor(request, intruder.token) : new grpc.Metadata();
        const outcome = await grpcApi.call(rpc as never, request, metadata).then(
          () => 'OK',
          (e: grpc.ServiceError) => grpc.status[e.code],
        );
        assert.equal(outcome, grpc.status[intruder.grpc], `${rpc} with ${intruder.who}`);
      }
    }
    assert.deepEqual(await stateOf(target.organizationId), before, 'the target organization is unchanged');
  });

  it("over gRPC, another organization's token naming the target's warehouse or order, without organization_id, finds nothing", async () => {
    const before = await stateOf(target.organizationId);
    const intruder = await bearerFor({}, await tokenFor(intruderOrganization, { roles: [...roles] }));
    for (const [rpc, request] of Object.entries(rpcExamples(target))) {
      const { organization_id: _dropped, ...withoutOrganization } = request as { organization_id: string };
      const outcome = await grpcApi.call<Record<string, unknown>>(rpc as never, withoutOrganization, intruder).then(
        (response) => (JSON.stringify(response).includes(target.warehouseId) ? 'LEAKED' : 'OK'),
        (e: grpc.ServiceError) => grpc.status[e.code],
      );
      assert.ok(['NOT_FOUND', 'OK'].includes(outcome), `${rpc}: ${outcome}`);
    }
    assert.deepEqual(await stateOf(target.organizationId), before, 'the target organization is unchanged');
  });

  it('lets the right caller through every operation and RPC (so the refusals above come from access control)', async () => {
    const { body: doc } = await rest.http.get('/openapi.json');
    const examples = restExamples(target);
    for (const [path, methods] of Object.entries<Record<string, { 'x-permission'?: string }>>(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const permission = op['x-permission'];
        if (!permission) continue;
        const example = examples[`${method} ${path}`]!;
        const token = await tokenFor(target.organizationId, { roles: [roleWith(permission)], warehouses: [target.warehouseId, target.otherWarehouseId, target.emptyWarehouseId] });
        const url = fillPath(path, example.params) + (example.query ? `?${new URLSearchParams(example.query)}` : '');
        const response = await fetch(rest.http.url + url, {
          method: method.toUpperCase(),
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
          body: example.body === undefined ? undefined : JSON.stringify(example.body),
        });
        assert.ok(![401, 403].includes(response.status) && response.status < 500, `${method.toUpperCase()} ${path}: ${response.status} ${(await response.text()).slice(0, 200)}`);
      }
    }
    for (const [rpc, request] of Object.entries(rpcExamples(target))) {
      const permission = rpcPermissions[rpc as keyof typeof rpcPermissions];
      const metadata = await bearerFor(request, await tokenFor(target.organizationId, { roles: [roleWith(permission)] }));
      const outcome = await grpcApi.call(rpc as never, request, metadata).then(
        () => 'OK',
        (e: grpc.ServiceError) => grpc.status[e.code],
      );
      assert.ok(!['UNAUTHENTICATED', 'PERMISSION_DENIED', 'INTERNAL'].includes(outcome), `${rpc}: ${outcome}`);
    }
  });
});
