import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createCatalogClient, type CatalogClient } from '../../services/catalog/catalog-client.ts';
import { createPurchasingEventHandlers } from '../../services/messaging/purchasing-events.ts';
import { startFakeCatalog, type FakeCatalog } from '../helpers/fake-catalog.ts';
import { startHttp, type HttpHarness } from '../helpers/http.ts';
import { createWarehouse, stockRow } from '../helpers/fixtures.ts';
import { newOrganization, testStack } from '../helpers/stack.ts';
import { present } from '../helpers/present.ts';

const active = { exists: true, is_active: true, tracks_inventory: true, sku: 'TSHIRT-M', product_name: 'T-shirt' };

// The client on its own (cache, deadline, retries, breaker) is unit-tested in test/unit/catalog/catalog-client.test.ts.
describe('the catalog check in front of receipts and purchase orders (a fake catalog gRPC server)', function () {
  this.timeout(60_000);
  let catalog: FakeCatalog;
  let client: CatalogClient;

  beforeEach(async () => {
    catalog = await startFakeCatalog();
    client = createCatalogClient({
      address: catalog.address,
      logger: testStack().logger,
      deadlineMs: 150,
      cacheTtlMs: 300,
      breaker: { consecutiveFailures: 4, halfOpenAfterMs: 1000 },
      retry: { maxAttempts: 3 },
    });
  });
  afterEach(async () => {
    client.close();
    await catalog.stop();
  });

  describe('in front of stock creation', () => {
    let http: HttpHarness;
    beforeEach(async () => {
      http = await startHttp({ catalog: client });
    });
    afterEach(() => http.close());

    async function receipt(organizationId: string, warehouseId: string, variantId: string) {
      return await http.send('POST', '/api/v1/adjustments', {
        organizationId,
        body: { variant_id: variantId, warehouse_id: warehouseId, reason_code: 'receipt', quantity: 5 },
      });
    }

    it('refuses a receipt of a variant the catalog does not know, or that is inactive or untracked (422), and creates nothing', async () => {
      const scope = newOrganization();
      const warehouse = await createWarehouse(scope);
      const [unknown, inactive, untracked, known] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      catalog.variants.set(inactive, { ...active, is_active: false });
      catalog.variants.set(untracked, { ...active, tracks_inventory: false });
      catalog.variants.set(known, active);
      for (const [variant, type] of [
        [unknown, 'VariantNotInCatalogError'],
        [inactive, 'VariantInactiveError'],
        [untracked, 'VariantNotTrackedError'],
      ] as const) {
        const refused = await receipt(scope.organizationId, warehouse.id, variant);
        assert.equal(refused.status, 422, type);
        assert.equal(refused.body.type, `urn:inventory:problem:${type}`);
        assert.equal(refused.body.variant_id, variant);
        assert.equal(await stockRow(scope, variant, warehouse.id), undefined, 'no stock row');
      }
      assert.equal((await receipt(scope.organizationId, warehouse.id, known)).status, 201);
      const calls = catalog.calls;
      assert.equal((await receipt(scope.organizationId, warehouse.id, known)).status, 201);
      assert.equal(catalog.calls, calls, 'a variant with stock is not asked again');
    });

    it('while the catalog is down, /ready says degraded and receipts of new variants go through', async () => {
      const scope = newOrganization();
      const warehouse = await createWarehouse(scope);
      const ready = await http.get('/ready');
      assert.equal(ready.body.checks.catalog.status, 'up');

      await catalog.stop();
      // Each lookup tries three times; the fourth failed attempt opens the breaker.
      for (let i = 0; i < 2; i += 1)
        assert.equal((await receipt(scope.organizationId, warehouse.id, randomUUID())).status, 201);
      const degraded = await http.get('/ready');
      assert.equal(degraded.status, 200);
      assert.equal(degraded.body.status, 'degraded');
      assert.equal(degraded.body.checks.catalog.status, 'down');
      assert.equal(degraded.body.checks.catalog.breaker, 'open');
      const unchecked = randomUUID();
      assert.equal(
        (await receipt(scope.organizationId, warehouse.id, unchecked)).status,
        201,
        'graceful degradation: let through',
      );
      assert.equal(present(await stockRow(scope, unchecked, warehouse.id), 'the stock row').available, 5);
    });
  });

  it('refuses a purchase order naming a variant the catalog does not know: recorded, not retried', async () => {
    const { orm } = testStack();
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const [known, unknown] = [randomUUID(), randomUUID()];
    catalog.variants.set(known, active);
    const handlers = createPurchasingEventHandlers({ orm, catalog: client, logger: testStack().logger });
    const eventId = randomUUID();
    const outcome = await present(handlers['purchase_order.created'], 'the purchase order handler')(
      {
        event: 'purchase_order.created',
        event_id: eventId,
        organization_id: scope.organizationId,
        data: {
          purchase_order_id: 'PO-1',
          warehouse_id: warehouse.id,
          items: [
            { variant_id: known, quantity: 3 },
            { variant_id: unknown, quantity: 2 },
          ],
        },
      },
      { source: 'purchasing', eventId, name: 'purchase_order.created' },
    );
    assert.equal(outcome, 'refused');
    const [inbox] = await scope.em.execute<{ outcome: string }[]>(
      'select outcome from inbox_event where event_id = ?',
      [eventId],
    );
    assert.equal(inbox?.outcome, 'refused');
    assert.equal(await stockRow(scope, known, warehouse.id), undefined, 'no line of a refused order is applied');
  });
});
