import { InvalidTransferError } from '../errors.ts';
import type { StockChange } from '../stock/ledger.ts';
import type { TransferLine, TransferStatus } from './transfer.entity.ts';

/**
 * The transfer saga's stock arithmetic, as plain functions: which ledger changes each step makes from the
 * transfer's lines, and how receipts and the close change those lines. No I/O: transfers.ts applies them.
 */

/** Where a transfer moves goods: what the step functions need of it. */
export interface TransferLegs {
  transferId: string;
  originWarehouseId: string;
  destinationWarehouseId: string;
  lines: TransferLine[];
}

export interface Receipt {
  variant_id: string;
  received: number;
  damaged: number;
}

/** The requested lines with one line per variant (quantities summed), nothing received yet. */
export function newTransferLines(lines: { variant_id: string; quantity: number }[]): TransferLine[] {
  const merged = new Map<string, number>();
  for (const l of lines) merged.set(l.variant_id, (merged.get(l.variant_id) ?? 0) + l.quantity);
  return [...merged.entries()].map(([variant_id, quantity]) => ({
    variant_id,
    quantity,
    received: 0,
    damaged: 0,
    missing: 0,
  }));
}

/** Step 1: the lines are held at the origin. */
export function reserveChanges(t: Pick<TransferLegs, 'originWarehouseId' | 'lines'>): StockChange[] {
  return t.lines.map((l) => ({
    variantId: l.variant_id,
    warehouseId: t.originWarehouseId,
    type: 'reserve' as const,
    deltas: { available: -l.quantity, reserved: l.quantity },
  }));
}

/** Step 2: the held units leave the origin shelf (in transit) and appear as incoming at the destination. */
export function shipChanges(t: TransferLegs): StockChange[] {
  return t.lines.flatMap((l) => [
    {
      variantId: l.variant_id,
      warehouseId: t.originWarehouseId,
      type: 'transfer_out' as const,
      deltas: { reserved: -l.quantity, inTransit: l.quantity },
      reason: 'shipped',
    },
    {
      variantId: l.variant_id,
      warehouseId: t.destinationWarehouseId,
      type: 'incoming' as const,
      deltas: { incoming: l.quantity },
      reason: 'shipped towards this warehouse',
      createIfMissing: true,
    },
  ]);
}

/**
 * Adds receipts to the lines; InvalidTransferError when a line would receive more than was shipped, or is
 * not in the transfer.
 */
export function applyReceipts(lines: TransferLine[], receipts: Receipt[]): TransferLine[] {
  const next = lines.map((l) => ({ ...l }));
  for (const r of receipts) {
    const line = next.find((l) => l.variant_id === r.variant_id);
    if (!line)
      throw new InvalidTransferError(`variant ${r.variant_id} is not in this transfer`, { variant_id: r.variant_id });
    line.received += r.received;
    line.damaged += r.damaged;
    if (line.received + line.damaged > line.quantity) {
      throw new InvalidTransferError(
        `variant ${r.variant_id}: ${line.received + line.damaged} would be received, ` +
          `only ${line.quantity} were shipped`,
        { variant_id: r.variant_id, shipped: line.quantity },
      );
    }
  }
  return next;
}

/**
 * Step 3, one receipt: received units become available at the destination, damaged ones damaged; both leave
 * the origin's in-transit.
 */
export function receiptChanges(t: TransferLegs, receipts: Receipt[]): StockChange[] {
  return receipts
    .filter((r) => r.received + r.damaged > 0)
    .flatMap((r) => [
      {
        variantId: r.variant_id,
        warehouseId: t.originWarehouseId,
        type: 'transfer_out' as const,
        deltas: { inTransit: -(r.received + r.damaged) },
        reason: 'delivered to the destination',
      },
      {
        variantId: r.variant_id,
        warehouseId: t.destinationWarehouseId,
        type: 'transfer_in' as const,
        deltas: { available: r.received, damaged: r.damaged, incoming: -(r.received + r.damaged) },
        reason: r.damaged ? `${r.damaged} arrived damaged` : undefined,
      },
    ]);
}

/**
 * Closing the receipt: units still missing are written off as a `loss` at both ends; the status is
 * completed, or completed_with_discrepancy when anything went missing or arrived damaged.
 */
export function closing(t: TransferLegs): { lines: TransferLine[]; changes: StockChange[]; status: TransferStatus } {
  const lines = t.lines.map((l) => ({ ...l, missing: l.quantity - l.received - l.damaged }));
  const changes: StockChange[] = lines
    .filter((l) => l.missing > 0)
    .flatMap((l) => [
      {
        variantId: l.variant_id,
        warehouseId: t.originWarehouseId,
        type: 'loss' as const,
        deltas: { inTransit: -l.missing },
        reason: `lost in transfer ${t.transferId}`,
      },
      {
        variantId: l.variant_id,
        warehouseId: t.destinationWarehouseId,
        type: 'loss' as const,
        deltas: { incoming: -l.missing },
        reason: `never arrived from transfer ${t.transferId}`,
      },
    ]);
  const discrepancy = lines.some((l) => l.missing > 0 || l.damaged > 0);
  return { lines, changes, status: discrepancy ? 'completed_with_discrepancy' : 'completed' };
}

/** Undoing step 2: units still in transit go back on the origin's hold; the destination stops expecting them. */
export function undoShipChanges(t: TransferLegs): StockChange[] {
  return t.lines
    .map((l) => ({ variantId: l.variant_id, pending: l.quantity - l.received - l.damaged }))
    .filter((l) => l.pending > 0)
    .flatMap((l) => [
      {
        variantId: l.variantId,
        warehouseId: t.originWarehouseId,
        type: 'transfer_in' as const,
        deltas: { inTransit: -l.pending, reserved: l.pending },
        reason: 'returned to origin',
      },
      {
        variantId: l.variantId,
        warehouseId: t.destinationWarehouseId,
        type: 'incoming' as const,
        deltas: { incoming: -l.pending },
        reason: 'no longer expected',
      },
    ]);
}

/** Undoing step 1: the origin's hold (what was not received) goes back to available. */
export function undoReserveChanges(t: TransferLegs): StockChange[] {
  return t.lines
    .map((l) => ({ variantId: l.variant_id, held: l.quantity - l.received - l.damaged }))
    .filter((l) => l.held > 0)
    .map((l) => ({
      variantId: l.variantId,
      warehouseId: t.originWarehouseId,
      type: 'release' as const,
      deltas: { reserved: -l.held, available: l.held },
      reason: 'transfer undone',
    }));
}

/** Statuses in which the saga still holds or moves stock (an undo has something to undo). */
export const openTransferStatuses: readonly TransferStatus[] = ['reserved', 'in_transit'];
