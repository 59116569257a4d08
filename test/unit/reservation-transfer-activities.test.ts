import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Orm } from '../../services/db/orm.ts';
import { createReservationActivities } from '../../activities/reservation.activities.ts';
import { createTransferActivities } from '../../activities/transfer.activities.ts';

/**
 * The reservation and transfer activities against a stand-in database: what they do with its answers and
 * its errors at the activity boundary, without PostgreSQL or Temporal.
 */

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const organizationId = '00000000-0000-4000-8000-000000000001';
const missingId = '00000000-0000-4000-8000-000000000002';

/** A database whose transactions fail with `error` before any statement. */
function failingOrm(error: Error): Orm {
  return { em: { fork: () => ({ transactional: async () => Promise.reject(error) }) } } as unknown as Orm;
}

/** A database with no rows at all; it records every statement it is sent. */
function emptyOrm(): { orm: Orm; statements: string[] } {
  const statements: string[] = [];
  const em = {
    execute: async (sql: string) => {
      statements.push(sql);
      return [];
    },
    findOne: async () => null,
    find: async () => [],
    nativeUpdate: async () => 0,
  };
  const orm = {
    em: { fork: () => ({ transactional: async (work: (em: unknown) => Promise<unknown>) => await work(em) }) },
  } as unknown as Orm;
  return { orm, statements };
}

function run<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<unknown> {
  return new MockActivityEnvironment(undefined, { logger: quiet }).run(fn, ...args).then(
    () => assert.fail('the activity succeeded'),
    (error: unknown) => error,
  );
}

describe('reservation and transfer activities at their boundary (stand-in database)', () => {
  it('a value the database refuses (22P02) fails the step: non-retryable InvalidDataError, cause kept', async () => {
    const refused = Object.assign(new Error('invalid input syntax for type uuid'), { code: '22P02' });
    const activities = createReservationActivities({ orm: failingOrm(refused) });
    const failure = await run(activities.confirmReservation, { organizationId, reservationId: 'not-a-uuid' });
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, 'InvalidDataError');
    assert.equal(failure.nonRetryable, true);
    assert.equal(failure.cause, refused);
  });

  it('a lost connection is rethrown as it is, for Temporal to retry the step', async () => {
    const lost = Object.assign(new Error('Connection terminated unexpectedly'), { code: '08006' });
    const reservations = createReservationActivities({ orm: failingOrm(lost) });
    assert.equal(
      await run(
        reservations.releaseReservation,
        { organizationId, reservationId: missingId },
        'released',
        'no longer wanted',
      ),
      lost,
    );
    const transfers = createTransferActivities({ orm: failingOrm(lost) });
    assert.equal(await run(transfers.markTransferInTransit, { organizationId, transferId: missingId }), lost);
  });

  it('a reservation that does not exist fails the step: non-retryable ReservationNotFoundError naming it', async () => {
    const activities = createReservationActivities({ orm: emptyOrm().orm });
    const failure = await run(activities.fulfilReservation, { organizationId, reservationId: missingId });
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, 'ReservationNotFoundError');
    assert.equal(failure.nonRetryable, true);
    assert.deepEqual(failure.details, [{ reservation_id: missingId }]);
  });

  it('a transfer step binds its transaction to the organization before its first statement', async () => {
    const { orm, statements } = emptyOrm();
    await run(createTransferActivities({ orm }).closeTransferReceipt, { organizationId, transferId: missingId });
    assert.match(statements[0] ?? '', /set_config\('app\.organization_id'/);
  });

  it('the compensations of a transfer whose reserve step never committed succeed and change no stock', async () => {
    const { orm, statements } = emptyOrm();
    const activities = createTransferActivities({ orm });
    const env = new MockActivityEnvironment(undefined, { logger: quiet });
    await env.run(activities.releaseTransferHoldIfHeld, { organizationId, transferId: missingId });
    assert.equal(
      await env.run(
        activities.recordTransferUndone,
        { organizationId, transferId: missingId },
        'compensated' as const,
        'a step failed',
      ),
      null,
    );
    assert.deepEqual(
      statements.filter((sql) => /stock|outbox_event/.test(sql)),
      [],
      'no stock row, movement or event was written',
    );
  });
});
