import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { defaultWorkflowDeadlineMs, isClosedOrMissing, toDomainError, withinDeadline } from './workflow-failures.ts';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Orm } from '../db/orm.ts';
import { scopeTo } from '../inventory/organization-scope.ts';
import { findReservation, type ReservationRecord } from '../inventory/reservations/reservations.ts';
import {
  InvalidReservationStateError,
  ReservationConflictError,
  ReservationNotFoundError,
} from '../inventory/errors.ts';
import { canonicalId } from '../inventory/canonical-id.ts';
import { requestFingerprint } from '../inventory/reservations/request-fingerprint.ts';
import { reservationWorkflow } from '../../workflows/reservation.ts';
import {
  confirmUpdate,
  extendUpdate,
  fulfilUpdate,
  releaseUpdate,
  reservationQuery,
  reservationWorkflowId,
  reserveUpdate,
} from '../../workflows/definitions.ts';
import type { ReservationSnapshot, ReserveRequest } from '../inventory/vocabulary.ts';

/** A reservation named by its id or by its order. */
export interface ReservationRef {
  organizationId: string;
  reservationId?: string;
  orderId?: string;
}

export interface ReservationClientDeps {
  client: Client;
  taskQueue: string;
  orm: Orm;
  /** How long a call waits for the workflow's answer before WorkflowUnavailableError (default 10 s). */
  deadlineMs?: number;
  /** A confirmed hold open longer than this is reported as overdue (default reservationLimits: 7 days). */
  confirmedOverdueSeconds?: number;
}

export type ReservationClient = ReturnType<typeof createReservationClient>;

/**
 * Drives the reservation workflows for the facades (gRPC now, order events later), so there is one
 * way to act on a reservation: through its workflow's updates. Temporal failures come back as the
 * domain errors the status maps know. Once a workflow has closed, its row in PostgreSQL answers.
 * Every call waits at most `deadlineMs` for the workflow, then throws WorkflowUnavailableError: all of
 * them are idempotent by (organization, order), so the caller may send the same request again.
 */
