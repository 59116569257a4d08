import type { ScopedTransaction } from '../organization-scope.ts';

/**
 * A variant's stock rows as the catalog's events create and archive them (variant-lifecycle.ts). Only
 * rows at zero are created or archived here: quantities change through the ledger alone.
 *
 * Hand-written SQL: the creation is one `insert … select … on conflict do nothing` over the
 * organization's active warehouses (a redelivered event must not fail on rows it made), and the check
 * before archiving locks the rows (`for update`) so no change slips in between. To fold into the stock
 * aggregate's store when there is one (issue #11).
 */

export interface InitializedStock {
  stockId: string;
  warehouseId: string;
}

export interface HeldStock {
  warehouseId: string;
  total: number;
  incoming: number;
}

/** Creates the variant's row (all zero, with these thresholds) in each active warehouse lacking one; returns them. */
export async function createStockInActiveWarehouses(
  tx: ScopedTransaction,
  variantId: string,
  thresholds: { minStock: number; maxStock: number },
): Promise<InitializedStock[]> {
  const rows = await tx.em.execute<{ id: string; warehouse_id: string }[]>(
    `insert into stock (organization_id, variant_id, warehouse_id, min_stock, max_stock)
     select w.organization_id, ?, w.id, ?, ? from warehouse w where w.organization_id = ? and w.active
     on conflict (organization_id, variant_id, warehouse_id) do nothing returning id, warehouse_id`,
    [variantId, thresholds.minStock, thresholds.maxStock, tx.organizationId],
  );
  return rows.map((r) => ({ stockId: r.id, warehouseId: r.warehouse_id }));
}

/** The variant's rows that are not archived, locked until the transaction ends. */
export async function lockLiveStockOfVariant(tx: ScopedTransaction, variantId: string): Promise<HeldStock[]> {
  const rows = await tx.em.execute<{ warehouse_id: string; total: number; incoming: number }[]>(
    `select warehouse_id, total, incoming from stock
     where organization_id = ? and variant_id = ? and archived_at is null for update`,
    [tx.organizationId, variantId],
  );
  return rows.map((r) => ({ warehouseId: r.warehouse_id, total: r.total, incoming: r.incoming }));
}

/** Archives the variant's rows that are not archived yet. */
export async function archiveStockOfVariant(tx: ScopedTransaction, variantId: string): Promise<void> {
  await tx.em.execute(
    'update stock set archived_at = now() where organization_id = ? and variant_id = ? and archived_at is null',
    [tx.organizationId, variantId],
  );
}
