import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { TransferRef, TransferState } from '../activities/transfer.activities.ts';
import {
  cancelTransferUpdate,
  createTransferUpdate,
  receiveTransferUpdate,
  shipTransferUpdate,
  transferFailureTypes,
  transferQuery,
  type CancelRequest,
  type ReceiveRequest,
  type ShipRequest,
  type TransferInput,
  type TransferSnapshot,
  type TransferStatus,
} from './transfer-definitions.ts';
import { DestinationWarehouseId, OrganizationId, OriginWarehouseId, TransferStatus as TransferStatusAttribute, WarehouseIds } from './search-attributes.ts';
import { compensationOptions, stepOptions } from './activity-options.ts';
import { compensationFailed, failureOf, stepFailureTypes } from './step-failures.ts';
import { oneAtATime } from './one-at-a-time.ts';

const activities = proxyActivities<Activities>(stepOptions);
/** Compensations must finish even through a long outage: they retry for about an hour (still bounded). */
const compensation = proxyActivities<Activities>(compensationOptions);

const closed: TransferStatus[] = ['completed', 'completed_with_discrepancy', 'cancelled', 'compensated'];

/**
 * A transfer between two warehouses as a saga (workflow id `transfer-{organization}-{transfer}`):
 * reserve at origin → mark in transit → receive at destination, one or several receipts. Each completed
 * step registers its compensation; a cancel, the ship_by deadline, or a step failing for good runs them
 * in reverse, in a non-cancellable scope, so stock is never left half-moved. A step fails for good on a
 * domain refusal, on invalid data, or when its bounded retries run out (RetriesExhaustedError): the
 * transfer ends `compensated` with the reason. A compensation that fails for good (after about an hour)
 * fails the workflow with CompensationFailedError and publishes inventory.transfer.compensation_failed.
 * Each step is recorded under the actor who asked for it (an operator's cancel undoes in their name);
 * what the workflow does on its own (ship_by, compensating a failed step) and anything from before
 * actors is 'transfer-workflow'.
 */
