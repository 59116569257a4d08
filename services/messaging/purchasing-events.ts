import { z } from 'zod';
import type { Orm } from '../db/orm.ts';
import { scopeTo } from '../inventory/organization-scope.ts';
import { recordOperation } from '../inventory/ledger.ts';
import type { EventHandler } from './event-consumer.ts';

/**
 * The purchasing service's events. A purchase order makes its units `incoming` at the destination
 * warehouse (one ledger movement a line, referencing the purchase order); the receipt adjustment that
 * names the purchase order later turns them into stock.
 */
const purchaseOrderCreated = z.object({
  event: z.literal('purchase_order.created'),
  event_id: z.string().min(1).max(200),
  organization_id: z.guid(),
  data: z
    .object({
      purchase_order_id: z.string().min(1).max(200),
      warehouse_id: z.guid(),
      items: z.array(z.object({ variant_id: z.guid(), quantity: z.number().int().min(1) })).min(1),
    })
    .loose(),
});

export function createPurchasingEventHandlers({ orm }: { orm: Orm }): Record<string, EventHandler> {
  return {
    'purchase_order.created': async (raw, recordInbox) => {
      const e = purchaseOrderCreated.parse(raw);
      await recordOperation(
        scopeTo(orm.em, e.organization_id),
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
