import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { HeldReservation } from '../activities/reservation.activities.ts';
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
import { ExpiresAt, OrderId, OrganizationId, ReservationStatus as ReservationStatusAttribute, WarehouseIds } from './search-attributes.ts';
import { stepOptions } from './activity-options.ts';
import { oneAtATime } from './one-at-a-time.ts';

const activities = proxyActivities<Activities>(stepOptions);

const closed: ReservationStatus[] = ['released', 'expired', 'fulfilled', 'failed'];

/**
 * One stock hold for one order (workflow id `reservation-{organization}-{order}`). Started by the
 * first `reserve` update (Update-with-Start), which it answers once the hold is committed. Then it waits
 * for confirm / release / extend / fulfil updates, or for its TTL: a durable timer that releases the
 * hold with reason `expired`, across worker and server restarts. Confirmed holds no longer expire.
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
    ]);
    return state;
  }

  function requireStatus(allowed: ReservationStatus[], action: string): void {
    if (!allowed.includes(state.status)) {
      throw ApplicationFailure.create({ type: failureTypes.invalidState, nonRetryable: true, message: `reservation ${state.reservationId} is ${state.status}: cannot ${action}`, details: [{ status: state.status }] });
    }
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
      return apply(await activities.confirmReservation(ref));
    }),
    { validator: () => requireStatus(['active', 'confirmed'], 'confirm') },
  );

  setHandler(releaseUpdate, ({ reason, actor }: ReleaseRequest) =>
    exclusive(async () => {
      if (state.status === 'released' || state.status === 'expired') return state;
      requireStatus(['active', 'confirmed'], 'release');
      return apply(await activities.releaseReservation(by(actor), 'released', reason));
    }),
    { validator: (_request: ReleaseRequest) => requireStatus(['active', 'confirmed', 'released', 'expired'], 'release') },
  );

  setHandler(extendUpdate, ({ ttlSeconds }) =>
    exclusive(async () => {
      requireStatus(['active'], 'extend');
      const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
      return apply(await activities.extendReservation(ref, expiresAt));
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
      return apply(await activities.fulfilReservation(by(request?.actor)));
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
    const hold = { ...input, expiresAt: new Date(Date.now() + input.ttlSeconds * 1000).toISOString() };
    try {
      apply(await activities.holdReservationStock(hold));
    } catch (error) {
      const cause = error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause : undefined;
      if (!cause) throw error;
      const shortages = (cause.details?.[0] as { shortages?: unknown[] } | undefined)?.shortages;
      await activities.recordReservationFailure(hold, { type: cause.type ?? 'Error', message: cause.message, shortages });
      holdFailure = ApplicationFailure.create({ type: cause.type ?? undefined, message: cause.message, details: cause.details as unknown[], nonRetryable: true });
      state.status = 'failed';
      upsertSearchAttributes([{ key: ReservationStatusAttribute, value: 'failed' }]);
      // Let the reserve update deliver the failure to its caller before the workflow closes.
      await condition(allHandlersFinished);
      throw holdFailure;
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
          if (state.status === 'active' && state.expiresAt === expiresAt) apply(await activities.releaseReservation(ref, 'expired', 'expired'));
        });
      }
    } else {
      await condition(() => closed.includes(state.status) || workflowInfo().continueAsNewSuggested);
    }
  }
  await condition(allHandlersFinished);
  return state;
}
