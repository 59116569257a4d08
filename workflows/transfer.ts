import {
  type ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { TransferRef, TransferState as StepResult } from '../activities/transfer.activities.ts';
import type { TransferInput, TransferSnapshot } from '../services/inventory/vocabulary.ts';
import { compensationOptions, stepOptions } from './activity-options.ts';
import { oneAtATime } from './one-at-a-time.ts';
import {
  DestinationWarehouseId,
  OrganizationId,
  OriginWarehouseId,
  TransferStatus as TransferStatusAttribute,
  WarehouseIds,
} from './search-attributes.ts';
import { compensationFailed, failedForGood, passedOn, stepFailureTypes } from './step-failures.ts';
import {
  type CancelRequest,
  cancelTransferUpdate,
  createTransferUpdate,
  type ReceiveRequest,
  receiveTransferUpdate,
  type ShipRequest,
  shipTransferUpdate,
  transferQuery,
} from './transfer-definitions.ts';
import { TransferState } from './transfer-state.ts';

const activities = proxyActivities<Activities>(stepOptions);
/** Compensations must finish even through a long outage: they retry for about an hour (still bounded). */
const compensation = proxyActivities<Activities>(compensationOptions);

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
  const state = new TransferState(input, new Date().toISOString());
  const saga = new Saga(input, state);

  setHandler(transferQuery, () => state.snapshot);
  setHandler(createTransferUpdate, () => saga.created());
  setHandler(shipTransferUpdate, (request?: ShipRequest) => saga.ship(request), {
    validator: (_request?: ShipRequest) => state.validateShip(),
  });
  setHandler(receiveTransferUpdate, (request: ReceiveRequest) => saga.receive(request), {
    validator: (request: ReceiveRequest) => state.validateReceipt(request),
  });
  setHandler(cancelTransferUpdate, (request: CancelRequest) => saga.cancel(request), {
    validator: (_request: CancelRequest) => state.validateCancel(),
  });

  upsertSearchAttributes([
    { key: OrganizationId, value: input.organizationId },
    { key: TransferStatusAttribute, value: 'pending' },
    { key: OriginWarehouseId, value: input.originWarehouseId },
    { key: DestinationWarehouseId, value: input.destinationWarehouseId },
    { key: WarehouseIds, value: [input.originWarehouseId, input.destinationWarehouseId] },
  ]);
  await saga.reserveAtOrigin();

  if (input.shipBy) {
    const shippedInTime = await condition(
      () => state.status !== 'reserved' || state.compensationFailure !== undefined,
      Math.max(Date.parse(input.shipBy) - Date.now(), 1),
    );
    if (!shippedInTime) await saga.cancelUnshipped();
  }
  await condition(() => state.closed || state.compensationFailure !== undefined);
  await condition(allHandlersFinished);
  // A compensation run by an update failed that update; the workflow fails with it too, for ops to see.
  if (state.compensationFailure) throw state.compensationFailure;
  return state.snapshot;
}

/** A completed step's compensation, named by its activity (a CompensationFailedError names it). */
interface Compensation {
  name: string;
  run: (actor: string | undefined) => Promise<void>;
}

/**
 * The saga's steps and their compensations. Steps run one at a time (Temporal may interleave update
 * handlers at every await, and two steps on the same stock must not); each activity's answer becomes the state.
 */
class Saga {
  readonly steps = oneAtATime();
  private readonly input: TransferInput;
  private readonly state: TransferState;
  private readonly ref: TransferRef;
  /** Completed steps' compensations, oldest first; undone newest first. */
  private readonly compensations: Compensation[] = [];
  private readonly releaseHold: Compensation;
  /** Why reserving at the origin failed for good: the create update answers with it. */
  private createFailure: ApplicationFailure | undefined;
  private receipts = 0;

  constructor(input: TransferInput, state: TransferState) {
    this.input = input;
    this.state = state;
    this.ref = { organizationId: input.organizationId, transferId: input.transferId };
    this.releaseHold = {
      name: 'releaseTransferHoldIfHeld',
      run: (actor) => compensation.releaseTransferHoldIfHeld(this.by(actor)),
    };
  }

  /** The create update's answer: the transfer once its units are held at the origin, or why not. */
  async created(): Promise<TransferSnapshot> {
    await condition(() => this.state.status !== 'pending');
    if (this.createFailure) throw this.createFailure;
    return this.state.snapshot;
  }

