import type { OrganizationScope } from '../organization-scope.ts';
import { enqueueEvent } from '../../messaging/outbox.store.ts';
import { recordConsumedEvent, type ConsumedEvent } from '../../messaging/inbox.store.ts';
import { archiveStockOfVariant, createStockInActiveWarehouses, lockLiveStockOfVariant } from './variant-stock.store.ts';

/**
 * What the catalog's variant events do to stock. Each use case is one transaction that also records
 * the consumed event in the inbox, so the effect and the record commit together (exactly once per event).
 */

export interface NewVariant {
  variantId: string;
  tracksInventory: boolean;
  defaultMinStock: number;
  defaultMaxStock: number;
}

/**
 * A new variant that tracks inventory gets a stock row (all zero, with its default thresholds) in every
 * active warehouse of the organization, announced as `inventory.stock.initialized` ('initialized'); one
 * that does not is only recorded ('not_tracked'). A redelivery creates nothing twice.
 */
export function initializeVariantStock(
  scope: OrganizationScope,
  variant: NewVariant,
  consumed: ConsumedEvent,
): Promise<'initialized' | 'not_tracked'> {
  return scope.transaction(async (tx) => {
    if (!variant.tracksInventory) {
      await recordConsumedEvent(tx, consumed, 'not_tracked');
      return 'not_tracked';
    }
    const rows = await createStockInActiveWarehouses(tx, variant.variantId, {
      minStock: variant.defaultMinStock,
      maxStock: variant.defaultMaxStock,
    });
    await enqueueEvent(tx, {
      name: 'inventory.stock.initialized',
      aggregateType: 'variant',
      aggregateId: variant.variantId,
      data: {
        variant_id: variant.variantId,
        warehouses: rows.map((r) => ({ warehouse_id: r.warehouseId, stock_id: r.stockId, initial_quantity: 0 })),
        status: 'success',
      },
    });
    await recordConsumedEvent(tx, consumed, 'initialized');
    return 'initialized';
  });
}

/**
 * A variant deleted in the catalog: when none of its rows holds or expects units, they are archived
 * (`inventory.stock.archived`, 'archived'); otherwise nothing changes and the catalog is told why with
 * `inventory.stock.validation_failed` and the per-warehouse detail ('blocked'), so it can roll back.
 */
export function retireVariantStock(
  scope: OrganizationScope,
  variantId: string,
  consumed: ConsumedEvent,
): Promise<'archived' | 'blocked'> {
  return scope.transaction(async (tx) => {
    // Locked, so no change can slip in between the check and the archiving.
    const rows = await lockLiveStockOfVariant(tx, variantId);
    const holding = rows.filter((r) => r.total > 0 || r.incoming > 0);
    if (holding.length > 0) {
      await enqueueEvent(tx, {
        name: 'inventory.stock.validation_failed',
        aggregateType: 'variant',
        aggregateId: variantId,
        data: {
          variant_id: variantId,
          reason: 'stock_not_zero',
          details: {
            total_stock: holding.reduce((sum, r) => sum + r.total, 0),
            warehouses_affected: holding.map((r) => ({
              warehouse_id: r.warehouseId,
              quantity: r.total,
              incoming: r.incoming,
            })),
          },
          action_required: 'Clear all stock before deleting variant',
        },
      });
      await recordConsumedEvent(tx, consumed, 'blocked');
      return 'blocked';
    }
    await archiveStockOfVariant(tx, variantId);
    await enqueueEvent(tx, {
      name: 'inventory.stock.archived',
      aggregateType: 'variant',
      aggregateId: variantId,
      data: { variant_id: variantId, warehouses: rows.map((r) => ({ warehouse_id: r.warehouseId })) },
    });
    await recordConsumedEvent(tx, consumed, 'archived');
    return 'archived';
  });
}
