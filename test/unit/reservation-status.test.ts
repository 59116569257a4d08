import assert from 'node:assert/strict';
import { InvalidReservationStateError } from '../../services/inventory/errors.ts';
import {
  expectStatus,
  failureReason,
  fulfilDecision,
  holdDecision,
  releaseDecision,
} from '../../services/inventory/reservations/reservation-status.ts';

describe('reservation status rules (pure)', () => {
  it('a hold applies when there is no reservation or only a failed attempt, and answers for a committed one', () => {
    assert.equal(holdDecision(undefined), 'apply');
    assert.equal(holdDecision('failed'), 'apply');
    for (const status of ['active', 'confirmed', 'released', 'expired', 'fulfilled'] as const)
      assert.equal(holdDecision(status), 'answer', status);
  });

  it('a release applies to a holding reservation, answers a repeat, and is refused once fulfilled or failed', () => {
    assert.equal(releaseDecision('r', 'active', 'released'), 'apply');
    assert.equal(releaseDecision('r', 'confirmed', 'released'), 'apply');
    assert.equal(releaseDecision('r', 'released', 'released'), 'answer');
    assert.equal(releaseDecision('r', 'expired', 'released'), 'answer');
    assert.throws(() => releaseDecision('r', 'fulfilled', 'released'), InvalidReservationStateError);
    assert.throws(() => releaseDecision('r', 'failed', 'released'), InvalidReservationStateError);
  });

  it('an expiry releases only an active hold; any other status is returned for the workflow to catch up with', () => {
    assert.equal(releaseDecision('r', 'active', 'expired'), 'apply');
    for (const status of ['confirmed', 'fulfilled', 'released', 'expired', 'failed'] as const)
      assert.equal(releaseDecision('r', status, 'expired'), 'answer', status);
  });

  it('a fulfilment applies to a holding reservation, answers a repeat, and is refused otherwise', () => {
    assert.equal(fulfilDecision('r', 'active'), 'apply');
    assert.equal(fulfilDecision('r', 'confirmed'), 'apply');
    assert.equal(fulfilDecision('r', 'fulfilled'), 'answer');
    for (const status of ['released', 'expired', 'failed'] as const)
      assert.throws(() => fulfilDecision('r', status), InvalidReservationStateError, status);
  });

  it('after a no-op transition, a reservation already where wanted passes and any other status names itself', () => {
    assert.doesNotThrow(() => expectStatus('r', 'confirmed', ['confirmed'], 'confirmed'));
    assert.throws(
      () => expectStatus('r', 'released', ['confirmed'], 'confirmed'),
      (error: unknown) =>
        error instanceof InvalidReservationStateError &&
        error.message === 'reservation r is released: cannot confirmed' &&
        error.details?.status === 'released',
    );
  });

  it('the failed event names a shortage insufficient_stock and any other failure by its type', () => {
    assert.equal(failureReason('InsufficientStockError'), 'insufficient_stock');
    assert.equal(failureReason('WarehouseInactiveError'), 'WarehouseInactiveError');
  });
});
