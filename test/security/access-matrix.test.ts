import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { restWithWorker } from '../helpers/http.ts';
import { bearerFor, startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { tokenFor } from '../helpers/stack.ts';
import {
  fillPath,
  restExamples,
  rpcExamples,
  stateOf,
  targetOrganization,
  type RestExample,
  type Target,
} from '../helpers/surface.ts';
import { createDevIssuer } from '../../services/auth/dev-issuer.ts';
import { permissionsByRole, roles, type Permission } from '../../services/auth/access.ts';
import { rpcPermissions } from '../../services/grpc/authentication.ts';
import { loadInventoryProto } from '../../services/grpc/proto.ts';
import { present } from '../helpers/present.ts';

/**
 * The cross-tenant and cross-role matrix, generated from the served surface: every operation in
 * /openapi.json and every RPC of the proto, each called with no token, an expired token, a token of
 * another issuer, another organization's token, a role without the permission, an unknown role, and
 * (where the call names a warehouse) a warehouse outside the token's scope. Each must be refused with
 * the documented status and change nothing in the organization it aimed at. A new endpoint or RPC
 * without an example request here fails the first test, so it is covered by construction.
 */

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
    target = await targetOrganization(rest.http, grpcApi);
  });
  after(() => grpcApi?.close());

  /** The callers every call is tried with, and what each must get. */
  async function intruders(permission: string, warehouseNamed: boolean) {
    const foreignIssuer = await createDevIssuer();
    const org = target.organizationId;
    const list: { who: string; token?: string; http: number; grpc: grpc.status; sameOrganization: boolean }[] = [
      { who: 'no token', http: 401, grpc: grpc.status.UNAUTHENTICATED, sameOrganization: true },
      {
        who: 'an expired token',
        token: await tokenFor(org, { issuedAt: Math.floor(Date.now() / 1000) - 7200, ttlSeconds: 600 }),
        http: 401,
        grpc: grpc.status.UNAUTHENTICATED,
        sameOrganization: true,
      },
      {
        who: 'a token of another issuer',
        token: await foreignIssuer.mint({ subject: 'mallory', organizationId: org, roles: [...roles] }),
        http: 401,
        grpc: grpc.status.UNAUTHENTICATED,
        sameOrganization: true,
      },
      {
        who: 'a token for another audience',
        token: await tokenFor(org, { audience: 'some-other-service' }),
        http: 401,
        grpc: grpc.status.UNAUTHENTICATED,
        sameOrganization: true,
      },
      {
        who: `a role without ${permission} (${roleWithout(permission)})`,
        token: await tokenFor(org, { roles: [roleWithout(permission)] }),
        http: 403,
        grpc: grpc.status.PERMISSION_DENIED,
        sameOrganization: true,
      },
      {
        who: 'an unknown role',
        token: await tokenFor(org, { roles: ['superuser'] }),
        http: 403,
        grpc: grpc.status.PERMISSION_DENIED,
        sameOrganization: true,
      },
      {
        who: "another organization's admin",
        token: await tokenFor(intruderOrganization, { roles: [...roles] }),
        http: 0,
        grpc: grpc.status.PERMISSION_DENIED,
        sameOrganization: false,
      },
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
    const documented = Object.entries<Record<string, { 'x-permission'?: string }>>(doc.paths).flatMap(
      ([path, methods]) =>
        Object.entries(methods)
          .filter(([, op]) => op['x-permission'])
          .map(([method]) => `${method} ${path}`),
    );
    assert.deepEqual(
      documented.filter((key) => !(key in restExamples(target))),
      [],
      'add these operations to the matrix',
    );
    assert.ok(documented.length >= 30, `only ${documented.length} protected operations documented`);
    const served = Object.keys(loadInventoryProto().inventory.v1.InventoryService.service);
    assert.deepEqual(
      served.filter((rpc) => !(rpc in rpcExamples(target))),
      [],
      'add these RPCs to the matrix',
    );
  });

  it('over REST: refused with the documented status, no data of the target shown, nothing changed', async () => {
    const { body: doc } = await rest.http.get('/openapi.json');
    const examples = restExamples(target);
    const before = await stateOf(target.organizationId);
    const canaries = [
      target.warehouseId,
      target.otherWarehouseId,
      target.locationId,
      target.transferId,
      target.movementId,
      target.adjustmentId,
    ];
    for (const [path, methods] of Object.entries<Record<string, { 'x-permission'?: string }>>(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const permission = op['x-permission'];
        if (!permission) continue;
        const example = present(examples[`${method} ${path}`], `an example of ${method} ${path}`);
        const url = fillPath(path, example.params) + (example.query ? `?${new URLSearchParams(example.query)}` : '');
        for (const intruder of await intruders(permission, namesWarehouse(example))) {
          const response = await fetch(rest.http.url + url, {
            method: method.toUpperCase(),
            headers: {
              'Content-Type': 'application/json',
              ...(intruder.token ? { Authorization: `Bearer ${intruder.token}` } : {}),
            },
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
            for (const id of canaries.filter((c) => !named.has(c) && !JSON.stringify(example.body ?? '').includes(c)))
              assert.ok(!text.includes(id), `${what} shows ${id}`);
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
        const example = present(examples[`${method} ${path}`], `an example of ${method} ${path}`);
        const token = await tokenFor(target.organizationId, {
          roles: [roleWith(permission)],
          warehouses: [target.warehouseId, target.otherWarehouseId, target.emptyWarehouseId],
        });
        const url = fillPath(path, example.params) + (example.query ? `?${new URLSearchParams(example.query)}` : '');
        const response = await fetch(rest.http.url + url, {
          method: method.toUpperCase(),
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
          body: example.body === undefined ? undefined : JSON.stringify(example.body),
        });
        assert.ok(
          ![401, 403].includes(response.status) && response.status < 500,
          `${method.toUpperCase()} ${path}: ${response.status} ${(await response.text()).slice(0, 200)}`,
        );
      }
    }
    for (const [rpc, request] of Object.entries(rpcExamples(target))) {
      const permission = rpcPermissions[rpc as keyof typeof rpcPermissions];
      const metadata = await bearerFor(
        request,
        await tokenFor(target.organizationId, { roles: [roleWith(permission)] }),
      );
      const outcome = await grpcApi.call(rpc as never, request, metadata).then(
        () => 'OK',
        (e: grpc.ServiceError) => grpc.status[e.code],
      );
      assert.ok(!['UNAUTHENTICATED', 'PERMISSION_DENIED', 'INTERNAL'].includes(outcome), `${rpc}: ${outcome}`);
    }
  });
});