export async function transferWorkflow(input: TransferInput): Promise<TransferSnapshot> {
  const state: TransferSnapshot = {
    transferId: input.transferId,
    organizationId: input.organizationId,
    originWarehouseId: input.originWarehouseId,
    destinationWarehouseId: input.destinationWarehouseId,
    status: 'pending',
    lines: input.lines.map((l) => ({ ...l, received: 0, damaged: 0, missing: 0 })),
    notes: input.notes ?? null,
    shipBy: input.shipBy ?? null,
    reason: null,
    transitions: [],
    createdAt: new Date().toISOString(),
  };
  const ref = { organizationId: input.organizationId, transferId: input.transferId };
  /** The ref an activity gets: with the requesting actor when there is one (the activity defaults it). */
  const by = (actor: string | undefined): TransferRef => (actor === undefined ? ref : { ...ref, actor });
  /** Completed steps' compensations, by activity name (named in a CompensationFailedError). */
  const compensations: { name: string; run: (actor: string | undefined) => Promise<void> }[] = [];
  const releaseHold = { name: 'releaseTransferHoldIfHeld', run: (actor: string | undefined) => compensation.releaseTransferHoldIfHeld(by(actor)) };
  let createFailure: ApplicationFailure | undefined;
  /** Set once a compensation failed for good: the workflow fails with it when its handlers are done. */
  let compensationFailure: ApplicationFailure | undefined;
  let receipts = 0;

  const steps = oneAtATime();
  const exclusive = steps.run;

  function apply(result: TransferState): void {
    Object.assign(state, result);
    upsertSearchAttributes([{ key: TransferStatusAttribute, value: state.status }]);
  }

  function requireStatus(allowed: TransferStatus[], action: string): void {
    // Left part undone for ops to repair: no further step may run on top of it.
    if (compensationFailure) throw compensationFailure;
    if (!allowed.includes(state.status)) {
      throw ApplicationFailure.create({ type: transferFailureTypes.invalidState, nonRetryable: true, message: `transfer ${state.transferId} is ${state.status}: cannot ${action}`, details: [{ status: state.status }] });
    }
  }

  /**
   * Undoes every completed step, newest first; a cancel arriving meanwhile cannot interrupt it. A
   * compensation that fails for good stops the undo where it is (the ones left stay registered) and
   * throws CompensationFailedError, after announcing inventory.transfer.compensation_failed.
   */
  async function undo(status: 'cancelled' | 'compensated', reason: string, actor?: string): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      let undoing = 'recordTransferUndone';
      try {
        while (compensations.length > 0) {
          const next = compensations[compensations.length - 1];
          undoing = next.name;
          await next.run(actor);
          compensations.pop();
        }
        undoing = 'recordTransferUndone';
        const undone = await compensation.recordTransferUndone(by(actor), status, reason);
        if (undone) apply(undone);
      } catch (error) {
        const failure = compensationFailed(`transfer ${state.transferId}: compensation ${undoing} (undoing because: ${reason})`, error);
        compensationFailure ??= failure;
        try {
          await activities.recordTransferCompensationFailed(ref, { compensation: undoing, reason, message: failure.message });
        } catch (announceError) {
          if (!failureOf(announceError)) throw announceError;
          log.warn('inventory.transfer.compensation_failed could not be written', { transferId: state.transferId, error: String(announceError) });
        }
        throw failure;
      }
    });
  }

  /**
   * Runs a step; if it fails for good (refused, invalid data, retries run out), compensates and passes
   * the failure on to the caller. A step whose retries ran out may have committed on an attempt whose
   * answer was lost: its own compensation (`ownUndo`, a no-op when the step never committed) runs first.
   */
  async function step(run: () => Promise<TransferState>, ownUndo?: (typeof compensations)[number]): Promise<void> {
    try {
      apply(await run());
    } catch (error) {
      const cause = failureOf(error);
      if (!cause) throw error;
      if (ownUndo && cause.type === stepFailureTypes.retriesExhausted) compensations.push(ownUndo);
      await undo('compensated', `${cause.type}: ${cause.message}`);
      throw ApplicationFailure.create({ type: cause.type ?? undefined, message: cause.message, details: cause.details as unknown[], nonRetryable: true });
    }
  }

  setHandler(transferQuery, () => state);

  setHandler(createTransferUpdate, async () => {
    await condition(() => state.status !== 'pending');
    if (createFailure) throw createFailure;
    return state;
  });

  setHandler(
    shipTransferUpdate,
    (request?: ShipRequest) =>
      exclusive(async () => {
        requireStatus(['reserved'], 'ship');
        const undoShip = { name: 'returnTransferToOriginIfInTransit', run: (actor: string | undefined) => compensation.returnTransferToOriginIfInTransit(by(actor)) };
        await step(() => activities.markTransferInTransit(by(request?.actor)), undoShip);
        compensations.push(undoShip);
        return state;
      }),
    { validator: (_request?: ShipRequest) => requireStatus(['reserved'], 'ship') },
  );

  setHandler(
    receiveTransferUpdate,
    (request: ReceiveRequest) =>
      exclusive(async () => {
        requireStatus(['in_transit'], 'receive');
        receipts += 1;
        await step(() => activities.receiveTransferAtDestination(by(request.actor), receipts, request.lines));
        const accounted = state.lines.every((l) => l.received + l.damaged === l.quantity);
        if (request.close || accounted) {
          await step(() => activities.closeTransferReceipt(by(request.actor)));
          compensations.length = 0;
        }
        return state;
      }),
    {
      validator: (request: ReceiveRequest) => {
        requireStatus(['in_transit'], 'receive');
        for (const receipt of request.lines) {
          const line = state.lines.find((l) => l.variant_id === receipt.variant_id);
          const after = line ? line.received + line.damaged + receipt.received + receipt.damaged : 0;
          if (!line || after > line.quantity) {
            throw ApplicationFailure.create({
              type: transferFailureTypes.invalidTransfer,
              nonRetryable: true,
              message: line ? `variant ${receipt.variant_id}: ${after} would be received, only ${line.quantity} were shipped` : `variant ${receipt.variant_id} is not in this transfer`,
              details: [{ variant_id: receipt.variant_id }],
            });
          }
        }
      },
    },
  );

  setHandler(
    cancelTransferUpdate,
    ({ reason, actor }: CancelRequest) =>
      exclusive(async () => {
        requireCancellable();
        await undo('cancelled', reason, actor);
        return state;
      }),
    { validator: (_request: CancelRequest) => requireCancellable() },
  );

  function requireCancellable(): void {
    requireStatus(['reserved', 'in_transit'], 'cancel');
    if (state.lines.some((l) => l.received + l.damaged > 0)) {
      throw ApplicationFailure.create({ type: transferFailureTypes.invalidState, nonRetryable: true, message: `transfer ${state.transferId} is partly received: close the receipt instead of cancelling` });
    }
  }

  upsertSearchAttributes([
    { key: OrganizationId, value: input.organizationId },
    { key: TransferStatusAttribute, value: 'pending' },
    { key: OriginWarehouseId, value: input.originWarehouseId },
    { key: DestinationWarehouseId, value: input.destinationWarehouseId },
    { key: WarehouseIds, value: [input.originWarehouseId, input.destinationWarehouseId] },
  ]);

  try {
    apply(await activities.reserveTransferAtOrigin(input));
    compensations.push(releaseHold);
  } catch (error) {
    const cause = failureOf(error);
    if (!cause) throw error;
    createFailure = ApplicationFailure.create({ type: cause.type ?? undefined, message: cause.message, details: cause.details as unknown[], nonRetryable: true });
    state.reason = cause.message;
    if (cause.type === stepFailureTypes.retriesExhausted) {
      // An attempt may have committed (its answer lost): undo it like any step, after the caller hears.
      state.status = 'compensated';
      compensations.push(releaseHold);
      await undo('compensated', `${cause.type}: ${cause.message}`).catch(() => undefined);
    } else {
      // Refused or invalid: the reserve transaction rolled back, nothing is held and no row exists.
      state.status = 'cancelled';
    }
    await condition(allHandlersFinished);
    throw compensationFailure ?? createFailure;
  }

  if (input.shipBy) {
    const shippedInTime = await condition(() => state.status !== 'reserved' || compensationFailure !== undefined, Math.max(Date.parse(input.shipBy) - Date.now(), 1));
    if (!shippedInTime) {
      await exclusive(async () => {
        if (state.status === 'reserved') await undo('cancelled', 'expired');
      });
    }
  }
  await condition(() => closed.includes(state.status) || compensationFailure !== undefined);
  await condition(allHandlersFinished);
  // A compensation run by an update failed that update; the workflow fails with it too, for ops to see.
  if (compensationFailure) throw compensationFailure;
  return state;
}
