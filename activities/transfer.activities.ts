import { Context } from '@temporalio/activity';
import type { Orm } from '../services/db/orm.ts';
import { scopeTo } from '../services/inventory/organization-scope.ts';
import {
  closeReceipt,
  markInTransit,
  recordCompensationFailed,
  receiveAtDestination,
  recordUndone,
  releaseOriginHoldIfHeld,
  reserveAtOrigin,
  returnToOriginIfInTransit,
  transferWorkflowActor,
  type Receipt,
  type TransferRecord,
} from '../services/inventory/transfers/transfers.ts';
import { asApplicationFailure } from './failures.ts';
import type { TransferInput, TransferSnapshot } from '../services/inventory/vocabulary.ts';

export interface TransferRef {
  organizationId: string;
  transferId: string;
  /** Who asked for the step; absent for the workflow's own steps and in histories from before actors. */
  actor?: string;
}

export type TransferState = Pick<TransferSnapshot, 'status' | 'lines' | 'reason' | 'transitions'>;

/**
 * The transfer saga's steps and compensations. Each is one transaction, idempotent by the transfer id
 * and step (compensations are safe to repeat); domain errors become non-retryable typed failures.
 */
export function createTransferActivities({ orm }: { orm: Orm }) {
  const workflowRef = () => {
    const execution = Context.current().info.workflowExecution;
    if (!execution) throw new Error('transfer activities run inside the transfer workflow');
    return { workflowId: execution.workflowId, runId: execution.runId };
  };
  const scope = (organizationId: string) => scopeTo(orm.em, organizationId);
  const state = (t: TransferRecord): TransferState => ({
    status: t.status,
    lines: t.lines,
    reason: t.reason,
    transitions: t.transitions,
  });
  const actor = (from: { actor?: string }) => from.actor ?? transferWorkflowActor;

  return {
    async reserveTransferAtOrigin(input: TransferInput): Promise<TransferState> {
      return await asApplicationFailure(async () =>
        state(await reserveAtOrigin(scope(input.organizationId), input, actor(input), workflowRef(), new Date())),
      );
    },
    async markTransferInTransit(ref: TransferRef): Promise<TransferState> {
      return await asApplicationFailure(async () =>
        state(await markInTransit(scope(ref.organizationId), ref.transferId, actor(ref), workflowRef(), new Date())),
      );
    },
    async receiveTransferAtDestination(
      ref: TransferRef,
      receiptNumber: number,
      receipts: Receipt[],
    ): Promise<TransferState> {
      return await asApplicationFailure(async () =>
        state(
          await receiveAtDestination(
            scope(ref.organizationId),
            ref.transferId,
            receiptNumber,
            receipts,
            actor(ref),
            workflowRef(),
            new Date(),
          ),
        ),
      );
    },
    async closeTransferReceipt(ref: TransferRef): Promise<TransferState> {
      return await asApplicationFailure(async () =>
        state(await closeReceipt(scope(ref.organizationId), ref.transferId, actor(ref), workflowRef(), new Date())),
      );
    },
    /** Compensation of mark-in-transit. Safe to repeat. */
    async returnTransferToOriginIfInTransit(ref: TransferRef): Promise<void> {
      await asApplicationFailure(() =>
        returnToOriginIfInTransit(scope(ref.organizationId), ref.transferId, actor(ref), workflowRef()),
      );
    },
    /** Compensation of reserve-at-origin. Safe to repeat. */
    async releaseTransferHoldIfHeld(ref: TransferRef): Promise<void> {
      await asApplicationFailure(() =>
        releaseOriginHoldIfHeld(scope(ref.organizationId), ref.transferId, actor(ref), workflowRef()),
      );
    },
    /** Records the end of an undone transfer (inventory.transfer.cancelled); null when no reserve step ever committed. */
    async recordTransferUndone(
      ref: TransferRef,
      status: 'cancelled' | 'compensated',
      reason: string,
    ): Promise<TransferState | null> {
      return await asApplicationFailure(async () => {
        const undone = await recordUndone(
          scope(ref.organizationId),
          ref.transferId,
          status,
          reason,
          actor(ref),
          new Date(),
        );
        return undone ? state(undone) : null;
      });
    },
    /** Publishes inventory.transfer.compensation_failed: the transfer is left part undone for ops. Once per run and compensation. */
    async recordTransferCompensationFailed(
      ref: TransferRef,
      failure: { compensation: string; reason: string; message: string },
    ): Promise<void> {
      await asApplicationFailure(() =>
        recordCompensationFailed(scope(ref.organizationId), ref.transferId, failure, workflowRef(), new Date()),
      );
    },
  };
}
