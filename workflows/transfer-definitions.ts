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
  transitions: { status: TransferStatus; at: string; reason?: string }[];
  createdAt: string;
}

export interface ReceiveRequest {
  lines: { variant_id: string; received: number; damaged: number }[];
  /** Close the receipt: units still missing are written off as lost. */
  close: boolean;
}

/** Answers once the units are held at the origin (or fails with InsufficientStockError). */
export const createTransferUpdate = defineUpdate<TransferSnapshot, []>('create');
export const shipTransferUpdate = defineUpdate<TransferSnapshot, []>('ship');
export const receiveTransferUpdate = defineUpdate<TransferSnapshot, [ReceiveRequest]>('receive');
export const cancelTransferUpdate = defineUpdate<TransferSnapshot, [{ reason: string }]>('cancel');
export const transferQuery = defineQuery<TransferSnapshot>('transfer');

export const transferFailureTypes = {
  invalidState: 'InvalidTransferStateError',
  invalidTransfer: 'InvalidTransferError',
} as const;
