import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { HeldReservation, HoldInput } from '../activities/reservation.activities.ts';
import {
  confirmUpdate,
  extendUpdate,
  failureTypes,
  fulfilUpdate,
  releaseUpdate,
  reservationLimits,
  reservationQuery,
  reserveUpdate,
  sameRequest,
  type ReservationSnapshot,
  type ReservationStatus,
  type ReservationWorkflowInput,
  type FulfilRequest,
  type ReleaseRequest,
} from './definitions.ts';
import { ConfirmedOverdue, ExpiresAt, OrderId, OrganizationId, ReservationStatus as ReservationStatusAttribute, WarehouseIds } from './search-attributes.ts';
import { compensationOptions, stepOptions } from './activity-options.ts';
import { compensationFailed, failureOf, retriesExhausted, stepFailureTypes } from './step-failures.ts';
import { oneAtATime } from './one-at-a-time.ts';

const activities = proxyActivities<Activities>(stepOptions);
/** What the workflow owes even through a long outage: a release at expiry, or after a hold failed. */
const cleanup = proxyActivities<Activities>(compensationOptions);

/**
 * Versions of this workflow's code (patched()), so workflows recorded by older code still replay:
 * - ttl-from-commit: the hold's TTL counts from its commit (the activity computes expires_at); before
 *   it, the workflow computed the expiry before the hold ran.
 * - confirmed-overdue: a confirmed hold open longer than its cap is reported (a timer, an activity).
 */
const patches = { ttlFromCommit: 'ttl-from-commit', confirmedOverdue: 'confirmed-overdue' } as const;

const closed: ReservationStatus[] = ['released', 'expired', 'fulfilled', 'failed'];

/**
 * One stock hold for one order (workflow id `reservation-{organization}-{order}`). Started by the
 * first `reserve` update (Update-with-Start), which it answers once the hold is committed. Then it waits
 * for confirm / release / extend / fulfil updates, or for its TTL: a durable timer, counted from the
 * hold's commit, that releases the hold with reason `expired`, across worker and server restarts.
 * Confirmed holds no longer expire; one still open `confirmedOverdueSeconds` after its confirmation is
 * reported once (inventory.reservation.confirmed_overdue, search attribute ConfirmedOverdue).
 * A hold that fails for good (refused, invalid data, retries run out) ends `failed`, announced with
 * inventory.reservation.failed, and the workflow fails with the typed failure the caller got.
 */
