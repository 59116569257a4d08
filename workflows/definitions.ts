import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ReservationSnapshot, ReserveRequest } from '../services/inventory/vocabulary.ts';

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

export interface ReservationWorkflowInput extends ReserveRequest {
  organizationId: string;
  orderId: string;
  reservationId: string;
  /**
   * How long a confirmed hold may stay open before it is reported; reservationLimits.confirmedOverdueSeconds
   * when absent.
   */
  confirmedOverdueSeconds?: number;
  /** Set when the workflow continues as new: the state to carry on from. */
  resume?: ReservationSnapshot;
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
/** The order shipped: the held units leave stock. Idempotent. Older histories' updates carry no argument. */
export const fulfilUpdate = defineUpdate<ReservationSnapshot, [FulfilRequest]>('fulfil');
/** The reservation as the workflow sees it now. */
export const reservationQuery = defineQuery<ReservationSnapshot>('reservation');
