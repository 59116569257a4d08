import { ApplicationFailure } from '@temporalio/workflow';
import {
  closedReservationStatuses,
  failureTypes,
  type ReservationSnapshot,
  type ReservationWorkflowStatus,
  type ReserveRequest,
  reserveRequestKey,
} from '../services/inventory/vocabulary.ts';
import { reservationLimits, type ReservationWorkflowInput } from './definitions.ts';

/** Two ReserveStock requests are the same order iff their canonical lines and warehouse preference match. */
export function sameRequest(a: ReserveRequest, b: ReserveRequest): boolean {
  return reserveRequestKey(a) === reserveRequestKey(b);
}

/**
 * A reservation workflow's state and its rules, without I/O: which action each status allows, what an
 * update validator refuses, when the hold is due to expire or to be reported overdue. The workflow
 * (reservation.ts) runs the activities and the timers; this decides. Every refusal is a non-retryable
 * ApplicationFailure typed with the domain error's name. `now` is the workflow's clock (Date.now() in a
 * workflow is deterministic), passed in so the rules can be unit-tested.
 */
export class ReservationState {
  readonly snapshot: ReservationSnapshot;

  constructor(input: ReservationWorkflowInput, now: string) {
    this.snapshot = input.resume ?? {
      reservationId: input.reservationId,
      organizationId: input.organizationId,
      orderId: input.orderId,
      status: 'pending',
      items: input.items,
      allocations: [],
      createdAt: now,
      expiresAt: null,
      releaseReason: null,
      transitions: [],
    };
  }

  get status(): ReservationWorkflowStatus {
    return this.snapshot.status;
  }

  /** Released, expired, fulfilled or failed: nothing will change it again. */
  get closed(): boolean {
    return (closedReservationStatuses as readonly string[]).includes(this.snapshot.status);
  }

  /** What an activity answered becomes the state (the activity's row is the truth). */
  apply(result: Partial<ReservationSnapshot>): ReservationSnapshot {
    return Object.assign(this.snapshot, result);
  }

  /** Refuses `action` unless the reservation is in one of `allowed` (InvalidReservationStateError). */
  requireStatus(allowed: readonly ReservationWorkflowStatus[], action: string): void {
    const { status, reservationId } = this.snapshot;
    if (!allowed.includes(status)) {
      throw ApplicationFailure.create({
        type: failureTypes.InvalidReservationStateError,
        nonRetryable: true,
        message: `reservation ${reservationId} is ${status}: cannot ${action}`,
        details: [{ status }],
      });
    }
  }

  /** A repeated ReserveStock must ask for what the workflow was started with (ReservationConflictError). */
  validateReserve(request: ReserveRequest, started: ReservationWorkflowInput): void {
    if (!sameRequest(request, started)) {
      throw ApplicationFailure.create({
        type: failureTypes.ReservationConflictError,
        nonRetryable: true,
        message: `order ${started.orderId} already holds reservation ${this.snapshot.reservationId} with other items`,
        details: [{ reservation_id: this.snapshot.reservationId }],
      });
    }
  }

  validateConfirm(): void {
    this.requireStatus(['active', 'confirmed'], 'confirm');
  }

  validateRelease(): void {
    this.requireStatus(['active', 'confirmed', 'released', 'expired'], 'release');
  }

  validateFulfil(): void {
    this.requireStatus(['active', 'confirmed', 'fulfilled'], 'fulfil');
  }

  /**
   * An extension must be a whole number of seconds within the limits (InvalidArgumentError) and keep the
   * hold within its maximum lifetime from its creation (InvalidReservationStateError).
   */
  validateExtend(ttlSeconds: number, nowMs: number): void {
    this.requireStatus(['active'], 'extend');
    const { minTtlSeconds, maxTtlSeconds, maxLifetimeSeconds } = reservationLimits;
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < minTtlSeconds || ttlSeconds > maxTtlSeconds) {
      throw ApplicationFailure.create({
        type: failureTypes.InvalidArgumentError,
        nonRetryable: true,
        message: `ttl_seconds must be a whole number from ${minTtlSeconds} to ${maxTtlSeconds}`,
      });
    }
    const createdAt = Date.parse(this.snapshot.createdAt);
    const lifetime = (nowMs + ttlSeconds * 1000 - createdAt) / 1000;
    if (lifetime > maxLifetimeSeconds) {
      const left = Math.floor(maxLifetimeSeconds - (nowMs - createdAt) / 1000);
      throw ApplicationFailure.create({
        type: failureTypes.InvalidReservationStateError,
        nonRetryable: true,
        message:
          `a reservation lives at most ${maxLifetimeSeconds} s: this one was made at ${this.snapshot.createdAt}, ` +
          `so it can be extended by at most ${left} s`,
      });
    }
  }

  /** When a confirmed hold becomes overdue (ms since the epoch): `overdueSeconds` after its last confirmation. */
  overdueAt(overdueSeconds: number, nowMs: number): number {
    const confirmedAt = [...this.snapshot.transitions].reverse().find((t) => t.status === 'confirmed')?.at;
    return (confirmedAt ? Date.parse(confirmedAt) : nowMs) + overdueSeconds * 1000;
  }

  /** Still to be reported overdue: confirmed, and not reported yet. */
  get awaitingOverdue(): boolean {
    return this.snapshot.status === 'confirmed' && !this.snapshot.confirmedOverdueAt;
  }

  /** The warehouses its units are held in, for the WarehouseIds search attribute. */
  get warehouseIds(): string[] {
    return [...new Set(this.snapshot.allocations.map((a) => a.warehouse_id))];
  }
}
