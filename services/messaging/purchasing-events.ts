import { z } from 'zod';
import type { Orm } from '../db/orm.ts';
import { scopeTo } from '../inventory/organization-scope.ts';
import { recordOperation } from '../inventory/stock/ledger.ts';
import type { EventHandler } from './event-consumer.ts';
import type { Logger } from '../logger.ts';
import { assertVariantsKnown, type VariantCatalog } from '../inventory/stock/variant-validation.ts';
import { InventoryError } from '../inventory/errors.ts';
import { findWarehouse } from '../inventory/stock/stock-queries.ts';
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
      items: z.array(z.object({ variant_id: eventUuid(), quantity: z.number().int().min(1).max(1_000_000) })).min(1).max(500),
    })
    .loose(),
});

export function createPurchasingEventHandlers({ orm, catalog, logger }: { orm: Orm; catalog?: VariantCatalog; logger?: Logger }): Record<string, EventHandler> {
  return {
    'purchase_order.created': async (raw, recordInbox) => {
      const e = purchaseOrderCreated.parse(raw);
      const scope = scopeTo(orm.em, e.organization_id);
      try {
        // Another organization's warehouse, or none, is refused like an unknown variant: WarehouseNotFoundError.
        await findWarehouse(scope, e.data.warehouse_id);
        await assertVariantsKnown(scope, catalog, e.data.items.map((i) => i.variant_id));
      } catch (error) {
        if (!(error instanceof InventoryError) || error.retryable) throw error;
        logger?.warn(`purchase order ${e.data.purchase_order_id} refused: ${error.message}`);
        await scope.em.transactional((em) => recordInbox(em, 'refused'));
        return 'refused';
      }
      await recordOperation(
        scope,
        {
          operationKey: `purchase-order/${e.event_id}`,
          actor: 'purchasing-service',
          reference: { type: 'purchase_order', id: e.data.purchase_order_id },
          changes: e.data.items.map((i) => ({ variantId: i.variant_id, warehouseId: e.data.warehouse_id, type: 'incoming' as const, deltas: { incoming: i.quantity }, reason: `purchase order ${e.data.purchase_order_id}`, createIfMissing: true })),
        },
        (em) => recordInbox(em, 'incoming'),
      );
      return 'incoming';
    },
  };
}
