import { z } from 'zod';
import type { Orm } from '../db/orm.ts';
import { scopeTo } from '../inventory/organization-scope.ts';
import { initializeVariantStock, retireVariantStock } from '../inventory/stock/variant-lifecycle.ts';
import type { EventHandler } from './event-consumer.ts';
import { eventUuid } from './envelope.ts';

/**
 * The catalog's events. A new variant that tracks inventory gets a stock row (all zero, with the
 * event's default thresholds) in every active warehouse, announced as `inventory.stock.initialized`;
 * one that does not track inventory is recorded and skipped. A deleted variant whose rows hold nothing
 * has them archived (`inventory.stock.archived`); one with stock left anywhere is refused with
 * `inventory.stock.validation_failed` and the per-warehouse detail, so the catalog can roll back.
 * Neither event names a warehouse: both act on the organization's own, chosen by organization here.
 */
const variantCreated = z.object({
  event: z.literal('catalog.variant.created'),
  event_id: z.string().min(1).max(200),
  organization_id: eventUuid(),
  data: z
    .object({
      variant_id: eventUuid(),
      sku: z.string().max(200).optional(),
      track_inventory: z.boolean().default(true),
      default_min_stock: z.number().int().min(0).max(1_000_000).default(0),
      default_max_stock: z.number().int().min(0).max(1_000_000).default(0),
    })
    .loose(),
});

const variantDeleted = z.object({
  event: z.literal('catalog.variant.deleted'),
  event_id: z.string().min(1).max(200),
  organization_id: eventUuid(),
  data: z.object({ variant_id: eventUuid() }).loose(),
});

/** Handlers for the catalog's events, by event name: each parses and calls the domain (variant-lifecycle.ts). */
export function createCatalogEventHandlers({ orm }: { orm: Orm }): Record<string, EventHandler> {
  return {
    'catalog.variant.created': async (raw, consumed) => {
      const e = variantCreated.parse(raw);
      const variant = {
        variantId: e.data.variant_id,
        tracksInventory: e.data.track_inventory,
        defaultMinStock: e.data.default_min_stock,
        defaultMaxStock: e.data.default_max_stock,
      };
      return await initializeVariantStock(scopeTo(orm.em, e.organization_id), variant, consumed);
    },
    'catalog.variant.deleted': async (raw, consumed) => {
      const e = variantDeleted.parse(raw);
      return await retireVariantStock(scopeTo(orm.em, e.organization_id), e.data.variant_id, consumed);
    },
  };
}
