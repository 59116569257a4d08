/**
 * Stock-level events, decided from one change's before and after. Each is published when its
 * threshold is crossed, not on every change beyond it, so a row hovering below its minimum alerts
 * once, and again only after it has recovered:
 *   available ≤ min_stock          inventory.stock.low_level (alert_level warning; critical at 0)
 *   available ≤ reorder_point      inventory.stock.reorder_needed (suggested_order_quantity = max_stock − available)
 *   available = 0                  inventory.stock.depleted
 *   back above min_stock           inventory.stock.replenished
 */
export interface ThresholdRow {
  stockId: string;
  variantId: string;
  warehouseId: string;
  minStock: number;
  maxStock: number;
  reorderPoint: number;
}

export interface ThresholdEvent {
  name: string;
  data: Record<string, unknown>;
}

export function thresholdEvents(row: ThresholdRow, availableBefore: number, availableAfter: number): ThresholdEvent[] {
  const events: ThresholdEvent[] = [];
  const base = { stock_id: row.stockId, variant_id: row.variantId, warehouse_id: row.warehouseId };
  const crossedDown = (threshold: number) => availableBefore > threshold && availableAfter <= threshold;

  if (crossedDown(row.minStock)) {
    events.push({
      name: 'inventory.stock.low_level',
      data: {
        ...base,
        available_quantity: availableAfter,
        min_stock: row.minStock,
        reorder_point: row.reorderPoint,
        shortage: row.minStock - availableAfter,
        alert_level: availableAfter === 0 ? 'critical' : 'warning',
      },
    });
  }
  if (crossedDown(row.reorderPoint)) {
    events.push({
      name: 'inventory.stock.reorder_needed',
      data: {
        ...base,
        current_stock: availableAfter,
        reorder_point: row.reorderPoint,
        max_stock: row.maxStock,
        suggested_order_quantity: Math.max(row.maxStock - availableAfter, 0),
      },
    });
  }
  if (crossedDown(0)) events.push({ name: 'inventory.stock.depleted', data: { ...base, available_quantity: 0 } });
  if (availableBefore <= row.minStock && availableAfter > row.minStock) {
    events.push({
      name: 'inventory.stock.replenished',
      data: { ...base, available_quantity: availableAfter, min_stock: row.minStock },
    });
  }
  return events;
}
