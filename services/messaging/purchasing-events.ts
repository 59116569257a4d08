import { z } from 'zod';
import type { Orm } from '../db/orm.ts';
import { scopeTo } from '../inventory/organization-scope.ts';
import { expectPurchaseOrder } from '../inventory/stock/purchase-orders.ts';
import type { VariantCatalog } from '../inventory/stock/variant-validation.ts';
import type { Logger } from '../logger.ts';
import type { EventHandler } from './event-consumer.ts';
import { eventUuid } from './envelope.ts';

/**
 * The purchasing service's events. A purchase order makes its units `incoming` at the destination
 * warehouse (one ledger movement a line, referencing the purchase order); the receipt adjustment that
 * names the purchase order later turns them into stock. A destination warehouse that is not the
 * organization's, or a line naming a variant the catalog refuses (unknown, inactive, not tracked),
 * refuses the whole order: recorded in the inbox as `refused`, with a warning, and acknowledged (a
 * retry cannot change either answer).
 */
const purchaseOrderCreated = z.object({
  event: z.literal('purchase_order.created'),
  event_id: z.string().min(1).max(200),
  organization_id: eventUuid(),
  data: z
    .object({
      purchase_order_id: z.string().min(1).max(200),
      warehouse_id: eventUuid(),
      items: z
        .array(z.object({ variant_id: eventUuid(), quantity: z.number().int().min(1).max(1_000_000) }))
        .min(1)
        .max(500),
    })
    .loose(),
});

/** Handlers for the purchasing service's events, by event name: each parses and calls the domain. */
export function createPurchasingEventHandlers({
  orm,
  catalog,
  logger,
}: {
  orm: Orm;
  catalog?: VariantCatalog;
  logger?: Logger;
}): Record<string, EventHandler> {
  return {
    'purchase_order.created': async (raw, consumed) => {
      const e = purchaseOrderCreated.parse(raw);
      const order = {
        purchaseOrderId: e.data.purchase_order_id,
        warehouseId: e.data.warehouse_id,
        lines: e.data.items.map((i) => ({ variantId: i.variant_id, quantity: i.quantity })),
      };
      const result = await expectPurchaseOrder(scopeTo(orm.em, e.organization_id), catalog, order, consumed);
      if (result.outcome === 'refused')
        logger?.warn(`purchase order ${order.purchaseOrderId} refused: ${result.reason}`);
      return result.outcome;
    },
  };
}
