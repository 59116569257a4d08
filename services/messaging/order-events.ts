import { z } from 'zod';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../logger.ts';
import { scopeTo } from '../inventory/organization-scope.ts';
import { recordOperation } from '../inventory/stock/ledger.ts';
import { InvalidReservationStateError, ReservationNotFoundError, WarehouseNotFoundError } from '../inventory/errors.ts';
import { findWarehouse } from '../inventory/stock/stock-queries.ts';
import type { ReservationClient } from '../workflow-clients/reservation-client.ts';
import type { EventHandler, RecordInbox } from './event-consumer.ts';
import { eventUuid } from './envelope.ts';

/**
 * The order service's events and what each does here. Reservation events go through the reservation
 * workflow's updates (never around it), so the workflow stays the one owner of a reservation's life.
 * An event for an order without a reservation, or that its state no longer allows, is recorded and
 * acknowledged with a warning instead of being retried forever; so is a return naming a warehouse that
 * is not the organization's (`refused`, nothing written).
 */
const id = z.string().min(1).max(200);
const envelope = <T extends z.ZodType>(event: string, data: T) =>
  z.object({ event: z.literal(event), event_id: id, organization_id: eventUuid(), timestamp: z.string().optional(), data });

const orderRef = z.object({ order_id: id }).loose();
export const orderEventSchemas = {
  'order.confirmed': envelope('order.confirmed', orderRef),
  'order.cancelled': envelope('order.cancelled', orderRef.extend({ reason: z.string().max(500).optional() })),
  'order.shipped': envelope('order.shipped', orderRef),
  'order.returned': envelope(
    'order.returned',
    orderRef.extend({
      items: z
        .array(z.object({ variant_id: eventUuid(), warehouse_id: eventUuid(), quantity: z.number().int().min(1).max(1_000_000), damaged: z.boolean().default(false) }))
        .min(1)
        .max(500),
    }),
  ),
};

export type OrderEventName = keyof typeof orderEventSchemas;
export type Outcome = 'confirmed' | 'released' | 'fulfilled' | 'returned' | 'refused' | 'no_reservation' | 'not_applicable';

export interface OrderEventHandlerDeps {
  orm: Orm;
  reservations: ReservationClient;
  logger: Logger;
}

/** Handlers for the order service's events, by event name. */
export function createOrderEventHandlers({ orm, reservations, logger }: OrderEventHandlerDeps): Record<OrderEventName, EventHandler> {
  async function throughWorkflow(event: { event: string; organization_id: string; data: { order_id: string } }, act: () => Promise<unknown>, done: Outcome): Promise<Outcome> {
    try {
      await act();
      return done;
    } catch (error) {
      if (error instanceof ReservationNotFoundError || error instanceof InvalidReservationStateError) {
        logger.warn(`${event.event} for order ${event.data.order_id}: ${error.message}; recorded and acknowledged`, { organizationId: event.organization_id });
        return error instanceof ReservationNotFoundError ? 'no_reservation' : 'not_applicable';
      }
      throw error;
    }
  }

  const recorded = async (recordInbox: RecordInbox, outcome: Outcome) => {
    await orm.em.fork().transactional((em) => recordInbox(em, outcome));
    return outcome;
  };
  return {
    'order.confirmed': async (raw, recordInbox) => {
      const e = orderEventSchemas['order.confirmed'].parse(raw);
      return recorded(recordInbox, await throughWorkflow(e, () => reservations.confirm({ organizationId: e.organization_id, orderId: e.data.order_id }), 'confirmed'));
    },
    'order.cancelled': async (raw, recordInbox) => {
      const e = orderEventSchemas['order.cancelled'].parse(raw);
      return recorded(recordInbox, await throughWorkflow(e, () => reservations.release({ organizationId: e.organization_id, orderId: e.data.order_id }, e.data.reason ?? 'order cancelled'), 'released'));
    },
    'order.shipped': async (raw, recordInbox) => {
      const e = orderEventSchemas['order.shipped'].parse(raw);
      return recorded(recordInbox, await throughWorkflow(e, () => reservations.fulfil({ organizationId: e.organization_id, orderId: e.data.order_id }), 'fulfilled'));
    },
    'order.returned': async (raw, recordInbox) => {
        // Returned units come back through the ledger, in the same transaction as the inbox row.
        const e = orderEventSchemas['order.returned'].parse(raw);
        const scope = scopeTo(orm.em, e.organization_id);
        try {
          for (const warehouseId of new Set(e.data.items.map((i) => i.warehouse_id))) await findWarehouse(scope, warehouseId);
        } catch (error) {
          // Another organization's warehouse, or none: no retry can change that, so it is refused and acknowledged.
          if (!(error instanceof WarehouseNotFoundError)) throw error;
          logger.warn(`order.returned for order ${e.data.order_id} refused: ${error.message}`, { organizationId: e.organization_id });
          return recorded(recordInbox, 'refused');
        }
        await recordOperation(
          scope,
          {
            operationKey: `order-return/${e.event_id}`,
            actor: 'order-service',
            reference: { type: 'order', id: e.data.order_id },
            changes: e.data.items.map((i) => ({
              variantId: i.variant_id,
              warehouseId: i.warehouse_id,
              type: 'return' as const,
              deltas: i.damaged ? { damaged: i.quantity } : { available: i.quantity },
              reason: i.damaged ? 'returned damaged' : 'returned',
              createIfMissing: true,
            })),
          },
          (em) => recordInbox(em, 'returned'),
        );
        return 'returned';
    },
  };
}
