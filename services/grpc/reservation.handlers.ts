import { z } from 'zod';
import type { InventoryServiceHandlers } from './generated/inventory/v1/InventoryService.ts';
import type { Reservation } from './generated/inventory/v1/Reservation.ts';
import { createReservationClient, type ReservationRef } from '../workflow-clients/reservation-client.ts';
import { reservationLimits } from '../../workflows/definitions.ts';
import { unary } from './status.ts';
import { actorOf } from '../auth/access.ts';
import { linesFirst, optionalUuid, uuid } from './validation.ts';
import type { GrpcDeps } from './server.ts';
import { assertHoldQuota, recordCustomerHold } from '../limits/quotas.ts';
import type { QuotaSettings } from '../limits/settings.ts';
import type { ReservationSnapshot } from '../inventory/vocabulary.ts';

type ReservationMethods =
  | 'ReserveStock'
  | 'ConfirmReservation'
  | 'ReleaseReservation'
  | 'ExtendReservation'
  | 'FulfilReservation'
  | 'GetReservation';

const { minTtlSeconds, maxTtlSeconds, defaultTtlSeconds } = reservationLimits;
const ttlRange = `from ${minTtlSeconds} s to ${maxTtlSeconds} s (7 days)`;
const orderId = z
  .string()
  .trim()
  .min(1, { message: 'order_id is required' })
  .max(200, { message: 'order_id is at most 200 characters' });

const reserveRequest = z
  .object({
    organization_id: uuid('organization_id'),
    order_id: orderId,
    items: z
      .array(
        z.object({
          variant_id: uuid('variant_id'),
          quantity: z
            .number()
            .int()
            .min(1, { message: 'quantity must be at least 1' })
            .max(1_000_000, { message: 'quantity is at most 1000000 a line' }),
          warehouse_id: optionalUuid('warehouse_id'),
        }),
      )
      .min(1, { message: 'items must hold at least one line' })
      .max(500, { message: 'items holds at most 500 lines' }),
    preferred_warehouse_id: optionalUuid('preferred_warehouse_id'),
    ttl_minutes: z.number().int().min(0, { message: 'ttl_minutes cannot be negative' }),
    ttl_seconds: z.number().int().min(0, { message: 'ttl_seconds cannot be negative' }),
    customer_id: z
      .string()
      .trim()
      .max(200, { message: 'customer_id is at most 200 characters' })
      .transform((v) => v || undefined),
  })
  .transform((r) => ({ ...r, ttl: r.ttl_seconds || r.ttl_minutes * 60 || defaultTtlSeconds }))
  .refine((r) => r.ttl >= minTtlSeconds && r.ttl <= maxTtlSeconds, {
    message: `the hold's TTL must be ${ttlRange}`,
    path: ['ttl_seconds'],
  });

/** A reservation is named by reservation_id or order_id. */
const reference = z
  .object({
    organization_id: uuid('organization_id'),
    reservation_id: optionalUuid('reservation_id'),
    order_id: z.string().trim().max(200),
  })
  .refine((r) => r.reservation_id || r.order_id, {
    message: 'name the reservation by reservation_id or order_id',
    path: ['reservation_id'],
  })
  .transform(
    (r): ReservationRef => ({
      organizationId: r.organization_id,
      reservationId: r.reservation_id,
      orderId: r.order_id || undefined,
    }),
  );

const releaseRequest = z.object({
  reason: z
    .string()
    .max(500)
    .transform((v) => v.trim() || 'released by the order service'),
});
const extendRequest = z.object({
  ttl_seconds: z
    .number()
    .int()
    .min(minTtlSeconds, { message: `ttl_seconds must be ${ttlRange}` })
    .max(maxTtlSeconds, { message: `ttl_seconds must be ${ttlRange}` }),
});

/**
 * The order service's reservation RPCs: each one drives the order's ReservationWorkflow. ReserveStock
 * first checks the caps on open holds (`quotas`).
 */
export function createReservationHandlers({
  orm,
  logger,
  temporal,
  quotas,
}: GrpcDeps & { quotas: QuotaSettings }): Pick<InventoryServiceHandlers, ReservationMethods> {
  const reservations = temporal ? createReservationClient({ ...temporal, orm }) : undefined;
  const client = () => {
    if (!reservations) throw new Error('the gRPC server was built without a Temporal client');
    return reservations;
  };

  return {
    ReserveStock: unary(logger, 'ReserveStock', async (raw, principal) => {
      const r = reserveRequest.parse(linesFirst(raw));
      const items = r.items.map((i) => ({
        variant_id: i.variant_id,
        quantity: i.quantity,
        ...(i.warehouse_id ? { warehouse_id: i.warehouse_id } : {}),
      }));
      const hold = { organizationId: r.organization_id, orderId: r.order_id, customerId: r.customer_id };
      const em = orm.em.fork();
      await assertHoldQuota(em, quotas, hold);
      if (hold.customerId) await recordCustomerHold(em, { ...hold, customerId: hold.customerId });
      const reservation = await client().reserve(r.organization_id, r.order_id, {
        items,
        preferredWarehouseId: r.preferred_warehouse_id,
        ttlSeconds: r.ttl,
        actor: actorOf(principal),
      });
      return {
        success: true,
        reservation_id: reservation.reservationId,
        status: reservation.status,
        expires_at: reservation.expiresAt ?? '',
        allocations: reservation.allocations,
        error_message: '',
      };
    }),

    ConfirmReservation: unary(logger, 'ConfirmReservation', async (raw) => {
      const reservation = await client().confirm(reference.parse(raw));
      return { success: true, reservation_id: reservation.reservationId, status: reservation.status };
    }),

    ReleaseReservation: unary(logger, 'ReleaseReservation', async (raw, principal) => {
      const ref = reference.parse(raw);
      const { reason } = releaseRequest.parse(raw);
      const reservation = await client().release(ref, reason, actorOf(principal));
      return { success: true, reservation_id: reservation.reservationId, status: reservation.status };
    }),

    ExtendReservation: unary(logger, 'ExtendReservation', async (raw) => {
      const ref = reference.parse(raw);
      const { ttl_seconds } = extendRequest.parse(raw);
      const reservation = await client().extend(ref, ttl_seconds);
      return {
        success: true,
        reservation_id: reservation.reservationId,
        status: reservation.status,
        expires_at: reservation.expiresAt ?? '',
      };
    }),

    FulfilReservation: unary(logger, 'FulfilReservation', async (raw, principal) => {
      const reservation = await client().fulfil(reference.parse(raw), actorOf(principal));
      return { success: true, reservation_id: reservation.reservationId, status: reservation.status };
    }),

    GetReservation: unary(logger, 'GetReservation', async (raw) =>
      reservationMessage(await client().get(reference.parse(raw))),
    ),
  };
}

function reservationMessage(r: ReservationSnapshot): Reservation {
  const lines = r.items.map((i) => ({
    variant_id: i.variant_id,
    quantity: i.quantity,
    warehouse_id: i.warehouse_id ?? '',
  }));
  return {
    reservation_id: r.reservationId,
    organization_id: r.organizationId,
    order_id: r.orderId,
    status: r.status,
    lines,
    // Deprecated spelling (proto v1.0), filled until v1.2.
    items: lines,
    allocations: r.allocations,
    expires_at: r.expiresAt ?? '',
    transitions: r.transitions.map((t) => ({ status: t.status, at: t.at, reason: t.reason ?? '' })),
    release_reason: r.releaseReason ?? '',
  };
}
