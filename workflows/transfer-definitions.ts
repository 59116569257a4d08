import { defineQuery, defineUpdate } from '@temporalio/workflow';

/** What the facade and the transfer workflow share. Renaming a message breaks running workflows. */

export function transferWorkflowId(organizationId: string, transferId: string): string {
  return `transfer-${organizationId}-${transferId}`;
}

export type TransferStatus = 'pending' | 'reserved' | 'in_transit' | 'completed' | 'completed_with_discrepancy' | 'cancelled' | 'compensated';

export interface TransferLine {
  variant_id: string;
  quantity: number;
  received: number;
  damaged: number;
  missing: number;
}

export interface TransferInput {
  organizationId: string;
  transferId: string;
  originWarehouseId: string;
  destinationWarehouseId: string;
  lines: { variant_id: string; quantity: number }[];
  notes?: string;
  /** RFC 3339; not shipped by then → cancelled with reason `expired`. */
  shipBy?: string;
  /**
   * Who asked for the transfer, named in its ledger rows and transitions. Optional, like every actor
   * below: workflows started before it existed replay without it and record 'transfer-workflow'.
   */
  actor?: string;
}

export interface TransferSnapshot {
  transferId: string;
  organizationId: string;
  originWarehouseId: string;
  destinationWarehouseId: string;
  status: TransferStatus;
  lines: TransferLine[];
  notes: string | null;
  shipBy: string | null;
  reason: string | null;
  transitions: { status: TransferStatus; at: string; reason?: string; actor?: string }[];
  createdAt: string;
}

export interface ReceiveRequest {
  lines: { variant_id: string; received: number; damaged: number }[];
  /** Close the receipt: units still missing are written off as lost. */
  close: boolean;
  actor?: string;
}

export interface ShipRequest {
  actor?: string;
}

export interface CancelRequest {
  reason: string;
  actor?: string;
}

/** Answers once the units are held at the origin (or fails with InsufficientStockError). */
export const createTransferUpdate = defineUpdate<TransferSnapshot, []>('create');
/** The client always sends ship's argument; updates in histories from before it existed carry none (the handler copes). */
export const shipTransferUpdate = defineUpdate<TransferSnapshot, [ShipRequest]>('ship');
export const receiveTransferUpdate = defineUpdate<TransferSnapshot, [ReceiveRequest]>('receive');
export const cancelTransferUpdate = defineUpdate<TransferSnapshot, [CancelRequest]>('cancel');
export const transferQuery = defineQuery<TransferSnapshot>('transfer');

export const transferFailureTypes = {
  invalidState: 'InvalidTransferStateError',
  invalidTransfer: 'InvalidTransferError',
} as const;
