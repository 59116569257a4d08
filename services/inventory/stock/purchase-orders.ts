import type { OrganizationScope } from '../organization-scope.ts';
import { InventoryError } from '../errors.ts';
import { recordConsumedEvent, type ConsumedEvent } from '../../messaging/inbox.store.ts';
import { requireWarehouse } from '../warehouses/warehouse.store.ts';
import { applyOperation } from './ledger.ts';
import { assertVariantsKnown, type VariantCatalog } from './variant-validation.ts';

/** A purchase order as the purchasing service announces it: units on their way to one warehouse. */
export interface PurchaseOrder {
  purchaseOrderId: string;
  warehouseId: string;
  lines: { variantId: string; quantity: number }[];
}

export type PurchaseOrderOutcome = { outcome: 'incoming' } | { outcome: 'refused'; reason: string };

/**
 * Makes a purchase order's units `incoming` at its destination warehouse: one ledger movement a line,
 * referencing the purchase order, keyed by the event (`purchase-order/<event id>`), and the consumed
 * event recorded in the inbox in the same transaction; a redelivery changes nothing. A warehouse that
 * is not the organization's, or a line naming a variant the catalog refuses (unknown, inactive, not
 * tracked), refuses the whole order: recorded as 'refused', nothing else written (no retry could change
 * either answer). Anything else (the database, a retryable error) is thrown for the consumer to retry.
 */
export async function expectPurchaseOrder(
  scope: OrganizationScope,
  catalog: VariantCatalog | undefined,
  order: PurchaseOrder,
  consumed: ConsumedEvent,
): Promise<PurchaseOrderOutcome> {
  try {
    // Another organization's warehouse, or none, is refused like an unknown variant: WarehouseNotFoundError.
    await scope.transaction((tx) => requireWarehouse(tx, order.warehouseId));
    // A network call: made outside any transaction.
    await assertVariantsKnown(
      scope,
      catalog,
      order.lines.map((l) => l.variantId),
    );
  } catch (error) {
    if (!(error instanceof InventoryError) || error.retryable) throw error;
    await scope.transaction((tx) => recordConsumedEvent(tx, consumed, 'refused'));
    return { outcome: 'refused', reason: error.message };
  }
  await scope.transaction(async (tx) => {
    await applyOperation(tx, {
      operationKey: `purchase-order/${consumed.eventId}`,
      actor: 'purchasing-service',
      reference: { type: 'purchase_order', id: order.purchaseOrderId },
      changes: order.lines.map((l) => ({
        variantId: l.variantId,
        warehouseId: order.warehouseId,
        type: 'incoming' as const,
        deltas: { incoming: l.quantity },
        reason: `purchase order ${order.purchaseOrderId}`,
        createIfMissing: true,
      })),
    });
    // Also after a replayed key: the inbox row is what stops the next redelivery early.
    await recordConsumedEvent(tx, consumed, 'incoming');
  });
  return { outcome: 'incoming' };
}
