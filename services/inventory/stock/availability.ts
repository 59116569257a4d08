import type { OrganizationScope } from '../organization-scope.ts';
import { findWarehouse } from './stock-queries.ts';

export interface AvailabilityItem {
  variantId: string;
  quantity: number;
}

export interface AvailabilityResult {
  variantId: string;
  requested: number;
  /** Available in the chosen warehouse; 0 when no active warehouse holds the variant. */
  available: number;
  sufficient: boolean;
  /** The chosen warehouse, or null when none holds the variant. */
  warehouseId: string | null;
}

/**
 * For each item: the preferred warehouse when it has enough, else the active warehouse with the most
 * available. A snapshot read: only a reservation holds stock. Throws WarehouseNotFoundError for an unknown
 * preferred warehouse.
 */
export async function checkAvailability(scope: OrganizationScope, items: AvailabilityItem[], preferredWarehouseId?: string): Promise<AvailabilityResult[]> {
  if (preferredWarehouseId) await findWarehouse(scope, preferredWarehouseId);
  const variantIds = [...new Set(items.map((i) => i.variantId))];
  const rows = await scope.em.execute<{ variant_id: string; warehouse_id: string; available: number }[]>(
    `select s.variant_id, s.warehouse_id, s.available from stock s
     join warehouse w on w.id = s.warehouse_id and w.organization_id = s.organization_id and w.active
     where s.organization_id = ? and s.variant_id in (?) and s.archived_at is null
     order by s.variant_id, s.available desc, w.code`,
    [scope.organizationId, variantIds],
  );
  // Lines for the same variant are checked against their sum: that is what a reservation would hold.
  const requestedByVariant = new Map<string, number>();
  for (const item of items) requestedByVariant.set(item.variantId, (requestedByVariant.get(item.variantId) ?? 0) + item.quantity);

  return items.map((item) => {
    const needed = requestedByVariant.get(item.variantId) ?? item.quantity;
    const candidates = rows.filter((r) => r.variant_id === item.variantId);
    const preferred = candidates.find((r) => r.warehouse_id === preferredWarehouseId && r.available >= needed);
    const chosen = preferred ?? candidates[0];
    return {
      variantId: item.variantId,
      requested: item.quantity,
      available: chosen?.available ?? 0,
      sufficient: chosen !== undefined && chosen.available >= needed,
      warehouseId: chosen?.warehouse_id ?? null,
    };
  });
}
