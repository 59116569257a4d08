import { z } from 'zod';
import type { InventoryServiceHandlers } from './generated/inventory/v1/InventoryService.ts';
import type { StockLevel as StockLevelMessage } from './generated/inventory/v1/StockLevel.ts';
import type { Quantities as QuantitiesMessage } from './generated/inventory/v1/Quantities.ts';
import { checkAvailability } from '../inventory/stock/availability.ts';
import { batchedAvailabilityReader } from '../inventory/stock/availability-batch.ts';
import { listMovements } from '../inventory/stock/movement-queries.ts';
import { assertVariantKnown, listStock } from '../inventory/stock/stock-queries.ts';
import { getWarehouse } from '../inventory/warehouses/warehouse-queries.ts';
import type { StockLevel } from '../inventory/stock/stock.store.ts';
import { oneStatementOn, scopeTo } from '../inventory/organization-scope.ts';
import { warehouseFilter } from '../auth/access.ts';
import { unary } from './status.ts';
import { optionalTimestamp, optionalUuid, pageSize, uuid } from './validation.ts';
import type { GrpcDeps } from './server.ts';
import type { Quantities } from '../inventory/vocabulary.ts';

const availabilityRequest = z.object({
  organization_id: uuid('organization_id'),
  items: z
    .array(
      z.object({
        variant_id: uuid('variant_id'),
        quantity: z
          .number()
          .int()
          .min(1, { message: 'quantity must be at least 1' })
          .max(1_000_000, { message: 'quantity is at most 1000000 a line' }),
      }),
    )
    .min(1, { message: 'items must name at least one variant' })
    .max(500, { message: 'items names at most 500 variants' }),
  preferred_warehouse_id: optionalUuid('preferred_warehouse_id'),
});

const warehouseRequest = z.object({
  organization_id: uuid('organization_id'),
  warehouse_id: uuid('warehouse_id'),
  page_size: pageSize,
  page_token: z.string(),
});

const historyRequest = z
  .object({
    organization_id: uuid('organization_id'),
    variant_id: uuid('variant_id'),
    warehouse_id: optionalUuid('warehouse_id'),
    from: optionalTimestamp('from'),
    to: optionalTimestamp('to'),
    page_size: pageSize,
    page_token: z.string(),
  })
  .refine((r) => !r.from || !r.to || r.from < r.to, { message: 'from must be before to', path: ['from'] });

/** CheckAvailability, GetWarehouseStock and GetStockHistory: reads straight from PostgreSQL. */
export function createStockHandlers({
  orm,
  logger,
}: GrpcDeps): Pick<InventoryServiceHandlers, 'CheckAvailability' | 'GetWarehouseStock' | 'GetStockHistory'> {
  const readAvailability = batchedAvailabilityReader(oneStatementOn(orm));
  return {
    CheckAvailability: unary(logger, 'CheckAvailability', async (raw) => {
      const request = availabilityRequest.parse(raw);
      const results = await checkAvailability(
        readAvailability,
        request.organization_id,
        request.items.map((i) => ({ variantId: i.variant_id, quantity: i.quantity })),
        request.preferred_warehouse_id,
      );
      return {
        all_available: results.every((r) => r.sufficient),
        results: results.map((r) => ({
          variant_id: r.variantId,
          requested: r.requested,
          available: r.available,
          sufficient: r.sufficient,
          warehouse_id: r.warehouseId ?? '',
        })),
      };
    }),

    GetWarehouseStock: unary(logger, 'GetWarehouseStock', async (raw, principal) => {
      const request = warehouseRequest.parse(raw);
      const scope = scopeTo(orm.em, request.organization_id, warehouseFilter(principal));
      await getWarehouse(scope, request.warehouse_id);
      const page = await listStock(
        scope,
        { warehouseId: request.warehouse_id },
        request.page_size,
        request.page_token || undefined,
      );
      return {
        warehouse_id: request.warehouse_id,
        items: page.items.map(stockLevelMessage),
        next_page_token: page.nextCursor ?? '',
      };
    }),

    GetStockHistory: unary(logger, 'GetStockHistory', async (raw, principal) => {
      const request = historyRequest.parse(raw);
      const scope = scopeTo(orm.em, request.organization_id, warehouseFilter(principal));
      await assertVariantKnown(scope, request.variant_id);
      if (request.warehouse_id) await getWarehouse(scope, request.warehouse_id);
      const page = await listMovements(
        scope,
        { variantId: request.variant_id, warehouseId: request.warehouse_id, from: request.from, to: request.to },
        request.page_size,
        request.page_token || undefined,
      );
      return {
        movements: page.items.map((m) => ({
          movement_id: m.id,
          variant_id: m.variantId,
          warehouse_id: m.warehouseId,
          type: m.type,
          deltas: quantitiesMessage(m.deltas),
          after: quantitiesMessage(m.after),
          reason: m.reason ?? '',
          reference: m.reference ? { type: m.reference.type, id: m.reference.id } : null,
          // Deprecated spellings (proto v1.0), filled until v1.2.
          reference_type: m.reference?.type ?? '',
          reference_id: m.reference?.id ?? '',
          actor: m.actor,
          created_at: m.createdAt.toISOString(),
          operation_key: m.operationKey,
          order_id: m.orderId ?? '',
          reason_code: m.reasonCode ?? '',
          purchase_order_id: m.purchaseOrderId ?? '',
        })),
        next_page_token: page.nextCursor ?? '',
      };
    }),
  };
}

function stockLevelMessage(s: StockLevel): StockLevelMessage {
  return {
    stock_id: s.stockId,
    variant_id: s.variantId,
    warehouse_id: s.warehouseId,
    total: s.total,
    available: s.available,
    reserved: s.reserved,
    damaged: s.damaged,
    in_transit: s.inTransit,
    incoming: s.incoming,
    // Deprecated spellings (proto v1.0), filled until v1.2.
    total_quantity: s.total,
    available_quantity: s.available,
    reserved_quantity: s.reserved,
    damaged_quantity: s.damaged,
    in_transit_quantity: s.inTransit,
    incoming_quantity: s.incoming,
    min_stock: s.minStock,
    max_stock: s.maxStock,
    reorder_point: s.reorderPoint,
    version: s.version,
    updated_at: s.updatedAt.toISOString(),
  };
}

function quantitiesMessage(q: Quantities): QuantitiesMessage {
  return {
    total: q.total,
    available: q.available,
    reserved: q.reserved,
    damaged: q.damaged,
    in_transit: q.inTransit,
    incoming: q.incoming,
  };
}
