import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startHttp, type HttpHarness } from '../helpers/http.ts';

describe('the OpenAPI document', () => {
  let http: HttpHarness;
  before(async () => {
    http = await startHttp();
  });
  after(() => http.close());

  it('is OpenAPI 3.1, generated from the request schemas the routes validate with', async () => {
    const { status, body: doc } = await http.get('/openapi.json');
    assert.equal(status, 200);
    assert.equal(doc.openapi, '3.1.0');
    const create = doc.paths['/api/v1/warehouses'].post;
    const schema = create.requestBody.content['application/json'].schema;
    assert.deepEqual([...schema.required].sort(), ['code', 'name', 'region']);
    assert.equal(schema.additionalProperties, false, 'unknown fields are refused, and the document says so');
    assert.ok(create.parameters.some((p: { name: unknown }) => p.name === 'Idempotency-Key'));
    const listStock = doc.paths['/api/v1/stock'].get.parameters.map((p: { name: unknown }) => p.name);
    for (const name of ['variant_id', 'warehouse_id', 'low', 'limit', 'cursor'])
      assert.ok(listStock.includes(name), name);
    assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    assert.equal(doc.paths['/api/v1/stock'].get['x-permission'], 'stock:read');
    assert.deepEqual(doc.paths['/ready'].get.security, [], 'health and readiness need no token');
    assert.ok(doc.paths['/api/v1/transfers/{transfer_id}/receive'].post);
  });

  it('documents only routes that exist', async () => {
    const { body: doc } = await http.get('/openapi.json');
    const org = randomUUID();
    for (const [path, methods] of Object.entries<Record<string, unknown>>(doc.paths)) {
      for (const method of Object.keys(methods)) {
        const concrete = path.replace(/\{[^}]+\}/g, randomUUID());
        // A body every write refuses (unknown member), so probing a route starts no work.
        const response =
          method === 'get'
            ? await http.get(concrete, org)
            : await http.send(method.toUpperCase(), concrete, { organizationId: org, body: { probe: true } });
        assert.notEqual(
          response.body?.type,
          'urn:inventory:problem:RouteNotFound',
          `${method.toUpperCase()} ${path} is documented but not served`,
        );
      }
    }
  });

  it('serves interactive docs at /docs', async () => {
    const response = await fetch(`${http.url}/docs/`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /swagger-ui/i);
  });
});
