import { z } from 'zod';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../logger.ts';
import { scopeTo } from '../inventory/organization-scope.ts';
import { InvalidReservationStateError, ReservationNotFoundError } from '../inventory/errors.ts';
import { receiveOrderReturn } from '../inventory/stock/order-returns.ts';
import type { ReservationClient } from '../workflow-clients/reservation-client.ts';
import type { EventHandler } from './event-consumer.ts';
import { recordConsumedEvent, type ConsumedEvent } from './inbox.store.ts';
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
  z.object({
    event: z.literal(event),
    event_id: id,
    organization_id: eventUuid(),
    timestamp: z.string().optional(),
    data,
  });

const orderRef = z.object({ order_id: id }).loose();
export const orderEventSchemas = {
  'order.confirmed': envelope('order.confirmed', orderRef),
  'order.cancelled': envelope('order.cancelled', orderRef.extend({ reason: z.string().max(500).optional() })),
  'order.shipped': envelope('order.shipped', orderRef),
  'order.returned': envelope(
    'order.returned',
    orderRef.extend({
      items: z
        .array(
          z.object({
            variant_id: eventUuid(),
            warehouse_id: eventUuid(),
            quantity: z.number().int().min(1).max(1_000_000),
            damaged: z.boolean().default(false),
          }),
        )
        .min(1)
        .max(500),
    }),
  ),
};

export type OrderEventName = keyof typeof orderEventSchemas;
export type Outcome =
  | 'confirmed'
  | 'released'
  | 'fulfilled'
  | 'returned'
  | 'refused'
  | 'no_reservation'
  | 'not_applicable';

export interface OrderEventHandlerDeps {
  orm: Orm;
  reservations: ReservationClient;
  logger: Logger;
}

/** Handlers for the order service's events, by event name. */
export function createOrderEventHandlers({
  orm,
  reservations,
  logger,
}: OrderEventHandlerDeps): Record<OrderEventName, EventHandler> {
  async function throughWorkflow(
    event: { event: string; organization_id: string; data: { order_id: string } },
    act: () => Promise<unknown>,
    done: Outcome,
  ): Promise<Outcome> {
    try {
      await act();
      return done;
    } catch (error) {
      if (error instanceof ReservationNotFoundError || error instanceof InvalidReservationStateError) {
        logger.warn(`${event.event} for order ${event.data.order_id}: ${error.message}; recorded and acknowledged`, {
          organizationId: event.organization_id,
        });
        return error instanceof ReservationNotFoundError ? 'no_reservation' : 'not_applicable';
      }
      throw error;
    }
  }

  // A reservation event's effect is the workflow's; the inbox row follows once the workflow has answered.
  const recorded = async (organizationId: string, consumed: ConsumedEvent, outcome: Outcome) => {
    await scopeTo(orm.em, organizationId).transaction((tx) => recordConsumedEvent(tx, consumed, outcome));
    return outcome;
  };
  return {
    'order.confirmed': async (raw, consumed) => {
      const e = orderEventSchemas['order.confirmed'].parse(raw);
      const outcome = await throughWorkflow(
        e,
        () => reservations.confirm({ organizationId: e.organization_id, orderId: e.data.order_id }),
        'confirmed',
      );
      return recorded(e.organization_id, consumed, outcome);
    },
    'order.cancelled': async (raw, consumed) => {
      const e = orderEventSchemas['order.cancelled'].parse(raw);
      const release = () =>
        reservations.release(
          { organizationId: e.organization_id, orderId: e.data.order_id },
          e.data.reason ?? 'order cancelled',
        );
      return recorded(e.organization_id, consumed, await throughWorkflow(e, release, 'released'));
    },
    'order.shipped': async (raw, consumed) => {
      const e = orderEventSchemas['order.shipped'].parse(raw);
      const outcome = await throughWorkflow(
        e,
        () => reservations.fulfil({ organizationId: e.organization_id, orderId: e.data.order_id }),
        'fulfilled',
      );
      return recorded(e.organization_id, consumed, outcome);
    },
    'order.returned': async (raw, consumed) => {
      const e = orderEventSchemas['order.returned'].parse(raw);
      const ret = {
        orderId: e.data.order_id,
        lines: e.data.items.map((i) => ({
          variantId: i.variant_id,
          warehouseId: i.warehouse_id,
          quantity: i.quantity,
          damaged: i.damaged,
        })),
      };
      const result = await receiveOrderReturn(scopeTo(orm.em, e.organization_id), ret, consumed);
      if (result.outcome === 'refused') {
        // Another organization's warehouse, or none: no retry can change that, so it is refused and acknowledged.
        logger.warn(`order.returned for order ${e.data.order_id} refused: ${result.reason}`, {
          organizationId: e.organization_id,
        });
      }
      return result.outcome;
    },
  };
}
