import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
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
import { stepOptions } from './activity-options.ts';
import { oneAtATime } from './one-at-a-time.ts';

const activities = proxyActivities<Activities>(stepOptions);

const closed: TransferStatus[] = ['completed', 'completed_with_discrepancy', 'cancelled', 'compensated'];

/**
 * A transfer between two warehouses as a saga (workflow id `transfer-{organization}-{transfer}`):
 * reserve at origin → mark in transit → receive at destination, one or several receipts. Each completed
 * step registers its compensation; a cancel, the ship_by deadline, or a step failing for good runs them
 * in reverse, in a non-cancellable scope, so stock is never left half-moved. Each step is recorded
 * under the actor who asked for it (an operator's cancel undoes in their name); what the workflow does
 * on its own (ship_by, compensating a failed step) and anything from before actors is 'transfer-workflow'.
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
  const compensations: ((actor: string | undefined) => Promise<void>)[] = [];
  let createFailure: ApplicationFailure | undefined;
  let receipts = 0;

  const steps = oneAtATime();
  const exclusive = steps.run;

  function apply(result: TransferState): void {
    Object.assign(state, result);
    upsertSearchAttributes([{ key: TransferStatusAttribute, value: state.status }]);
  }

  function requireStatus(allowed: TransferStatus[], action: string): void {
    if (!allowed.includes(state.status)) {
      throw ApplicationFailure.create({ type: transferFailureTypes.invalidState, nonRetryable: true, message: `transfer ${state.transferId} is ${state.status}: cannot ${action}`, details: [{ status: state.status }] });
    }
  }

  /** Undoes every completed step, newest first; a cancel arriving meanwhile cannot interrupt it. */
  async function undo(status: 'cancelled' | 'compensated', reason: string, actor?: string): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      while (compensations.length > 0) await compensations.pop()!(actor);
      apply(await activities.recordTransferUndone(by(actor), status, reason));
    });
  }

  /** Runs a step; if it fails for good, compensates and passes the failure on to the caller. */
  async function step(run: () => Promise<TransferState>): Promise<void> {
    try {
      apply(await run());
    } catch (error) {
      const cause = error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause : undefined;
      if (!cause) throw error;
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
        await step(() => activities.markTransferInTransit(by(request?.actor)));
        compensations.push((actor) => activities.returnTransferToOriginIfInTransit(by(actor)));
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
    compensations.push((actor) => activities.releaseTransferHoldIfHeld(by(actor)));
  } catch (error) {
    const cause = error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause : undefined;
    if (!cause) throw error;
    createFailure = ApplicationFailure.create({ type: cause.type ?? undefined, message: cause.message, details: cause.details as unknown[], nonRetryable: true });
    state.status = 'cancelled';
    state.reason = cause.message;
    await condition(allHandlersFinished);
    throw createFailure;
  }

  if (input.shipBy) {
    const shippedInTime = await condition(() => state.status !== 'reserved', Math.max(Date.parse(input.shipBy) - Date.now(), 1));
    if (!shippedInTime) {
      await exclusive(async () => {
        if (state.status === 'reserved') await undo('cancelled', 'expired');
      });
    }
  }
  await condition(() => closed.includes(state.status));
  await condition(allHandlersFinished);
  return state;
}
