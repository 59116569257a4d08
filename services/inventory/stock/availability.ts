import type { AvailableRow } from './stock.store.ts';
import type { AvailabilityReader } from './availability-batch.ts';

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
export async function checkAvailability(
  read: AvailabilityReader,
  organizationId: string,
  items: AvailabilityItem[],
  preferredWarehouseId?: string,
): Promise<AvailabilityResult[]> {
  const variantIds = [...new Set(items.map((i) => i.variantId))];
  // One statement for the check and the read, binding the organization itself: this is the order service's hot path.
  const rows = await read(organizationId, variantIds, preferredWarehouseId);
  return chooseWarehouses(items, rows, preferredWarehouseId);
}

/**
 * The choice, without I/O: per item the preferred warehouse when it holds the variant's requested sum,
 * else the first row (`rows` come most available first per variant).
 */
export function chooseWarehouses(
  items: AvailabilityItem[],
  rows: AvailableRow[],
  preferredWarehouseId?: string,
): AvailabilityResult[] {
  // Lines for the same variant are checked against their sum: that is what a reservation would hold.
  const requestedByVariant = new Map<string, number>();
  for (const item of items)
    requestedByVariant.set(item.variantId, (requestedByVariant.get(item.variantId) ?? 0) + item.quantity);

  return items.map((item) => {
    const needed = requestedByVariant.get(item.variantId) ?? item.quantity;
    const candidates = rows.filter((r) => r.variantId === item.variantId);
    const preferred = candidates.find((r) => r.warehouseId === preferredWarehouseId && r.available >= needed);
    const chosen = preferred ?? candidates[0];
    return {
      variantId: item.variantId,
      requested: item.quantity,
      available: chosen?.available ?? 0,
      sufficient: chosen !== undefined && chosen.available >= needed,
      warehouseId: chosen?.warehouseId ?? null,
    };
  });
}
