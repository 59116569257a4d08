import type { OrganizationScope } from '../organization-scope.ts';
import type { CatalogClient } from '../../catalog/catalog-client.ts';
import { variantsWithStock } from './stock.store.ts';
import { VariantInactiveError, VariantNotInCatalogError, VariantNotTrackedError } from '../errors.ts';

/** The part of the catalog client the domain uses. */
export type VariantCatalog = Pick<CatalogClient, 'validateVariant'>;

/**
 * Before stock is created for a variant this organization has not seen (no stock row that is not
 * archived), asks the catalog about it and refuses one it does not know (VariantNotInCatalogError),
 * that is inactive (VariantInactiveError) or that does not track inventory (VariantNotTrackedError).
 * Variants already seen are not asked: the catalog vouched for them when they got their first row,
 * and its deletions arrive as events. Without a catalog (not configured) nothing is checked. A network
 * call: make it before opening a transaction. While the catalog is down its answers are degraded and let through.
 */
export async function assertVariantsKnown(
  scope: OrganizationScope,
  catalog: VariantCatalog | undefined,
  variantIds: string[],
): Promise<void> {
  if (!catalog || variantIds.length === 0) return;
  const wanted = [...new Set(variantIds)];
  const known = await scope.transaction((tx) => variantsWithStock(tx, wanted));
  const unseen = wanted.filter((v) => !known.has(v));
  const answers = await Promise.all(
    unseen.map(async (variantId) => ({
      variantId,
      answer: await catalog.validateVariant(scope.organizationId, variantId),
    })),
  );
  for (const { variantId, answer } of answers) {
    const details = { variant_id: variantId };
    if (!answer.exists)
      throw new VariantNotInCatalogError(`variant ${variantId} does not exist in the catalog`, details);
    if (!answer.isActive)
      throw new VariantInactiveError(`variant ${variantId} is inactive in the catalog`, {
        ...details,
        sku: answer.sku,
      });
    if (!answer.tracksInventory)
      throw new VariantNotTrackedError(`variant ${variantId} does not track inventory`, {
        ...details,
        sku: answer.sku,
      });
  }
}