  /** The first step. Refused: nothing is held and the transfer is `cancelled`; retries ran out: compensated. */
  async reserveAtOrigin(): Promise<void> {
    try {
      this.apply(await activities.reserveTransferAtOrigin(this.input));
      this.compensations.push(this.releaseHold);
    } catch (error) {
      const cause = failedForGood(error);
      this.createFailure = passedOn(cause);
      this.state.snapshot.reason = cause.message;
      if (cause.type === stepFailureTypes.retriesExhausted) {
        // An attempt may have committed (its answer lost): undo it like any step, after the caller hears.
        this.state.snapshot.status = 'compensated';
        this.compensations.push(this.releaseHold);
        await this.undo('compensated', `${cause.type}: ${cause.message}`).catch(() => undefined);
      } else {
        // Refused or invalid: the reserve transaction rolled back, nothing is held and no row exists.
        this.state.snapshot.status = 'cancelled';
      }
      await condition(allHandlersFinished);
      throw this.state.compensationFailure ?? this.createFailure;
    }
  }

  ship(request?: ShipRequest): Promise<TransferSnapshot> {
    return this.steps.run(async () => {
      this.state.requireStatus(['reserved'], 'ship');
      const undoShip: Compensation = {
        name: 'returnTransferToOriginIfInTransit',
        run: (actor) => compensation.returnTransferToOriginIfInTransit(this.by(actor)),
      };
      await this.step(() => activities.markTransferInTransit(this.by(request?.actor)), undoShip);
      this.compensations.push(undoShip);
      return this.state.snapshot;
    });
  }

  /** One receipt; the last one (or one that asks to close) closes the transfer, and nothing is left to undo. */
  receive(request: ReceiveRequest): Promise<TransferSnapshot> {
    return this.steps.run(async () => {
      this.state.requireStatus(['in_transit'], 'receive');
      this.receipts += 1;
      const receipt = this.receipts;
      await this.step(() => activities.receiveTransferAtDestination(this.by(request.actor), receipt, request.lines));
      if (request.close || this.state.accounted) {
        await this.step(() => activities.closeTransferReceipt(this.by(request.actor)));
        this.compensations.length = 0;
      }
      return this.state.snapshot;
    });
  }

  cancel({ reason, actor }: CancelRequest): Promise<TransferSnapshot> {
    return this.steps.run(async () => {
      this.state.validateCancel();
      await this.undo('cancelled', reason, actor);
      return this.state.snapshot;
    });
  }

  /** ship_by passed: a transfer still not shipped is cancelled with reason `expired`. */
  cancelUnshipped(): Promise<void> {
    return this.steps.run(async () => {
      if (this.state.status === 'reserved') await this.undo('cancelled', 'expired');
    });
  }

  /**
   * Runs a step; if it fails for good (refused, invalid data, retries run out), compensates and passes
   * the failure on to the caller. A step whose retries ran out may have committed on an attempt whose
   * answer was lost: its own compensation (`ownUndo`, a no-op when the step never committed) runs first.
   */
  private async step(run: () => Promise<StepResult>, ownUndo?: Compensation): Promise<void> {
    try {
      this.apply(await run());
    } catch (error) {
      const cause = failedForGood(error);
      if (ownUndo && cause.type === stepFailureTypes.retriesExhausted) this.compensations.push(ownUndo);
      await this.undo('compensated', `${cause.type}: ${cause.message}`);
      throw passedOn(cause);
    }
  }

  /**
   * Undoes every completed step, newest first; a cancel arriving meanwhile cannot interrupt it. A
   * compensation that fails for good stops the undo where it is (the ones left stay registered) and
   * throws CompensationFailedError, after announcing inventory.transfer.compensation_failed.
   */
  private async undo(status: 'cancelled' | 'compensated', reason: string, actor?: string): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      let undoing = 'recordTransferUndone';
      try {
        for (let next = this.compensations.at(-1); next; next = this.compensations.at(-1)) {
          undoing = next.name;
          await next.run(actor);
          this.compensations.pop();
        }
        undoing = 'recordTransferUndone';
        const undone = await compensation.recordTransferUndone(this.by(actor), status, reason);
        if (undone) this.apply(undone);
      } catch (error) {
        throw await this.compensationFailed(undoing, reason, error);
      }
    });
  }

  /** Remembers the first compensation that failed for good and announces it (best effort). */
  private async compensationFailed(undoing: string, reason: string, error: unknown): Promise<ApplicationFailure> {
    const what = `transfer ${this.ref.transferId}: compensation ${undoing} (undoing because: ${reason})`;
    const failure = compensationFailed(what, error);
    this.state.compensationFailure ??= failure;
    try {
      const announced = { compensation: undoing, reason, message: failure.message };
      await activities.recordTransferCompensationFailed(this.ref, announced);
    } catch (announceError) {
      failedForGood(announceError);
      log.warn('inventory.transfer.compensation_failed could not be written', {
        transferId: this.ref.transferId,
        error: String(announceError),
      });
    }
    return failure;
  }

  /** The ref an activity gets: with the requesting actor when there is one (the activity defaults it). */
  private by(actor: string | undefined): TransferRef {
    return actor === undefined ? this.ref : { ...this.ref, actor };
  }

  private apply(result: StepResult): void {
    this.state.apply(result);
    upsertSearchAttributes([{ key: TransferStatusAttribute, value: this.state.status }]);
  }
}
