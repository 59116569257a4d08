import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import { startHttp, type HttpHarness } from '../helpers/http.ts';
import { expectStatus, startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { testStack, tokenFor } from '../helpers/stack.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { defaultLimits } from '../../services/limits/settings.ts';
import { createOrderEventHandlers } from '../../services/messaging/order-events.ts';
import { createPurchasingEventHandlers } from '../../services/messaging/purchasing-events.ts';
import { createCatalogEventHandlers } from '../../services/messaging/catalog-events.ts';
import { reservationClientFor } from '../helpers/temporal.ts';
import { present } from '../helpers/present.ts';

describe('size limits', function () {
  this.timeout(30_000);
  let http: HttpHarness;
  let api: GrpcHarness;
  before(async () => {
    http = await startHttp();
    api = await startGrpc();
  });
  after(async () => {
    await http.close();
    await api.close();
  });

  it('CheckAvailability takes 500 items and refuses 501 with INVALID_ARGUMENT', async () => {
    const organizationId = randomUUID();
    const items = (n: number) => Array.from({ length: n }, () => ({ variant_id: randomUUID(), quantity: 1 }));
    const answer = await api.call<{ results: unknown[] }>('CheckAvailability', {
      organization_id: organizationId,
      items: items(500),
    });
    assert.equal(answer.results.length, 500);
    const refused = await expectStatus(
      api.call('CheckAvailability', { organization_id: organizationId, items: items(501) }),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.match(refused.details, /items names at most 500 variants/);
  });

  it('a gRPC message larger than the server accepts is RESOURCE_EXHAUSTED before any handler runs', async () => {
    const small = await startGrpc({
      limits: { ...defaultLimits(), grpc: { ...defaultLimits().grpc, maxReceiveMessageBytes: 16 * 1024 } },
    });
    try {
      const organizationId = randomUUID();
      const refused = await expectStatus(
        small.call('CheckAvailability', {
          organization_id: organizationId,
          items: [{ variant_id: 'x'.repeat(20_000), quantity: 1 }],
        }),
        grpc.status.RESOURCE_EXHAUSTED,
      );
      assert.match(refused.details, /larger than max/i);
      // Under the limit the same server answers.
      await small.call('CheckAvailability', {
        organization_id: organizationId,
        items: [{ variant_id: randomUUID(), quantity: 1 }],
      });
    } finally {
      await small.close();
    }
    // The default (1 MiB) refuses a 2 MB request too.
    await expectStatus(
      api.call('CheckAvailability', {
        organization_id: randomUUID(),
        items: [{ variant_id: randomUUID(), quantity: 1 }],
        preferred_warehouse_id: 'x'.repeat(2_000_000),
      }),
      grpc.status.RESOURCE_EXHAUSTED,
    );
  });

  it('a transfer receipt takes at most 500 lines: 501 is a 400 naming the field, and nothing is received', async () => {
    const s = await stockedOrganization(10);
    const lines = Array.from({ length: 501 }, () => ({ variant_id: randomUUID(), received: 1 }));
    const refused = await http.send('POST', `/api/v1/transfers/${randomUUID()}/receive`, {
      organizationId: s.organizationId,
      body: { lines },
    });
    assert.equal(refused.status, 400);
    assert.deepEqual(
      refused.body.errors.map((e: { field: string }) => e.field),
      ['lines'],
    );
  });

  it('the REST body limit is a setting: past it the request is 413', async () => {
    const small = await startHttp({ limits: { ...defaultLimits(), httpBodyLimitBytes: 2048 } });
    try {
      const organizationId = randomUUID();
      const tooLarge = await fetch(`${small.url}/api/v1/warehouses`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await tokenFor(organizationId)}` },
        body: JSON.stringify({ code: 'BIG', name: 'x'.repeat(4096), region: 'north' }),
      });
      assert.equal(tooLarge.status, 413);
      assert.equal(
        (
          await small.send('POST', '/api/v1/warehouses', {
            organizationId,
            body: { code: `W-${randomUUID().slice(0, 6)}`, name: 'Small', region: 'north' },
          })
        ).status,
        201,
      );
    } finally {
      await small.close();
    }
  });

  it('consumed events refuse more than 500 items and quantities over 1,000,000 (dead-lettered as malformed), writing nothing', async () => {
    const stack = testStack();
    const s = await stockedOrganization(5);
    const before = await stockRow(s.scope, s.variantId, s.warehouseId);
    const order = createOrderEventHandlers({
      orm: stack.orm,
      reservations: reservationClientFor('nobody'),
      logger: stack.logger,
    });
    const purchasing = createPurchasingEventHandlers({ orm: stack.orm });
    const catalog = createCatalogEventHandlers({ orm: stack.orm });
    // The parse refuses before anything is applied or recorded: the stock row below is unchanged.
    const consumed = { source: 'test', eventId: randomUUID(), name: 'malformed' };
    const line = (quantity: number) => ({ variant_id: s.variantId, warehouse_id: s.warehouseId, quantity });
    const refusals: [Promise<string>, string][] = [
      [
        present(order['order.returned'], 'the order.returned handler')(
          {
            event: 'order.returned',
            event_id: randomUUID(),
            organization_id: s.organizationId,
            data: { order_id: 'o-1', items: Array.from({ length: 501 }, () => line(1)) },
          },
          consumed,
        ),
        'data.items',
      ],
      [
        present(order['order.returned'], 'the order.returned handler')(
          {
            event: 'order.returned',
            event_id: randomUUID(),
            organization_id: s.organizationId,
            data: { order_id: 'o-1', items: [line(1_000_001)] },
          },
          consumed,
        ),
        'data.items.0.quantity',
      ],
      [
        present(purchasing['purchase_order.created'], 'the purchase_order.created handler')(
          {
            event: 'purchase_order.created',
            event_id: randomUUID(),
            organization_id: s.organizationId,
            data: {
              purchase_order_id: 'po-1',
              warehouse_id: s.warehouseId,
              items: Array.from({ length: 501 }, () => line(1)),
            },
          },
          consumed,
        ),
        'data.items',
      ],
      [
        present(purchasing['purchase_order.created'], 'the purchase_order.created handler')(
          {
            event: 'purchase_order.created',
            event_id: randomUUID(),
            organization_id: s.organizationId,
            data: { purchase_order_id: 'po-1', warehouse_id: s.warehouseId, items: [line(1_000_001)] },
          },
          consumed,
        ),
        'data.items.0.quantity',
      ],
      [
        present(catalog['catalog.variant.created'], 'the catalog.variant.created handler')(
          {
            event: 'catalog.variant.created',
            event_id: randomUUID(),
            organization_id: s.organizationId,
            data: { variant_id: randomUUID(), default_max_stock: 1_000_001 },
          },
          consumed,
        ),
        'data.default_max_stock',
      ],
    ];
    for (const [refusal, field] of refusals) {
      await assert.rejects(refusal, (error: unknown) => {
        assert.ok(error instanceof z.ZodError, String(error));
        assert.deepEqual(
          error.issues.map((i) => i.path.join('.')),
          [field],
        );
        return true;
      });
    }
    assert.deepEqual(await stockRow(s.scope, s.variantId, s.warehouseId), before);
    const inbox = await s.scope.transaction((tx) =>
      tx.em.execute('select 1 from inbox_event where event_id = ?', [consumed.eventId]),
    );
    assert.deepEqual(inbox, [], 'a malformed event is not recorded');
  });
});
