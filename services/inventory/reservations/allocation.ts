import { InsufficientStockError, VariantNotFoundError, type Shortage } from '../errors.ts';
import type { ReservationAllocation, ReservationLine } from '../vocabulary.ts';

/** A stock row a line may be held from, as the allocation reads it. */
export interface StockCandidate {
  variant_id: string;
  warehouse_id: string;
  available: number;
  /** Whether the warehouse takes holds; an inactive one's stock still proves the variant is known. */
  active: boolean;
}

/**
 * Chooses where each line is held, from a snapshot of the candidate rows (most available first): a line
 * naming a warehouse is held there; else in the preferred warehouse when it has enough, else in the active
 * warehouse with the most available. Lines for the same variant and warehouse choice are summed first, so
 * two small lines cannot each pass alone; allocations landing on the same row are merged into one. All or
 * none: throws VariantNotFoundError for a variant with no stock row at all, InsufficientStockError listing
 * every short line. Pure: the ledger's guarded update decides for real.
 */
export function allocate(
  items: ReservationLine[],
  candidates: StockCandidate[],
  preferredWarehouseId?: string,
): ReservationAllocation[] {
  const variantIds = [...new Set(items.map((i) => i.variant_id))];
  const unknown = variantIds.filter((v) => !candidates.some((c) => c.variant_id === v));
  if (unknown.length > 0) {
    throw new VariantNotFoundError(`no stock of variant ${unknown.join(', ')} in this organization`, {
      variant_ids: unknown,
    });
  }

  const allocations: ReservationAllocation[] = [];
  const shortages: Shortage[] = [];
  for (const line of mergeLines(items)) {
    const usable = candidates.filter((c) => c.variant_id === line.variant_id && c.active);
    const chosen = line.warehouse_id
      ? usable.find((c) => c.warehouse_id === line.warehouse_id)
      : (usable.find((c) => c.warehouse_id === preferredWarehouseId && c.available >= line.quantity) ?? usable[0]);
    if (!chosen || chosen.available < line.quantity) {
      shortages.push({
        variant_id: line.variant_id,
        warehouse_id: chosen?.warehouse_id ?? line.warehouse_id ?? null,
        requested: line.quantity,
        available: chosen?.available ?? 0,
      });
      continue;
    }
    allocations.push({ variant_id: line.variant_id, warehouse_id: chosen.warehouse_id, quantity: line.quantity });
  }
  if (shortages.length > 0) throw new InsufficientStockError(shortages);
  // Two lines may land on the same row (one named, one chosen): the ledger takes them as one change.
  return mergeAllocations(allocations);
}

function mergeLines(items: ReservationLine[]): ReservationLine[] {
  const merged = new Map<string, ReservationLine>();
  for (const item of items) {
    const key = `${item.variant_id}@${item.warehouse_id ?? ''}`;
    const line = merged.get(key);
    if (line) line.quantity += item.quantity;
    else merged.set(key, { ...item });
  }
  return [...merged.values()];
}

function mergeAllocations(allocations: ReservationAllocation[]): ReservationAllocation[] {
  const byRow = new Map<string, ReservationAllocation>();
  for (const a of allocations) {
    const key = `${a.variant_id}@${a.warehouse_id}`;
    const existing = byRow.get(key);
    if (existing) existing.quantity += a.quantity;
    else byRow.set(key, { ...a });
  }
  return [...byRow.values()];
}
