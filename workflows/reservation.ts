import {
  type ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { HeldReservation, HoldInput } from '../activities/reservation.activities.ts';
import type { ReservationSnapshot } from '../services/inventory/vocabulary.ts';
import { compensationOptions, localCompensationOptions, localStepOptions, stepOptions } from './activity-options.ts';
import {
  confirmUpdate,
  extendUpdate,
  type FulfilRequest,
  fulfilUpdate,
  type ReleaseRequest,
  releaseUpdate,
  reservationLimits,
  reservationQuery,
  type ReservationWorkflowInput,
  reserveUpdate,
} from './definitions.ts';
import { oneAtATime } from './one-at-a-time.ts';
import { ReservationState } from './reservation-state.ts';
import {
  ConfirmedOverdue,
  ExpiresAt,
  OrderId,
  OrganizationId,
  ReservationStatus as ReservationStatusAttribute,
  WarehouseIds,
} from './search-attributes.ts';
import {
  compensationFailed,
  failedForGood,
  localFailedForGood,
  passedOn,
  retriesExhausted,
  stepFailureTypes,
} from './step-failures.ts';

const activities = proxyActivities<Activities>(stepOptions);
/** What the workflow owes even through a long outage: a release at expiry, or after a hold failed. */
const cleanup = proxyActivities<Activities>(compensationOptions);
/** The hold and its expiry, inside the workflow task that needs them (activity-options.ts). */
const local = proxyLocalActivities<Activities>(localStepOptions);
const localCleanup = proxyLocalActivities<Activities>(localCompensationOptions);

/**
 * Versions of this workflow's code (patched()), so workflows recorded by older code still replay:
 * - ttl-from-commit: the hold's TTL counts from its commit (the activity computes expires_at); before
 *   it, the workflow computed the expiry before the hold ran.
 * - confirmed-overdue: a confirmed hold open longer than its cap is reported (a timer, an activity).
 * - local-hold, local-expiry: the hold, and the release at expiry, run as local activities; before
 *   them, as activities (their own activity task, then a second workflow task).
 * - expiry-from-hold-clock: the expiry timer counts from the instant the hold was written, not from the
 *   workflow task's start. A workflow's clock stands still while a local activity runs in its task, so
 *   counting from it set every timer late by the hold's duration (hundreds of ms in a burst).
 */
const patches = {
  ttlFromCommit: 'ttl-from-commit',
  confirmedOverdue: 'confirmed-overdue',
  localHold: 'local-hold',
  localExpiry: 'local-expiry',
  expiryFromHoldClock: 'expiry-from-hold-clock',
} as const;

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
  const state = new ReservationState(input, new Date().toISOString());
  const hold = new Hold(input, state);

  setHandler(reservationQuery, () => state.snapshot);
  setHandler(reserveUpdate, () => hold.committed(), { validator: (request) => state.validateReserve(request, input) });
  setHandler(confirmUpdate, () => hold.confirm(), { validator: () => state.validateConfirm() });
  setHandler(releaseUpdate, (request: ReleaseRequest) => hold.release(request), {
    validator: (_request: ReleaseRequest) => state.validateRelease(),
  });
  setHandler(extendUpdate, ({ ttlSeconds }) => hold.extend(ttlSeconds), {
    validator: ({ ttlSeconds }) => state.validateExtend(ttlSeconds, Date.now()),
  });
  setHandler(fulfilUpdate, (request?: FulfilRequest) => hold.fulfil(request), {
    validator: (_request?: FulfilRequest) => state.validateFulfil(),
  });

  if (!input.resume) await hold.make();

  while (!state.closed) {
    if (workflowInfo().continueAsNewSuggested) {
      await condition(() => !hold.steps.busy && allHandlersFinished());
      await continueAsNew<typeof reservationWorkflow>({ ...input, resume: state.snapshot });
    }
    const { expiresAt } = state.snapshot;
    if (state.status === 'active' && expiresAt) {
      const changed = await condition(
        () => state.status !== 'active' || state.snapshot.expiresAt !== expiresAt,
        Math.max(Date.parse(expiresAt) - hold.now(), 1),
      );
      if (!changed) await hold.expire(expiresAt);
    } else if (state.awaitingOverdue && patched(patches.confirmedOverdue)) {
      const due = state.overdueAt(hold.overdueSeconds, Date.now());
      const moved = await condition(
        () => state.status !== 'confirmed' || workflowInfo().continueAsNewSuggested,
        Math.max(due - Date.now(), 1),
      );
      if (!moved) await hold.reportOverdueIfStillConfirmed();
    } else {
      await condition(() => state.closed || workflowInfo().continueAsNewSuggested);
    }
  }
  await condition(allHandlersFinished);
  return state.snapshot;
}

