import { z } from 'zod';
import type { Orm } from '../db/orm.ts';
import { scopeTo } from '../inventory/organization-scope.ts';
import { insertOutboxEvent } from './outbox.ts';
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

export function createCatalogEventHandlers({ orm }: { orm: Orm }): Record<string, EventHandler> {
  return {
    'catalog.variant.created': async (raw, recordInbox) => {
      const e = variantCreated.parse(raw);
      const scope = scopeTo(orm.em, e.organization_id);
      if (!e.data.track_inventory) {
        await scope.em.transactional((em) => recordInbox(em, 'not_tracked'));
        return 'not_tracked';
      }
      await scope.em.transactional(async (em) => {
        const rows = await em.execute<{ id: string; warehouse_id: string }[]>(
          `insert into stock (organization_id, variant_id, warehouse_id, min_stock, max_stock)
           select ?, ?, w.id, ?, ? from warehouse w where w.organization_id = ? and w.active
           on conflict (organization_id, variant_id, warehouse_id) do nothing returning id, warehouse_id`,
          [e.organization_id, e.data.variant_id, e.data.default_min_stock, e.data.default_max_stock, e.organization_id],
        );
        await insertOutboxEvent(em, e.organization_id, {
          name: 'inventory.stock.initialized',
          aggregateType: 'variant',
          aggregateId: e.data.variant_id,
          data: { variant_id: e.data.variant_id, warehouses: rows.map((r) => ({ warehouse_id: r.warehouse_id, stock_id: r.id, initial_quantity: 0 })), status: 'success' },
        });
        await recordInbox(em, 'initialized');
      });
      return 'initialized';
    },

    'catalog.variant.deleted': async (raw, recordInbox) => {
      const e = variantDeleted.parse(raw);
      const variantId = e.data.variant_id;
      return await scopeTo(orm.em, e.organization_id).em.transactional(async (em) => {
        // Locked, so no change can slip in between the check and the archiving.
        const rows = await em.execute<{ warehouse_id: string; total: number; incoming: number }[]>(
          'select warehouse_id, total, incoming from stock where organization_id = ? and variant_id = ? and archived_at is null for update',
          [e.organization_id, variantId],
        );
        const holding = rows.filter((r) => r.total > 0 || r.incoming > 0);
        if (holding.length > 0) {
          await insertOutboxEvent(em, e.organization_id, {
            name: 'inventory.stock.validation_failed',
            aggregateType: 'variant',
            aggregateId: variantId,
            data: {
              variant_id: variantId,
              reason: 'stock_not_zero',
              details: {
                total_stock: holding.reduce((sum, r) => sum + r.total, 0),
                warehouses_affected: holding.map((r) => ({ warehouse_id: r.warehouse_id, quantity: r.total, incoming: r.incoming })),
              },
              action_required: 'Clear all stock before deleting variant',
            },
          });
          await recordInbox(em, 'blocked');
          return 'blocked';
        }
        await em.execute('update stock set archived_at = now() where organization_id = ? and variant_id = ? and archived_at is null', [e.organization_id, variantId]);
        await insertOutboxEvent(em, e.organization_id, {
          name: 'inventory.stock.archived',
          aggregateType: 'variant',
          aggregateId: variantId,
          data: { variant_id: variantId, warehouses: rows.map((r) => ({ warehouse_id: r.warehouse_id })) },
        });
        await recordInbox(em, 'archived');
        return 'archived';
      });
    },
  };
}
