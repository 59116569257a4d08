import type { OrganizationScope } from '../organization-scope.ts';
import type { Page } from '../pagination.ts';
import { VariantNotFoundError } from '../errors.ts';
import { pageStock, stockRowsOfVariant, variantsWithStock, type StockFilter, type StockLevel } from './stock.store.ts';

/** Read paths over stock rows, each in its own transaction. Reads go straight to PostgreSQL, never through Temporal. */

export type { StockFilter, StockLevel } from './stock.store.ts';

/** Stock rows matching the filter, ordered by (variant, warehouse), one page at a time. */
export function listStock(
  scope: OrganizationScope,
  filter: StockFilter,
  limit: number,
  cursor?: string,
): Promise<Page<StockLevel>> {
  return scope.transaction((tx) => pageStock(tx, scope, filter, limit, cursor));
}

/** Every warehouse's row for a variant; VariantNotFoundError when the organization holds none. */
export async function stockOfVariant(scope: OrganizationScope, variantId: string): Promise<StockLevel[]> {
  const rows = await scope.transaction((tx) => stockRowsOfVariant(tx, scope, variantId));
  if (rows.length === 0) throw variantNotFound(variantId);
  return rows;
}

/** Throws VariantNotFoundError unless the organization has at least one live stock row for the variant. */
export async function assertVariantKnown(scope: OrganizationScope, variantId: string): Promise<void> {
  // Not limited to the caller's warehouses: a variant is known to the organization.
  const known = await scope.transaction((tx) => variantsWithStock(tx, [variantId]));
  if (!known.has(variantId)) throw variantNotFound(variantId);
}

function variantNotFound(variantId: string): VariantNotFoundError {
  return new VariantNotFoundError(`variant ${variantId} has no stock in this organization`, { variant_id: variantId });
}
