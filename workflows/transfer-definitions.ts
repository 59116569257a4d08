import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { TransferSnapshot } from '../services/inventory/vocabulary.ts';

/** What the facade and the transfer workflow share. Renaming a message breaks running workflows. */

export function transferWorkflowId(organizationId: string, transferId: string): string {
  return `transfer-${organizationId}-${transferId}`;
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
/** The client always sends ship's argument; older histories' updates carry none (the handler copes). */
export const shipTransferUpdate = defineUpdate<TransferSnapshot, [ShipRequest]>('ship');
export const receiveTransferUpdate = defineUpdate<TransferSnapshot, [ReceiveRequest]>('receive');
export const cancelTransferUpdate = defineUpdate<TransferSnapshot, [CancelRequest]>('cancel');
export const transferQuery = defineQuery<TransferSnapshot>('transfer');