export async function reservationWorkflow(input: ReservationWorkflowInput): Promise<ReservationSnapshot> {
  const state: ReservationSnapshot = input.resume ?? {
    reservationId: input.reservationId,
    organizationId: input.organizationId,
    orderId: input.orderId,
    status: 'pending',
    items: input.items,
    allocations: [],
    createdAt: new Date().toISOString(),
    expiresAt: null,
    releaseReason: null,
    transitions: [],
  };
  const ref = { organizationId: input.organizationId, reservationId: state.reservationId };
  const overdueSeconds = input.confirmedOverdueSeconds ?? reservationLimits.confirmedOverdueSeconds;
  /** The ref an activity gets: with the caller who asked, when the update names one (the ledger's actor). */
  const by = (actor: string | undefined) => (actor === undefined ? ref : { ...ref, actor });
  let holdFailure: ApplicationFailure | undefined;

  const steps = oneAtATime();
  const exclusive = steps.run;

  function apply(result: HeldReservation): ReservationSnapshot {
    Object.assign(state, result);
    upsertSearchAttributes([
      { key: ReservationStatusAttribute, value: state.status },
      { key: WarehouseIds, value: [...new Set(state.allocations.map((a) => a.warehouse_id))] },
      { key: ExpiresAt, value: state.status === 'active' && state.expiresAt ? new Date(state.expiresAt) : null },
      // ConfirmedOverdue lists the holds overdue now: one fulfilled or released since is no longer.
      ...(state.confirmedOverdueAt && state.status !== 'confirmed' ? [{ key: ConfirmedOverdue, value: false }] : []),
    ]);
    return state;
  }

  /** A caller's step: one whose retries ran out fails the update with RetriesExhaustedError, the reservation as it was. */
  async function attempt(run: () => Promise<HeldReservation>): Promise<ReservationSnapshot> {
    try {
      return apply(await run());
    } catch (error) {
      throw retriesExhausted(error) ?? error;
    }
  }

  function requireStatus(allowed: ReservationStatus[], action: string): void {
    if (!allowed.includes(state.status)) {
      throw ApplicationFailure.create({ type: failureTypes.invalidState, nonRetryable: true, message: `reservation ${state.reservationId} is ${state.status}: cannot ${action}`, details: [{ status: state.status }] });
    }
  }

  /** Reports the confirmed hold as overdue, once: the event (best effort) and the search attribute ops query. */
  async function reportOverdue(): Promise<void> {
    try {
      await activities.reportReservationConfirmedOverdue(ref, overdueSeconds);
    } catch (error) {
      if (!failureOf(error)) throw error;
      log.warn('inventory.reservation.confirmed_overdue could not be written; the search attribute still says so', { reservationId: state.reservationId, error: String(error) });
    }
    state.confirmedOverdueAt = new Date().toISOString();
    upsertSearchAttributes([{ key: ConfirmedOverdue, value: true }]);
  }

  setHandler(reservationQuery, () => state);

  setHandler(
    reserveUpdate,
    async () => {
      await condition(() => state.status !== 'pending');
      if (holdFailure) throw holdFailure;
      return state;
    },
    {
      validator: (request) => {
        if (!sameRequest(request, input)) {
          throw ApplicationFailure.create({
            type: failureTypes.conflict,
            nonRetryable: true,
            message: `order ${input.orderId} already holds reservation ${state.reservationId} with other items`,
            details: [{ reservation_id: state.reservationId }],
          });
        }
      },
    },
  );

  setHandler(confirmUpdate, () =>
    exclusive(async () => {
      if (state.status === 'confirmed') return state;
      requireStatus(['active'], 'confirm');
      return await attempt(() => activities.confirmReservation(ref));
    }),
    { validator: () => requireStatus(['active', 'confirmed'], 'confirm') },
  );

  setHandler(releaseUpdate, ({ reason, actor }: ReleaseRequest) =>
    exclusive(async () => {
      if (state.status === 'released' || state.status === 'expired') return state;
      requireStatus(['active', 'confirmed'], 'release');
      return await attempt(() => activities.releaseReservation(by(actor), 'released', reason));
    }),
    { validator: (_request: ReleaseRequest) => requireStatus(['active', 'confirmed', 'released', 'expired'], 'release') },
  );

  setHandler(extendUpdate, ({ ttlSeconds }) =>
    exclusive(async () => {
      requireStatus(['active'], 'extend');
      const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
      return await attempt(() => activities.extendReservation(ref, expiresAt));
    }),
    {
      validator: ({ ttlSeconds }) => {
        requireStatus(['active'], 'extend');
        const { minTtlSeconds, maxTtlSeconds, maxLifetimeSeconds } = reservationLimits;
        if (!Number.isInteger(ttlSeconds) || ttlSeconds < minTtlSeconds || ttlSeconds > maxTtlSeconds) {
          throw ApplicationFailure.create({ type: failureTypes.invalidArgument, nonRetryable: true, message: `ttl_seconds must be a whole number from ${minTtlSeconds} to ${maxTtlSeconds}` });
        }
        const lifetime = (Date.now() + ttlSeconds * 1000 - Date.parse(state.createdAt)) / 1000;
        if (lifetime > maxLifetimeSeconds) {
          throw ApplicationFailure.create({
            type: failureTypes.invalidState,
            nonRetryable: true,
            message: `a reservation lives at most ${maxLifetimeSeconds} s: this one was made at ${state.createdAt}, so it can be extended by at most ${Math.floor(maxLifetimeSeconds - (Date.now() - Date.parse(state.createdAt)) / 1000)} s`,
          });
        }
      },
    },
  );

  setHandler(fulfilUpdate, (request?: FulfilRequest) =>
    exclusive(async () => {
      if (state.status === 'fulfilled') return state;
      requireStatus(['active', 'confirmed'], 'fulfil');
      return await attempt(() => activities.fulfilReservation(by(request?.actor)));
    }),
    { validator: (_request?: FulfilRequest) => requireStatus(['active', 'confirmed', 'fulfilled'], 'fulfil') },
  );

  if (!input.resume) {
    upsertSearchAttributes([
      { key: OrganizationId, value: input.organizationId },
      { key: OrderId, value: input.orderId },
      { key: ReservationStatusAttribute, value: 'pending' },
    ]);
    upsertMemo({ lines: input.items });
    const { resume: _resume, confirmedOverdueSeconds: _cap, ...request } = input;
    // Older workflows computed the expiry here, before the hold ran: a hold retried past it committed expired.
    const hold: HoldInput = patched(patches.ttlFromCommit) ? request : { ...input, expiresAt: new Date(Date.now() + input.ttlSeconds * 1000).toISOString() };
    try {
      apply(await activities.holdReservationStock(hold));
    } catch (error) {
      const cause = failureOf(error);
      if (!cause) throw error;
      const shortages = (cause.details?.[0] as { shortages?: unknown[] } | undefined)?.shortages;
      const failure = { type: cause.type ?? 'Error', message: cause.message, shortages };
      holdFailure = ApplicationFailure.create({ type: cause.type ?? undefined, message: cause.message, details: cause.details as unknown[], nonRetryable: true });
      const fail = () => {
        state.status = 'failed';
        upsertSearchAttributes([{ key: ReservationStatusAttribute, value: 'failed' }]);
      };
      let workflowFailure = holdFailure;
      if (cause.type === stepFailureTypes.retriesExhausted) {
        // An attempt may have committed before the others failed (its answer lost): recording the
        // failure gives its units back, a compensation that may take long, so the caller hears first.
        fail();
        try {
          await cleanup.recordReservationFailure(hold, failure);
        } catch (recordError) {
          workflowFailure = compensationFailed(`releasing reservation ${state.reservationId} after its hold failed`, recordError);
        }
      } else {
        // The hold's transaction rolled back: nothing to give back. Recorded (and announced) before the caller hears.
        try {
          await activities.recordReservationFailure(hold, failure);
        } catch (recordError) {
          log.warn('the failed hold could not be recorded: no row and no inventory.reservation.failed', { reservationId: state.reservationId, error: String(recordError) });
        }
        fail();
      }
      // Let the reserve update deliver the failure to its caller before the workflow closes.
      await condition(allHandlersFinished);
      throw workflowFailure;
    }
  }

  while (!closed.includes(state.status)) {
    if (workflowInfo().continueAsNewSuggested) {
      await condition(() => !steps.busy && allHandlersFinished());
      await continueAsNew<typeof reservationWorkflow>({ ...input, resume: state });
    }
    if (state.status === 'active' && state.expiresAt) {
      const expiresAt = state.expiresAt;
      const changed = await condition(() => state.status !== 'active' || state.expiresAt !== expiresAt, Math.max(Date.parse(expiresAt) - Date.now(), 1));
      if (!changed) {
        await exclusive(async () => {
          // An update may have confirmed, released or extended the hold while the timer fired.
          if (state.status !== 'active' || state.expiresAt !== expiresAt) return;
          try {
            apply(await cleanup.releaseReservation(ref, 'expired', 'expired'));
          } catch (error) {
            // Still `active` past its ExpiresAt in Temporal UI and in the table: ops find it, repair, reset.
            throw compensationFailed(`releasing reservation ${state.reservationId} at its expiry ${expiresAt}`, error);
          }
        });
      }
    } else if (state.status === 'confirmed' && !state.confirmedOverdueAt && patched(patches.confirmedOverdue)) {
      const confirmedAt = [...state.transitions].reverse().find((t) => t.status === 'confirmed')?.at;
      const due = (confirmedAt ? Date.parse(confirmedAt) : Date.now()) + overdueSeconds * 1000;
      const moved = await condition(() => state.status !== 'confirmed' || workflowInfo().continueAsNewSuggested, Math.max(due - Date.now(), 1));
      if (!moved) {
        await exclusive(async () => {
          if (state.status === 'confirmed') await reportOverdue();
        });
      }
    } else {
      await condition(() => closed.includes(state.status) || workflowInfo().continueAsNewSuggested);
    }
  }
  await condition(allHandlersFinished);
  return state;
}
