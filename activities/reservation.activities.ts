import { Context } from '@temporalio/activity';
import type { Orm } from '../services/db/orm.ts';
import { scopeTo } from '../services/inventory/organization-scope.ts';
import {
  confirmReservation,
  extendReservation,
  fulfilHold,
  holdStock,
  recordHoldFailure,
  releaseHold,
  reportConfirmedOverdue,
  type HoldFailure,
  type HoldRequest,
  type ReservationRecord,
} from '../services/inventory/reservations/reservations.ts';
import { requestFingerprint } from '../services/inventory/reservations/request-fingerprint.ts';
import { asApplicationFailure } from './failures.ts';
import type { ReservationSnapshot, ReserveRequest } from '../services/inventory/vocabulary.ts';

export interface ReservationActivityDeps {
  orm: Orm;
}

export interface ReservationRef {
  organizationId: string;
  reservationId: string;
  /** Who asked for the step, for the ledger; the workflow itself (an expiry) when absent. */
  actor?: string;
}

export interface HoldInput extends ReserveRequest {
  organizationId: string;
  orderId: string;
  reservationId: string;
  /**
   * Only from workflows started before the TTL was counted from the commit (patch `ttl-from-commit`):
   * the expiry they computed before the hold ran. Newer workflows leave it out; the hold then expires
   * `ttlSeconds` after it commits, and the workflow's timer uses the expiry the activity returns.
   */
  expiresAt?: string;
}

/** What a hold left in the database, in the shape the workflow keeps. */
export type HeldReservation = Pick<
  ReservationSnapshot,
  'status' | 'allocations' | 'expiresAt' | 'transitions' | 'releaseReason'
>;

/**
 * The reservation workflow's activities. Each is one transaction, idempotent by the reservation id,
 * so Temporal's retries never apply a step twice. Domain errors become non-retryable
 * ApplicationFailures typed with the error class name; anything else is retried.
 */
export function createReservationActivities({ orm }: ReservationActivityDeps) {
  const workflowRef = () => {
    const execution = Context.current().info.workflowExecution;
    if (!execution) throw new Error('reservation activities run inside the reservation workflow');
    return { workflowId: execution.workflowId, runId: execution.runId };
  };
  const scope = (organizationId: string) => scopeTo(orm.em, organizationId);

  return {
    /**
     * Holds the lines (all or none) and writes the reservation row; returns the hold with its expiry,
     * counted from the commit. InsufficientStockError carries the shortages; InvalidDataError for a value
     * the database refuses.
     */
    async holdReservationStock(input: HoldInput): Promise<HeldReservation> {
      return await asApplicationFailure(async () => {
        const hold = await holdStock(
          scope(input.organizationId),
          await toHoldRequest(input),
          workflowRef(),
          new Date(),
        );
        return held(hold);
      });
    },

    /**
     * Records a hold that failed for good and publishes inventory.reservation.failed; gives back the
     * units of an attempt that had committed unbeknown to the workflow. Safe to repeat.
     */
    async recordReservationFailure(
      input: HoldInput,
      failure: { type: string; message: string; shortages?: unknown[] },
    ): Promise<void> {
      await asApplicationFailure(async () => {
        // The shortages are the details InsufficientStockError gave the failure, passed back unchanged.
        const reported = failure as HoldFailure;
        await recordHoldFailure(
          scope(input.organizationId),
          await toHoldRequest(input),
          reported,
          workflowRef(),
          new Date(),
        );
      });
    },

    async confirmReservation(ref: ReservationRef): Promise<HeldReservation> {
      return await asApplicationFailure(async () =>
        held(await confirmReservation(scope(ref.organizationId), ref.reservationId, new Date())),
      );
    },

    async extendReservation(ref: ReservationRef, expiresAt: string): Promise<HeldReservation> {
      return await asApplicationFailure(async () =>
        held(await extendReservation(scope(ref.organizationId), ref.reservationId, new Date(expiresAt), new Date())),
      );
    },

    /** Releases the hold; `outcome` expired marks a TTL release and publishes inventory.reservation.expired. */
    async releaseReservation(
      ref: ReservationRef,
      outcome: 'released' | 'expired',
      reason: string,
    ): Promise<HeldReservation> {
      return await asApplicationFailure(async () => {
        const released = await releaseHold(
          scope(ref.organizationId),
          ref.reservationId,
          outcome,
          reason,
          workflowRef(),
          new Date(),
          ref.actor,
        );
        if (outcome === 'expired' && released.expiresAt) recordExpiryLag(released.expiresAt);
        return held(released);
      });
    },

    async fulfilReservation(ref: ReservationRef): Promise<HeldReservation> {
      return await asApplicationFailure(async () =>
        held(await fulfilHold(scope(ref.organizationId), ref.reservationId, workflowRef(), new Date(), ref.actor)),
      );
    },

    /** Publishes inventory.reservation.confirmed_overdue for a hold confirmed too long ago. Once per reservation. */
    async reportReservationConfirmedOverdue(ref: ReservationRef, overdueSeconds: number): Promise<void> {
      await asApplicationFailure(() =>
        reportConfirmedOverdue(scope(ref.organizationId), ref.reservationId, overdueSeconds, new Date()),
      );
    },
  };
}

async function toHoldRequest(input: HoldInput): Promise<HoldRequest> {
  return {
    reservationId: input.reservationId,
    orderId: input.orderId,
    items: input.items,
    preferredWarehouseId: input.preferredWarehouseId,
    fingerprint: await requestFingerprint(input),
    ttlSeconds: input.ttlSeconds,
    ...(input.expiresAt ? { expiresAt: new Date(input.expiresAt) } : {}),
    actor: input.actor,
  };
}

function held(record: ReservationRecord): HeldReservation {
  return {
    status: record.status,
    allocations: record.allocations,
    expiresAt: record.expiresAt?.toISOString() ?? null,
    transitions: record.transitions,
    releaseReason: record.releaseReason,
  };
}

/**
 * How long after its `expires_at` an expired hold was released: the timer's firing, the activity's queueing
 * and its transaction. Recorded on the activity's metric meter, so the worker's Temporal SDK exporter serves it
 * beside its own series (WORKER_METRICS_PORT) as the histogram `inventory_hold_expiry_lag_seconds`, in the
 * exporter's duration buckets (seconds).
 */
function recordExpiryLag(expiresAt: Date): void {
  Context.current()
    .metricMeter.createHistogram(
      'inventory_hold_expiry_lag_seconds',
      'float',
      's',
      'How long after its expires_at an expired hold was released',
    )
    .record(Math.max(0, Date.now() - expiresAt.getTime()) / 1000);
}
