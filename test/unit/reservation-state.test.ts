import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import type { ReservationWorkflowInput } from '../../workflows/definitions.ts';
import { ReservationState, sameRequest } from '../../workflows/reservation-state.ts';

const createdAt = '2026-01-01T00:00:00.000Z';
const input: ReservationWorkflowInput = {
  organizationId: 'org',
  orderId: 'order-1',
  reservationId: 'res-1',
  items: [
    { variant_id: 'b', quantity: 1 },
    { variant_id: 'a', quantity: 2, warehouse_id: 'w1' },
  ],
  ttlSeconds: 60,
};

function failureType(run: () => void): string | undefined {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, 'a refusal is an ApplicationFailure');
    assert.equal(error.nonRetryable, true);
    return error.type ?? undefined;
  }
  return undefined;
}

describe('reservation state: the rules a reservation workflow applies, without a server', () => {
  it('starts pending with the requested lines, or resumes the snapshot it continued as new with', () => {
    const state = new ReservationState(input, createdAt);
    assert.equal(state.status, 'pending');
    assert.equal(state.snapshot.createdAt, createdAt);
    const resumed = new ReservationState({ ...input, resume: { ...state.snapshot, status: 'confirmed' } }, 'later');
    assert.equal(resumed.status, 'confirmed');
    assert.equal(resumed.snapshot.createdAt, createdAt);
  });

  it('a repeated reserve with the same lines in another order is the same request; other quantities conflict', () => {
    const state = new ReservationState(input, createdAt);
    assert.ok(sameRequest({ ...input, items: [...input.items].reverse() }, input));
    assert.equal(
      failureType(() => state.validateReserve({ ...input, items: [{ variant_id: 'b', quantity: 3 }] }, input)),
      'ReservationConflictError',
    );
  });

  it('confirm, release and fulfil are refused in a status that does not allow them, and idempotent in their own', () => {
    const state = new ReservationState(input, createdAt);
    state.apply({ status: 'active' });
    assert.equal(
      failureType(() => state.validateConfirm()),
      undefined,
    );
    state.apply({ status: 'fulfilled' });
    assert.equal(
      failureType(() => state.validateFulfil()),
      undefined,
      'fulfil again answers the fulfilled reservation',
    );
    assert.equal(
      failureType(() => state.validateRelease()),
      'InvalidReservationStateError',
    );
    assert.equal(
      failureType(() => state.validateConfirm()),
      'InvalidReservationStateError',
    );
    assert.ok(state.closed);
  });

  it('an extension must be a whole number of seconds within the limits and keep the hold within its lifetime', () => {
    const state = new ReservationState(input, createdAt);
    state.apply({ status: 'active' });
    const now = Date.parse(createdAt) + 1000;
    assert.equal(
      failureType(() => state.validateExtend(60, now)),
      undefined,
    );
    assert.equal(
      failureType(() => state.validateExtend(1.5, now)),
      'InvalidArgumentError',
    );
    assert.equal(
      failureType(() => state.validateExtend(0, now)),
      'InvalidArgumentError',
    );
    const nearTheEnd = Date.parse(createdAt) + (7 * 24 * 60 * 60 - 10) * 1000;
    assert.equal(
      failureType(() => state.validateExtend(60, nearTheEnd)),
      'InvalidReservationStateError',
    );
  });

  it('a confirmed hold is due to be reported overdue counted from its last confirmation', () => {
    const state = new ReservationState(input, createdAt);
    state.apply({ status: 'confirmed', transitions: [{ status: 'confirmed', at: '2026-01-02T00:00:00.000Z' }] });
    assert.ok(state.awaitingOverdue);
    assert.equal(state.overdueAt(60, 0), Date.parse('2026-01-02T00:01:00.000Z'));
    state.snapshot.confirmedOverdueAt = '2026-01-02T00:01:00.000Z';
    assert.equal(state.awaitingOverdue, false, 'reported once');
  });
});
