import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startHttp, type HttpHarness } from '../helpers/http.ts';
import { newOrganization } from '../helpers/stack.ts';
import { receiveStock } from '../helpers/fixtures.ts';

describe('REST warehouses (operators)', () => {
  let http: HttpHarness;
  before(async () => {
    http = await startHttp();
  });
  after(() => http.close());

  it('creates, reads, updates, deactivates and reactivates a warehouse', async () => {
    const org = randomUUID();
    const created = await http.send('POST', '/api/v1/warehouses', {
      organizationId: org,
      body: { code: 'CALI-01', name: 'Cali', region: 'pacifico' },
    });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('location'), `/api/v1/warehouses/${created.body.warehouse_id}`);
    assert.deepEqual(
      { code: created.body.code, name: created.body.name, region: created.body.region, active: created.body.active },
      { code: 'CALI-01', name: 'Cali', region: 'pacifico', active: true },
    );
    const id = created.body.warehouse_id;

    assert.equal((await http.get(`/api/v1/warehouses/${id}`, org)).body.name, 'Cali');
    const renamed = await http.send('PATCH', `/api/v1/warehouses/${id}`, {
      organizationId: org,
      body: { name: 'Cali south' },
    });
    assert.equal(renamed.body.name, 'Cali south');
    assert.equal(renamed.body.code, 'CALI-01');

    assert.equal(
      (await http.send('POST', `/api/v1/warehouses/${id}/deactivate`, { organizationId: org })).body.active,
      false,
    );
    assert.deepEqual((await http.get('/api/v1/warehouses?active=true', org)).body.data, []);
    assert.equal(
      (await http.send('POST', `/api/v1/warehouses/${id}/reactivate`, { organizationId: org })).body.active,
      true,
    );
  });

  it('refuses a duplicate code, unknown or server-owned fields, and unknown ids, changing nothing', async () => {
    const org = randomUUID();
    await http.send('POST', '/api/v1/warehouses', { organizationId: org, body: { code: 'A', name: 'A', region: 'r' } });

    const duplicate = await http.send('POST', '/api/v1/warehouses', {
      organizationId: org,
      body: { code: 'A', name: 'Again', region: 'r' },
    });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body.type, 'urn:inventory:problem:WarehouseCodeTakenError');

    const serverOwned = await http.send('POST', '/api/v1/warehouses', {
      organizationId: org,
      body: { code: 'B', name: 'B', region: 'r', active: false, organization_id: randomUUID() },
    });
    assert.equal(serverOwned.status, 400);
    assert.deepEqual(serverOwned.body.errors.map((e: { field: string }) => e.field).sort(), [
      'active',
      'organization_id',
    ]);

    const missing = await http.send('POST', '/api/v1/warehouses', {
      organizationId: org,
      body: { code: 'with space' },
    });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.errors.map((e: { field: string }) => e.field).sort(), ['code', 'name', 'region']);

    assert.equal(
      (await http.send('PATCH', `/api/v1/warehouses/${randomUUID()}`, { organizationId: org, body: { name: 'x' } }))
        .status,
      404,
    );
    assert.equal((await http.get(`/api/v1/warehouses/${randomUUID()}`, org)).status, 404);
    assert.deepEqual(
      (await http.get('/api/v1/warehouses', org)).body.data.map((w: { code: unknown }) => w.code),
      ['A'],
    );
  });

  it('refuses to deactivate a warehouse that still holds stock', async () => {
    const scope = newOrganization();
    const created = await http.send('POST', '/api/v1/warehouses', {
      organizationId: scope.organizationId,
      body: { code: 'FULL', name: 'Full', region: 'r' },
    });
    await receiveStock(scope, randomUUID(), created.body.warehouse_id, 3);

    const refused = await http.send('POST', `/api/v1/warehouses/${created.body.warehouse_id}/deactivate`, {
      organizationId: scope.organizationId,
    });

    assert.equal(refused.status, 409);
    assert.equal(refused.body.type, 'urn:inventory:problem:WarehouseInUseError');
    assert.equal(refused.body.total, 3);
    assert.equal(
      (await http.get(`/api/v1/warehouses/${created.body.warehouse_id}`, scope.organizationId)).body.active,
      true,
    );
  });

  describe('Idempotency-Key', () => {
    it('answers a repeated request with the stored first response, and does it once', async () => {
      const org = randomUUID();
      const request = {
        organizationId: org,
        body: { code: 'IDEM', name: 'Idem', region: 'r' },
        headers: { 'Idempotency-Key': 'create-idem-1' },
      };

      const first = await http.send('POST', '/api/v1/warehouses', request);
      const second = await http.send('POST', '/api/v1/warehouses', request);

      assert.equal(first.status, 201);
      assert.equal(second.status, 201);
      assert.deepEqual(second.body, first.body);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.equal((await http.get('/api/v1/warehouses', org)).body.data.length, 1);
    });

    it('refuses the same key with another body (422), and replays a stored error as it was', async () => {
      const org = randomUUID();
      const headers = { 'Idempotency-Key': 'key-reuse' };
      await http.send('POST', '/api/v1/warehouses', {
        organizationId: org,
        body: { code: 'K1', name: 'K', region: 'r' },
        headers,
      });

      const reused = await http.send('POST', '/api/v1/warehouses', {
        organizationId: org,
        body: { code: 'K2', name: 'K', region: 'r' },
        headers,
      });
      assert.equal(reused.status, 422);
      assert.equal(reused.body.type, 'urn:inventory:problem:IdempotencyKeyReused');

      const invalid = {
        organizationId: org,
        body: { code: 'bad code', name: 'K', region: 'r' },
        headers: { 'Idempotency-Key': 'stored-error' },
      };
      const firstError = await http.send('POST', '/api/v1/warehouses', invalid);
      const replayedError = await http.send('POST', '/api/v1/warehouses', invalid);
      assert.equal(firstError.status, 400);
      assert.equal(replayedError.status, 400);
      assert.deepEqual(replayedError.body, firstError.body);
    });

    it('answers 409 while the first request with the key is still being processed', async () => {
      const scope = newOrganization();
      // A claim as a request in progress leaves it (inserted directly: the race is otherwise a matter of microseconds).
      await scope.em.execute(
        "insert into idempotency_key (organization_id, key, request_hash, state) values (?, 'busy', 'x', 'in_flight')",
        [scope.organizationId],
      );
      const hash = (await import('node:crypto'))
        .createHash('sha256')
        .update(JSON.stringify(['POST', '/api/v1/warehouses', { code: 'BUSY', name: 'B', region: 'r' }]))
        .digest('hex');
      await scope.em.execute("update idempotency_key set request_hash = ? where organization_id = ? and key = 'busy'", [
        hash,
        scope.organizationId,
      ]);

      const response = await http.send('POST', '/api/v1/warehouses', {
        organizationId: scope.organizationId,
        body: { code: 'BUSY', name: 'B', region: 'r' },
        headers: { 'Idempotency-Key': 'busy' },
      });

      assert.equal(response.status, 409);
      assert.equal(response.body.type, 'urn:inventory:problem:IdempotencyKeyInFlight');
      assert.deepEqual((await http.get('/api/v1/warehouses', scope.organizationId)).body.data, []);
    });
  });
});