export function createReservationClient({
  client,
  taskQueue,
  orm,
  deadlineMs = defaultWorkflowDeadlineMs,
  confirmedOverdueSeconds,
}: ReservationClientDeps) {
  const inTime = <T>(what: string, call: () => Promise<T>) => withinDeadline(client, deadlineMs, what, call);
  async function workflowIdOf(ref: ReservationRef): Promise<{ workflowId: string; record: ReservationRecord | null }> {
    const scope = scopeTo(orm.em, ref.organizationId);
    const record = await findReservation(
      scope,
      ref.reservationId ? { reservationId: ref.reservationId } : { orderId: ref.orderId },
    );
    if (record) return { workflowId: reservationWorkflowId(canonicalId(ref.organizationId), record.orderId), record };
    if (ref.orderId) return { workflowId: reservationWorkflowId(canonicalId(ref.organizationId), ref.orderId), record };
    throw new ReservationNotFoundError(`reservation ${ref.reservationId} does not exist`, {
      reservation_id: ref.reservationId,
    });
  }

  /** Runs an update; when the workflow has closed, `closedAnswer` decides from the stored row. */
  async function update(
    ref: ReservationRef,
    send: (workflowId: string) => Promise<ReservationSnapshot>,
    closedAnswer: (record: ReservationRecord) => ReservationSnapshot,
  ): Promise<ReservationSnapshot> {
    const { workflowId } = await workflowIdOf(ref);
    try {
      return await inTime(`the reservation of ${ref.orderId ? `order ${ref.orderId}` : ref.reservationId}`, () =>
        send(workflowId),
      );
    } catch (error) {
      if (!isClosedOrMissing(error)) throw toDomainError(error);
      const { record } = await workflowIdOf(ref);
      if (!record)
        throw new ReservationNotFoundError(
          `no reservation for ${ref.reservationId ? `id ${ref.reservationId}` : `order ${ref.orderId}`}`,
        );
      return closedAnswer(record);
    }
  }

  return {
    /**
     * Holds stock for an order in one round trip (Update-with-Start): resolves once the hold is
     * committed. Idempotent by (organization, order): the same request returns the same reservation,
     * another request for the same order fails with ReservationConflictError.
     */
    async reserve(organizationId: string, orderId: string, request: ReserveRequest): Promise<ReservationSnapshot> {
      // Order ids are the order service's free text: only the organization's uuid has a canonical case.
      const workflowId = reservationWorkflowId(canonicalId(organizationId), orderId);
      const startWorkflowOperation = new WithStartWorkflowOperation(reservationWorkflow, {
        workflowId,
        taskQueue,
        args: [
          {
            ...request,
            organizationId: canonicalId(organizationId),
            orderId,
            reservationId: randomUUID(),
            ...(confirmedOverdueSeconds ? { confirmedOverdueSeconds } : {}),
          },
        ],
        workflowIdConflictPolicy: 'USE_EXISTING',
        // A refused hold (failed run) may be retried by the order; any other outcome answers for the order for good.
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      });
      try {
        return await inTime(`the hold for order ${orderId}`, () =>
          client.workflow.executeUpdateWithStart(reserveUpdate, { args: [request], startWorkflowOperation }),
        );
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw toDomainError(error);
        // The order's workflow has closed: the stored reservation answers, if it is the same request.
        const record = await findReservation(scopeTo(orm.em, organizationId), { orderId });
        if (record && record.fingerprint === (await requestFingerprint(request)))
          return snapshotOf(organizationId, record);
        throw new ReservationConflictError(
          `order ${orderId} already had reservation ${record?.reservationId ?? ''} with other items`,
          { reservation_id: record?.reservationId },
        );
      }
    },

    async confirm(ref: ReservationRef): Promise<ReservationSnapshot> {
      return await update(
        ref,
        (id) => client.workflow.getHandle(id).executeUpdate(confirmUpdate),
        (record) => {
          if (record.status === 'confirmed' || record.status === 'fulfilled')
            return snapshotOf(ref.organizationId, record);
          throw invalidState(record, 'confirm');
        },
      );
    },

    async release(ref: ReservationRef, reason: string, actor?: string): Promise<ReservationSnapshot> {
      return await update(
        ref,
        (id) =>
          client.workflow
            .getHandle(id)
            .executeUpdate(releaseUpdate, { args: [{ reason, ...(actor ? { actor } : {}) }] }),
        (record) => {
          if (record.status === 'released' || record.status === 'expired')
            return snapshotOf(ref.organizationId, record);
          throw invalidState(record, 'release');
        },
      );
    },

    async extend(ref: ReservationRef, ttlSeconds: number): Promise<ReservationSnapshot> {
      return await update(
        ref,
        (id) => client.workflow.getHandle(id).executeUpdate(extendUpdate, { args: [{ ttlSeconds }] }),
        (record) => {
          throw invalidState(record, 'extend');
        },
      );
    },

    async fulfil(ref: ReservationRef, actor?: string): Promise<ReservationSnapshot> {
      return await update(
        ref,
        (id) => client.workflow.getHandle(id).executeUpdate(fulfilUpdate, { args: [actor ? { actor } : {}] }),
        (record) => {
          if (record.status === 'fulfilled') return snapshotOf(ref.organizationId, record);
          throw invalidState(record, 'fulfil');
        },
      );
    },

    /** The workflow answers while the reservation is open; the stored row once it has closed. */
    async get(ref: ReservationRef): Promise<ReservationSnapshot> {
      const { workflowId, record } = await workflowIdOf(ref);
      if (record && !['active', 'confirmed'].includes(record.status)) return snapshotOf(ref.organizationId, record);
      try {
        return await inTime(`the reservation of order ${ref.orderId ?? record?.orderId}`, () =>
          client.workflow.getHandle(workflowId).query(reservationQuery),
        );
      } catch (error) {
        if (record) return snapshotOf(ref.organizationId, record);
        if (isClosedOrMissing(error)) throw new ReservationNotFoundError(`no reservation for order ${ref.orderId}`);
        throw error;
      }
    },
  };
}

function snapshotOf(organizationId: string, r: ReservationRecord): ReservationSnapshot {
  return {
    reservationId: r.reservationId,
    organizationId,
    orderId: r.orderId,
    status: r.status,
    items: r.items,
    allocations: r.allocations,
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt?.toISOString() ?? null,
    releaseReason: r.releaseReason,
    transitions: r.transitions,
  };
}

function invalidState(record: ReservationRecord, action: string): InvalidReservationStateError {
  return new InvalidReservationStateError(`reservation ${record.reservationId} is ${record.status}: cannot ${action}`, {
    status: record.status,
  });
}
