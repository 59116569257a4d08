import { ApplicationFailure } from '@temporalio/workflow';
import {
  closedTransferStatuses,
  failureTypes,
  type TransferInput,
  type TransferSnapshot,
  type TransferStatus,
} from '../services/inventory/vocabulary.ts';
import type { ReceiveRequest } from './transfer-definitions.ts';

/**
 * A transfer workflow's state and its rules, without I/O: which action each status allows, what a
 * receipt may count, when a transfer may still be cancelled. The workflow (transfer.ts) runs the saga's
 * steps and compensations; this decides. Every refusal is a non-retryable ApplicationFailure typed with
 * the domain error's name.
 */
export class TransferState {
  readonly snapshot: TransferSnapshot;
  /** Set once a compensation failed for good: part is left undone for ops to repair, so nothing may run on top. */
  compensationFailure: ApplicationFailure | undefined;

  constructor(input: TransferInput, now: string) {
    this.snapshot = {
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
      createdAt: now,
    };
  }

  get status(): TransferStatus {
    return this.snapshot.status;
  }

  /** Completed, cancelled or compensated: nothing will change it again. */
  get closed(): boolean {
    return closedTransferStatuses.includes(this.snapshot.status);
  }

  /** Every shipped unit counted at the destination (received or damaged): the receipt can close. */
  get accounted(): boolean {
    return this.snapshot.lines.every((l) => l.received + l.damaged === l.quantity);
  }

  /** What an activity answered becomes the state (the activity's row is the truth). */
  apply(result: Partial<TransferSnapshot>): TransferSnapshot {
    return Object.assign(this.snapshot, result);
  }

  /**
   * Refuses `action` unless the transfer is in one of `allowed` (InvalidTransferStateError), or with the
   * compensation failure once one left part of it undone.
   */
  requireStatus(allowed: readonly TransferStatus[], action: string): void {
    if (this.compensationFailure) throw this.compensationFailure;
    const { status, transferId } = this.snapshot;
    if (!allowed.includes(status)) {
      throw ApplicationFailure.create({
        type: failureTypes.InvalidTransferStateError,
        nonRetryable: true,
        message: `transfer ${transferId} is ${status}: cannot ${action}`,
        details: [{ status }],
      });
    }
  }

  validateShip(): void {
    this.requireStatus(['reserved'], 'ship');
  }

  /** A receipt names only variants of the transfer and never counts more than was shipped (InvalidTransferError). */
  validateReceipt(request: ReceiveRequest): void {
    this.requireStatus(['in_transit'], 'receive');
    for (const receipt of request.lines) {
      const line = this.snapshot.lines.find((l) => l.variant_id === receipt.variant_id);
      const after = line ? line.received + line.damaged + receipt.received + receipt.damaged : 0;
      if (!line || after > line.quantity) {
        throw ApplicationFailure.create({
          type: failureTypes.InvalidTransferError,
          nonRetryable: true,
          message: line
            ? `variant ${receipt.variant_id}: ${after} would be received, only ${line.quantity} were shipped`
            : `variant ${receipt.variant_id} is not in this transfer`,
          details: [{ variant_id: receipt.variant_id }],
        });
      }
    }
  }

  /** Reserved or in transit, and nothing received yet: a partial receipt is closed, not cancelled. */
  validateCancel(): void {
    this.requireStatus(['reserved', 'in_transit'], 'cancel');
    if (this.snapshot.lines.some((l) => l.received + l.damaged > 0)) {
      throw ApplicationFailure.create({
        type: failureTypes.InvalidTransferStateError,
        nonRetryable: true,
        message: `transfer ${this.snapshot.transferId} is partly received: close the receipt instead of cancelling`,
      });
    }
  }
}
