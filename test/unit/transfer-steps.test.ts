import assert from 'node:assert/strict';
import { InvalidTransferError } from '../../services/inventory/errors.ts';
import {
  applyReceipts,
  closing,
  newTransferLines,
  receiptChanges,
  reserveChanges,
  shipChanges,
  undoReserveChanges,
  undoShipChanges,
  type TransferLegs,
} from '../../services/inventory/transfers/transfer-steps.ts';

const legs = (lines: TransferLegs['lines']): TransferLegs => ({
  transferId: 't',
  originWarehouseId: 'o',
  destinationWarehouseId: 'd',
  lines,
});
const line = (variant_id: string, quantity: number, received = 0, damaged = 0) => ({
  variant_id,
  quantity,
  received,
  damaged,
  missing: 0,
});

/** Sum of each quantity over the changes at one warehouse: what the step does to that warehouse's stock. */
function net(changes: ReturnType<typeof shipChanges>, warehouseId: string): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const c of changes.filter((c) => c.warehouseId === warehouseId)) {
    for (const [q, v] of Object.entries(c.deltas)) sums[q] = (sums[q] ?? 0) + (v ?? 0);
  }
  return sums;
}

describe('transfer step arithmetic (pure)', () => {
  it('merges requested lines by variant, nothing received yet', () => {
    assert.deepEqual(
      newTransferLines([
        { variant_id: 'a', quantity: 2 },
        { variant_id: 'b', quantity: 1 },
        { variant_id: 'a', quantity: 3 },
      ]),
      [line('a', 5), line('b', 1)],
    );
  });

  it('a reserve holds every line at the origin and nowhere else', () => {
    const changes = reserveChanges(legs([line('a', 5)]));
    assert.deepEqual(net(changes, 'o'), { available: -5, reserved: 5 });
    assert.deepEqual(net(changes, 'd'), {});
  });

  it('a ship moves the hold into transit at the origin and makes it incoming at the destination (row created)', () => {
    const changes = shipChanges(legs([line('a', 5)]));
    assert.deepEqual(net(changes, 'o'), { reserved: -5, inTransit: 5 });
    assert.deepEqual(net(changes, 'd'), { incoming: 5 });
    assert.equal(changes.find((c) => c.warehouseId === 'd')?.createIfMissing, true);
  });

  it('a receipt makes units available (damaged ones damaged) at the destination, out of transit at the origin', () => {
    const changes = receiptChanges(legs([line('a', 5)]), [
      { variant_id: 'a', received: 3, damaged: 1 },
      { variant_id: 'b', received: 0, damaged: 0 },
    ]);
    assert.deepEqual(net(changes, 'o'), { inTransit: -4 });
    assert.deepEqual(net(changes, 'd'), { available: 3, damaged: 1, incoming: -4 });
    assert.equal(changes.length, 2, 'an empty receipt line changes nothing');
  });

  it('receipts add up per line and are refused beyond what was shipped or for a variant not in the transfer', () => {
    const lines = applyReceipts([line('a', 5, 2)], [{ variant_id: 'a', received: 2, damaged: 1 }]);
    assert.deepEqual(lines, [line('a', 5, 4, 1)]);
    assert.throws(() => applyReceipts(lines, [{ variant_id: 'a', received: 1, damaged: 0 }]), InvalidTransferError);
    assert.throws(() => applyReceipts(lines, [{ variant_id: 'z', received: 1, damaged: 0 }]), InvalidTransferError);
  });

  it('closing writes off what never arrived at both ends and marks the discrepancy', () => {
    const { lines, changes, status } = closing(legs([line('a', 5, 3, 1), line('b', 2, 2)]));
    assert.deepEqual(
      lines.map((l) => l.missing),
      [1, 0],
    );
    assert.deepEqual(net(changes, 'o'), { inTransit: -1 });
    assert.deepEqual(net(changes, 'd'), { incoming: -1 });
    assert.ok(changes.every((c) => c.type === 'loss'));
    assert.equal(status, 'completed_with_discrepancy');
  });

  it('closing a transfer received in full and undamaged writes nothing off and completes it', () => {
    const { changes, status } = closing(legs([line('a', 5, 5)]));
    assert.deepEqual(changes, []);
    assert.equal(status, 'completed');
  });

  it('the undo of a ship is the inverse of the ship for what has not arrived yet', () => {
    const t = legs([line('a', 5, 2, 1), line('b', 1, 1)]);
    assert.deepEqual(net(undoShipChanges(t), 'o'), { inTransit: -2, reserved: 2 });
    assert.deepEqual(net(undoShipChanges(t), 'd'), { incoming: -2 });
  });

  it('the undo of a reserve gives back what is still held and nothing for a line received in full', () => {
    const changes = undoReserveChanges(legs([line('a', 5, 2), line('b', 1, 1)]));
    assert.deepEqual(
      changes.map((c) => [c.variantId, c.deltas]),
      [['a', { reserved: -3, available: 3 }]],
    );
  });
});