/**
 * The hold's steps: each runs its activity, one at a time (Temporal may interleave update handlers at
 * every await, and two steps on the same stock must not), and makes the activity's answer the state.
 */
class Hold {
  readonly steps = oneAtATime();
  readonly overdueSeconds: number;
  private readonly ref: { organizationId: string; reservationId: string };
  /** When the hold was written (its expiry less its TTL), as the hold's own result tells; 0 until then. */
  private heldAt = 0;
  /** Why the hold failed for good: the reserve update answers with it. */
  private failure: ApplicationFailure | undefined;

  private readonly input: ReservationWorkflowInput;
  private readonly state: ReservationState;

  constructor(input: ReservationWorkflowInput, state: ReservationState) {
    this.input = input;
    this.state = state;
    this.ref = { organizationId: input.organizationId, reservationId: state.snapshot.reservationId };
    this.overdueSeconds = input.confirmedOverdueSeconds ?? reservationLimits.confirmedOverdueSeconds;
  }

  /** The reserve update's answer: the reservation once its hold committed, or the failure it ended with. */
  async committed(): Promise<ReservationSnapshot> {
    await condition(() => this.state.status !== 'pending');
    if (this.failure) throw this.failure;
    return this.state.snapshot;
  }

  confirm(): Promise<ReservationSnapshot> {
    return this.steps.run(async () => {
      if (this.state.status === 'confirmed') return this.state.snapshot;
      this.state.requireStatus(['active'], 'confirm');
      return await this.attempt(() => activities.confirmReservation(this.ref));
    });
  }

  release({ reason, actor }: ReleaseRequest): Promise<ReservationSnapshot> {
    return this.steps.run(async () => {
      if (this.state.status === 'released' || this.state.status === 'expired') return this.state.snapshot;
      this.state.requireStatus(['active', 'confirmed'], 'release');
      return await this.attempt(() => activities.releaseReservation(this.by(actor), 'released', reason));
    });
  }

  extend(ttlSeconds: number): Promise<ReservationSnapshot> {
    return this.steps.run(async () => {
      this.state.requireStatus(['active'], 'extend');
      const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
      return await this.attempt(() => activities.extendReservation(this.ref, expiresAt));
    });
  }

  fulfil(request?: FulfilRequest): Promise<ReservationSnapshot> {
    return this.steps.run(async () => {
      if (this.state.status === 'fulfilled') return this.state.snapshot;
      this.state.requireStatus(['active', 'confirmed'], 'fulfil');
      return await this.attempt(() => activities.fulfilReservation(this.by(request?.actor)));
    });
  }

  /** The TTL ran out: the hold goes back to available, unless an update moved it while the timer fired. */
  expire(expiresAt: string): Promise<void> {
    return this.steps.run(async () => {
      if (this.state.status !== 'active' || this.state.snapshot.expiresAt !== expiresAt) return;
      const viaLocal = patched(patches.localExpiry);
      try {
        this.apply(await (viaLocal ? localCleanup : cleanup).releaseReservation(this.ref, 'expired', 'expired'));
      } catch (error) {
        // Still `active` past its ExpiresAt in Temporal UI and in the table: ops find it, repair, reset.
        const what = `releasing reservation ${this.ref.reservationId} at its expiry ${expiresAt}`;
        throw compensationFailed(what, viaLocal ? localFailedForGood(error, 'releaseReservation') : error);
      }
    });
  }

  /** Reports the confirmed hold as overdue, once: the event (best effort) and the search attribute ops query. */
  reportOverdueIfStillConfirmed(): Promise<void> {
    return this.steps.run(async () => {
      if (this.state.status !== 'confirmed') return;
      try {
        await activities.reportReservationConfirmedOverdue(this.ref, this.overdueSeconds);
      } catch (error) {
        failedForGood(error);
        log.warn('inventory.reservation.confirmed_overdue could not be written; the search attribute still says so', {
          reservationId: this.ref.reservationId,
          error: String(error),
        });
      }
      this.state.snapshot.confirmedOverdueAt = new Date().toISOString();
      upsertSearchAttributes([{ key: ConfirmedOverdue, value: true }]);
    });
  }

