import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { TransferState } from '../../workflows/transfer-state.ts';

const input = {
  organizationId: 'org',
  transferId: 't-1',
  originWarehouseId: 'w1',
  destinationWarehouseId: 'w2',
  lines: [{ variant_id: 'a', quantity: 5 }],
};

function failureType(run: () => void): string | undefined {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, 'a refusal is an ApplicationFailure');
    return error.type ?? undefined;
  }
  return undefined;
}

describe('transfer state: the rules a transfer workflow applies, without a server', () => {
  it('starts pending with every line unreceived', () => {
    const state = new TransferState(input, '2026-01-01T00:00:00.000Z');
    assert.equal(state.status, 'pending');
    assert.deepEqual(state.snapshot.lines, [{ variant_id: 'a', quantity: 5, received: 0, damaged: 0, missing: 0 }]);
    assert.equal(state.accounted, false);
  });

  it('ships only a reserved transfer', () => {
    const state = new TransferState(input, 'now');
    assert.equal(
      failureType(() => state.validateShip()),
      'InvalidTransferStateError',
    );
    state.apply({ status: 'reserved' });
    assert.equal(
      failureType(() => state.validateShip()),
      undefined,
    );
  });

  it('a receipt may not name another variant nor count more than was shipped', () => {
    const state = new TransferState(input, 'now');
    state.apply({ status: 'in_transit' });
    assert.equal(
      failureType(() => state.validateReceipt({ lines: [{ variant_id: 'a', received: 4, damaged: 1 }], close: false })),
      undefined,
    );
    assert.equal(
      failureType(() => state.validateReceipt({ lines: [{ variant_id: 'a', received: 5, damaged: 1 }], close: false })),
      'InvalidTransferError',
    );
    assert.equal(
      failureType(() => state.validateReceipt({ lines: [{ variant_id: 'z', received: 1, damaged: 0 }], close: false })),
      'InvalidTransferError',
    );
  });

  it('a partly received transfer is closed, not cancelled; a closed one is never cancelled', () => {
    const state = new TransferState(input, 'now');
    state.apply({ status: 'in_transit' });
    assert.equal(
      failureType(() => state.validateCancel()),
      undefined,
    );
    state.apply({ lines: [{ variant_id: 'a', quantity: 5, received: 5, damaged: 0, missing: 0 }] });
    assert.equal(
      failureType(() => state.validateCancel()),
      'InvalidTransferStateError',
    );
    assert.ok(state.accounted);
    state.apply({ status: 'completed' });
    assert.ok(state.closed);
  });

  it('once a compensation failed for good, every further step is refused with that failure', () => {
    const state = new TransferState(input, 'now');
    state.apply({ status: 'reserved' });
    state.compensationFailure = ApplicationFailure.create({
      type: 'CompensationFailedError',
      message: 'left undone',
      nonRetryable: true,
    });
    assert.equal(
      failureType(() => state.validateShip()),
      'CompensationFailedError',
    );
  });
});
