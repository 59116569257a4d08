import type { OrganizationScope } from '../organization-scope.ts';
import { recordConsumedEvent, type ConsumedEvent } from '../../messaging/inbox.store.ts';
import { findWarehouse } from '../warehouses/warehouse.store.ts';
import { applyOperation } from './ledger.ts';

/** Units an order's customer sent back, as the order service announces them. */
export interface OrderReturn {
  orderId: string;
  lines: { variantId: string; warehouseId: string; quantity: number; damaged: boolean }[];
}

export type OrderReturnOutcome = { outcome: 'returned' } | { outcome: 'refused'; reason: string };

/**
 * Brings returned units back through the ledger (`available`, or `damaged` for a damaged line), one
 * movement a line referencing the order, keyed by the event (`order-return/<event id>`), with the
 * consumed event recorded in the inbox in the same transaction; a redelivery changes nothing. A line
 * naming a warehouse that is not the organization's refuses the whole return: recorded as 'refused',
 * nothing else written (no retry can change that).
 */
export function receiveOrderReturn(
  scope: OrganizationScope,
  ret: OrderReturn,
  consumed: ConsumedEvent,
): Promise<OrderReturnOutcome> {
  return scope.transaction(async (tx): Promise<OrderReturnOutcome> => {
    for (const warehouseId of new Set(ret.lines.map((l) => l.warehouseId))) {
      if (await findWarehouse(tx, warehouseId)) continue;
      await recordConsumedEvent(tx, consumed, 'refused');
      return { outcome: 'refused', reason: `warehouse ${warehouseId} does not exist in this organization` };
    }
    await applyOperation(tx, {
      operationKey: `order-return/${consumed.eventId}`,
      actor: 'order-service',
      reference: { type: 'order', id: ret.orderId },
      orderId: ret.orderId,
      changes: ret.lines.map((l) => ({
        variantId: l.variantId,
        warehouseId: l.warehouseId,
        type: 'return' as const,
        deltas: l.damaged ? { damaged: l.quantity } : { available: l.quantity },
        reason: l.damaged ? 'returned damaged' : 'returned',
        createIfMissing: true,
      })),
    });
    // Also after a replayed key: the inbox row is what stops the next redelivery early.
    await recordConsumedEvent(tx, consumed, 'returned');
    return { outcome: 'returned' };
  });
}
