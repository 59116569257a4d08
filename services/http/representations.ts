import type { WarehouseRecord } from '../inventory/warehouses/warehouse.store.ts';
import type { StockLevel } from '../inventory/stock/stock.store.ts';
import type { Movement } from '../inventory/stock/movement-queries.ts';
import { snakeQuantities } from '../inventory/stock/ledger.ts';

/** JSON shapes of the REST API (snake_case, like the gRPC messages and the events). */

export const stockJson = (s: StockLevel) => ({
  stock_id: s.stockId,
  variant_id: s.variantId,
  warehouse_id: s.warehouseId,
  total: s.total,
  available: s.available,
  reserved: s.reserved,
  damaged: s.damaged,
  in_transit: s.inTransit,
  incoming: s.incoming,
  min_stock: s.minStock,
  max_stock: s.maxStock,
  reorder_point: s.reorderPoint,
  version: s.version,
  updated_at: s.updatedAt.toISOString(),
});

export const warehouseJson = (w: WarehouseRecord) => ({
  warehouse_id: w.id,
  code: w.code,
  name: w.name,
  region: w.region,
  active: w.active,
  created_at: w.createdAt.toISOString(),
  updated_at: w.updatedAt.toISOString(),
});

export const movementJson = (m: Movement) => ({
  movement_id: m.id,
  variant_id: m.variantId,
  warehouse_id: m.warehouseId,
  type: m.type,
  deltas: snakeQuantities(m.deltas),
  after: snakeQuantities(m.after),
  reason: m.reason,
  reason_code: m.reasonCode,
  purchase_order_id: m.purchaseOrderId,
  order_id: m.orderId,
  reference: m.reference,
  actor: m.actor,
  workflow_id: m.workflowId,
  location_id: m.locationId,
  created_at: m.createdAt.toISOString(),
  operation_key: m.operationKey,
});