  /**
   * The workflow's time, for a timer set now. `Date.now()` is the start of the current workflow task and
   * stands still while a local activity runs in it: after the hold, the hold's own clock is later.
   */
  now(): number {
    return patched(patches.expiryFromHoldClock) ? Math.max(Date.now(), this.heldAt) : Date.now();
  }

  /** Makes the hold the workflow was started for; a hold that fails for good ends the workflow `failed`. */
  async make(): Promise<void> {
    const { input } = this;
    upsertSearchAttributes([
      { key: OrganizationId, value: input.organizationId },
      { key: OrderId, value: input.orderId },
      { key: ReservationStatusAttribute, value: 'pending' },
    ]);
    upsertMemo({ lines: input.items });
    const { resume: _resume, confirmedOverdueSeconds: _cap, ...request } = input;
    // Older workflows computed the expiry here, before the hold ran: a hold retried past it committed expired.
    const hold: HoldInput = patched(patches.ttlFromCommit)
      ? request
      : { ...input, expiresAt: new Date(Date.now() + input.ttlSeconds * 1000).toISOString() };
    const viaLocal = patched(patches.localHold);
    try {
      const { expiresAt } = this.apply(await (viaLocal ? local : activities).holdReservationStock(hold));
      if (expiresAt) this.heldAt = Date.parse(expiresAt) - input.ttlSeconds * 1000;
    } catch (error) {
      await this.fail(hold, viaLocal ? localFailedForGood(error, 'holdReservationStock') : failedForGood(error));
    }
  }

  /** Records the failed hold (giving back what an attempt may have held), lets the caller hear, fails. */
  private async fail(hold: HoldInput, cause: ApplicationFailure): Promise<never> {
    const shortages = (cause.details?.[0] as { shortages?: unknown[] } | undefined)?.shortages;
    const failure = { type: cause.type ?? 'Error', message: cause.message, shortages };
    this.failure = passedOn(cause);
    let workflowFailure = this.failure;
    if (cause.type === stepFailureTypes.retriesExhausted) {
      // An attempt may have committed before the others failed (its answer lost): recording the
      // failure gives its units back, a compensation that may take long, so the caller hears first.
      this.markFailed();
      try {
        await cleanup.recordReservationFailure(hold, failure);
      } catch (recordError) {
        const what = `releasing reservation ${this.ref.reservationId} after its hold failed`;
        workflowFailure = compensationFailed(what, recordError);
      }
    } else {
      // The hold's transaction rolled back: nothing to give back. Recorded (and announced) before the caller hears.
      try {
        await activities.recordReservationFailure(hold, failure);
      } catch (recordError) {
        log.warn('the failed hold could not be recorded: no row and no inventory.reservation.failed', {
          reservationId: this.ref.reservationId,
          error: String(recordError),
        });
      }
      this.markFailed();
    }
    // Let the reserve update deliver the failure to its caller before the workflow closes.
    await condition(allHandlersFinished);
    throw workflowFailure;
  }

  private markFailed(): void {
    this.state.snapshot.status = 'failed';
    upsertSearchAttributes([{ key: ReservationStatusAttribute, value: 'failed' }]);
  }

  /** The ref an activity gets: with the caller who asked, when the update names one (the ledger's actor). */
  private by(actor: string | undefined) {
    return actor === undefined ? this.ref : { ...this.ref, actor };
  }

  private apply(result: HeldReservation): ReservationSnapshot {
    const snapshot = this.state.apply(result);
    const expiresAt = snapshot.status === 'active' && snapshot.expiresAt ? new Date(snapshot.expiresAt) : null;
    upsertSearchAttributes([
      { key: ReservationStatusAttribute, value: snapshot.status },
      { key: WarehouseIds, value: this.state.warehouseIds },
      { key: ExpiresAt, value: expiresAt },
      // ConfirmedOverdue lists the holds overdue now: one fulfilled or released since is no longer.
      ...(snapshot.confirmedOverdueAt && snapshot.status !== 'confirmed'
        ? [{ key: ConfirmedOverdue, value: false }]
        : []),
    ]);
    return snapshot;
  }

  /** A caller's step: one whose retries ran out fails the update with RetriesExhaustedError, the state as it was. */
  private async attempt(run: () => Promise<HeldReservation>): Promise<ReservationSnapshot> {
    try {
      return this.apply(await run());
    } catch (error) {
      throw retriesExhausted(error) ?? error;
    }
  }
}
