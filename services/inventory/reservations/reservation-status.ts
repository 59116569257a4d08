import { InvalidReservationStateError } from '../errors.ts';
import type { ReservationStatus } from '../vocabulary.ts';

/**
 * The reservation's status rules, as plain functions: what a step does to a reservation in a given
 * status. 'apply' means the step changes stock and status; 'answer' means it already happened (or, for an
 * expiry, no longer applies) and the reservation is returned as it is. A step that can never apply throws
 * InvalidReservationStateError.
 */
export type StepDecision = 'apply' | 'answer';

/** Statuses in which the reservation holds stock. */
export const holdingStatuses: readonly ReservationStatus[] = ['active', 'confirmed'];

/** A hold attempt: a reservation already committed (anything but a failed attempt) answers for itself. */
export function holdDecision(existing: ReservationStatus | undefined): StepDecision {
  return existing === undefined || existing === 'failed' ? 'apply' : 'answer';
}

/**
 * A release (outcome released) or TTL expiry (outcome expired). Repeats answer. An expiry releases only an
 * active hold: a row confirmed, fulfilled or released meanwhile (by a step whose answer the workflow never
 * got) is returned for the workflow to catch up with. Refused once fulfilled (or failed).
 */
export function releaseDecision(
  reservationId: string,
  status: ReservationStatus,
  outcome: 'released' | 'expired',
): StepDecision {
  if (status === 'released' || status === 'expired') return 'answer';
  if (outcome === 'expired' && status !== 'active') return 'answer';
  if (holdingStatuses.includes(status)) return 'apply';
  throw new InvalidReservationStateError(`reservation ${reservationId} is ${status}: it cannot be released`, {
    status,
  });
}

/** A fulfilment: a repeat answers; only a holding reservation can be fulfilled. */
export function fulfilDecision(reservationId: string, status: ReservationStatus): StepDecision {
  if (status === 'fulfilled') return 'answer';
  if (holdingStatuses.includes(status)) return 'apply';
  throw new InvalidReservationStateError(`reservation ${reservationId} is ${status}: it cannot be fulfilled`, {
    status,
  });
}

/**
 * After a conditional update changed nothing: fine when the reservation already is where the caller
 * wanted it (a repeat), else InvalidReservationStateError saying why not.
 */
export function expectStatus(
  reservationId: string,
  status: ReservationStatus,
  accepted: readonly ReservationStatus[],
  action: string,
): void {
  if (!accepted.includes(status)) {
    throw new InvalidReservationStateError(`reservation ${reservationId} is ${status}: cannot ${action}`, { status });
  }
}

/** The failure's reason as `inventory.reservation.failed` names it. */
export function failureReason(type: string): string {
  return type === 'InsufficientStockError' ? 'insufficient_stock' : type;
}
