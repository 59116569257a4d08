import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { startHttp, type HttpHarness } from '../helpers/http.ts';
import { expectStatus, startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { tokenFor } from '../helpers/stack.ts';

/** The malformed requests found by hand (issue #10), each a clear client error that changes nothing. */
describe('hostile input at the edges', () => {
  let http: HttpHarness;
  let grpcApi: GrpcHarness;
  let s: Awaited<ReturnType<typeof stockedOrganization>>;
  let auth: Record<string, string>;
  before(async () => {
    http = await startHttp();
    grpcApi = await startGrpc();
    s = await stockedOrganization(10);
    auth = { Authorization: `Bearer ${await tokenFor(s.organizationId)}` };
  });
  after(async () => {
    await http.close();
    await grpcApi.close();
  });

  async function raw(path: string, init: RequestInit = {}) {
    const response = await fetch(http.url + path, {
      ...init,
      headers: { ...auth, ...(init.headers as Record<string, string>) },
    });
    const body = (await response.json()) as { type: string; errors?: { field: string }[] };
    assert.match(response.headers.get('content-type') ?? '', /application\/problem\+json/);
    return { status: response.status, type: body.type.replace('urn:inventory:problem:', ''), body };
  }

  it('a NUL character in a body, a query or a path is a 400 naming the field', async () => {
    const adjustment = await raw('/api/v1/adjustments', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        variant_id: s.variantId,
        warehouse_id: s.warehouseId,
        reason_code: 'found',
        quantity: 1,
        note: 'bad\u0000note',
      }),
    });
    assert.equal(adjustment.status, 400);
    assert.deepEqual(
      adjustment.body.errors?.map((e) => e.field),
      ['body.note'],
    );
    assert.equal((await raw('/api/v1/warehouses?region=a%00b')).status, 400);
    assert.equal((await raw('/api/v1/stock/%00')).status, 400);
    assert.equal((await stockRow(s.scope, s.variantId, s.warehouseId))?.available, 10);
  });

  it('an oversized body is 413, a bogus charset or Content-Encoding 415, a non-JSON write 415', async () => {
    const post = (headers: Record<string, string>, body: string) =>
      raw('/api/v1/warehouses', { method: 'POST', headers, body });
    const tooLarge = await post(
      { 'Content-Type': 'application/json' },
      JSON.stringify({ name: 'x'.repeat(2_000_000) }),
    );
    assert.deepEqual([tooLarge.status, tooLarge.type], [413, 'PayloadTooLarge']);
    assert.equal((await post({ 'Content-Type': 'application/json; charset=klingon' }, '{}')).status, 415);
    assert.equal((await post({ 'Content-Type': 'application/json', 'Content-Encoding': 'bogus' }, '{}')).status, 415);
    assert.equal((await post({ 'Content-Type': 'text/plain' }, '{"code":"A","name":"B","region":"c"}')).status, 415);
    // A body compressed as it says is read as usual.
    const gzipped = await fetch(`${http.url}/api/v1/warehouses`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ code: `GZ-${randomUUID().slice(0, 6)}`, name: 'Zipped', region: 'north' })),
    });
    assert.equal(gzipped.status, 201);
  });

  it('a malformed percent-escape in a path is a 400', async () => {
    const response = await raw('/api/v1/stock/%E0%A4%A');
    assert.equal(response.status, 400);
  });

  it('a timestamp PostgreSQL cannot hold (year 0000) is a 400 over REST and INVALID_ARGUMENT over gRPC', async () => {
    assert.equal(
      (await raw(`/api/v1/stock/${s.variantId}/${s.warehouseId}/as-of?at=0000-01-01T00:00:00Z`)).status,
      400,
    );
    assert.equal((await raw('/api/v1/movements?from=0000-06-01T00:00:00Z')).status, 400);
    await expectStatus(
      grpcApi.call('GetStockHistory', {
        organization_id: s.organizationId,
        variant_id: s.variantId,
        from: '0000-01-01T00:00:00Z',
      }),
      grpc.status.INVALID_ARGUMENT,
    );
  });

  it('a line of more than 1,000,000 units is INVALID_ARGUMENT over gRPC, and holds nothing', async () => {
    const line = { variant_id: s.variantId, quantity: 1_000_001 };
    await expectStatus(
      grpcApi.call('ReserveStock', {
        organization_id: s.organizationId,
        order_id: `big-${randomUUID()}`,
        items: [line],
      }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectStatus(
      grpcApi.call('CheckAvailability', { organization_id: s.organizationId, items: [line] }),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.equal((await stockRow(s.scope, s.variantId, s.warehouseId))?.available, 10);
  });

  it('a NUL character in a gRPC request is INVALID_ARGUMENT naming the field, and holds nothing', async () => {
    const error = await expectStatus(
      grpcApi.call('ReserveStock', {
        organization_id: s.organizationId,
        order_id: 'order\u0000x',
        items: [{ variant_id: s.variantId, quantity: 1 }],
      }),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.match(error.details, /order_id/);
    assert.equal((await stockRow(s.scope, s.variantId, s.warehouseId))?.available, 10);
  });
});
