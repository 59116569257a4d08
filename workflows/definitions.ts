import { defineQuery, defineUpdate } from '@temporalio/workflow';

/**
 * What the facade and the reservation workflow share: ids, limits, messages and their payloads.
 * Renaming a message or changing a payload incompatibly breaks running workflows: replay tests catch it.
 */

export const taskQueue = 'inventory';

/** One workflow per order: the id makes ReserveStock idempotent by (organization, order). */
export function reservationWorkflowId(organizationId: string, orderId: string): string {
  return `reservation-${organizationId}-${orderId}`;
}

export const reservationLimits = {
  defaultTtlSeconds: 15 * 60,
  minTtlSeconds: 1,
  maxTtlSeconds: 7 * 24 * 60 * 60,
  /** Extensions can never keep a hold longer than this after it was made. */
  maxLifetimeSeconds: 7 * 24 * 60 * 60,
  /**
   * A confirmed hold still open this long after its confirmation is reported as overdue (once). The
   * client passes its configured cap in the workflow input (recorded in history, so replay sees the
   * same value); workflows started without one use this.
   */
  confirmedOverdueSeconds: 7 * 24 * 60 * 60,
};

export type ReservationStatus = 'pending' | 'active' | 'confirmed' | 'released' | 'expired' | 'fulfilled' | 'failed';

export interface ReservationLine {
  variant_id: string;
  quantity: number;
  warehouse_id?: string;
}

export interface Allocation {
  variant_id: string;
  warehouse_id: string;
  quantity: number;
}

export interface Transition {
  status: ReservationStatus;
  at: string;
  reason?: string;
}

/** What ReserveStock asks for; the workflow compares a repeated request with the one it was started with. */
export interface ReserveRequest {
  items: ReservationLine[];
  preferredWarehouseId?: string;
  ttlSeconds: number;
  /** Who asked (the caller's token subject), for the ledger; not part of what makes two requests the same. */
  actor?: string;
}

export interface ReservationWorkflowInput extends ReserveRequest {
  organizationId: string;
  orderId: string;
  reservationId: string;
  /** How long a confirmed hold may stay open before it is reported; reservationLimits.confirmedOverdueSeconds when absent. */
  confirmedOverdueSeconds?: number;
  /** Set when the workflow continues as new: the state to carry on from. */
  resume?: ReservationSnapshot;
}

export interface ReservationSnapshot {
  reservationId: string;
  organizationId: string;
  orderId: string;
  status: ReservationStatus;
  items: ReservationLine[];
  allocations: Allocation[];
  createdAt: string;
  expiresAt: string | null;
  releaseReason: string | null;
  transitions: Transition[];
  /** When the workflow reported the confirmed hold as overdue (inventory.reservation.confirmed_overdue); absent until then. */
  confirmedOverdueAt?: string;
}

export interface ReleaseRequest {
  reason: string;
  /** Who asked, for the ledger (absent in histories from before callers were named). */
  actor?: string;
}

export interface FulfilRequest {
  /** Who asked, for the ledger (absent in histories from before callers were named). */
  actor?: string;
}

export interface ExtendRequest {
  ttlSeconds: number;
}

/** Answers once the hold is committed (or fails with InsufficientStockError / ReservationConflictError). */
export const reserveUpdate = defineUpdate<ReservationSnapshot, [ReserveRequest]>('reserve');
/** Payment done: the hold no longer expires. Idempotent. */
export const confirmUpdate = defineUpdate<ReservationSnapshot, []>('confirm');
/** Held units back to available. Idempotent; refused once fulfilled. */
export const releaseUpdate = defineUpdate<ReservationSnapshot, [ReleaseRequest]>('release');
/** Moves the expiry of an active hold, within the maximum lifetime. */
export const extendUpdate = defineUpdate<ReservationSnapshot, [ExtendRequest]>('extend');
/** The order shipped: the held units leave stock. Idempotent. Histories from before callers were named send no argument. */
export const fulfilUpdate = defineUpdate<ReservationSnapshot, [FulfilRequest]>('fulfil');
/** The reservation as the workflow sees it now. */
export const reservationQuery = defineQuery<ReservationSnapshot>('reservation');

/** Failure types (the domain error class names) the workflow raises to callers. */
export const failureTypes = {
  insufficientStock: 'InsufficientStockError',
  invalidState: 'InvalidReservationStateError',
  conflict: 'ReservationConflictError',
  invalidArgument: 'InvalidArgumentError',
} as const;

/** Lines for the same variant and warehouse choice merged, sorted: two requests are the same order iff their fingerprints match. */
export function canonicalLines(items: ReservationLine[]): ReservationLine[] {
  const merged = new Map<string, ReservationLine>();
  for (const item of items) {
    const key = `${item.variant_id}@${item.warehouse_id ?? ''}`;
    const existing = merged.get(key);
    if (existing) existing.quantity += item.quantity;
    else merged.set(key, { variant_id: item.variant_id, quantity: item.quantity, ...(item.warehouse_id ? { warehouse_id: item.warehouse_id } : {}) });
  }
  return [...merged.values()].sort((a, b) => `${a.variant_id}@${a.warehouse_id ?? ''}`.localeCompare(`${b.variant_id}@${b.warehouse_id ?? ''}`));
}

export function sameRequest(a: ReserveRequest, b: ReserveRequest): boolean {
  return JSON.stringify([canonicalLines(a.items), a.preferredWarehouseId ?? null]) === JSON.stringify([canonicalLines(b.items), b.preferredWarehouseId ?? null]);
}
