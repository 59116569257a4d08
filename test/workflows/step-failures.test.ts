import assert from 'node:assert/strict';
import { ActivityFailure, ApplicationFailure, CancelledFailure, RetryState, TimeoutFailure } from '@temporalio/common';
import {
  compensationFailed,
  failedForGood,
  failureOf,
  localFailedForGood,
  passedOn,
  retriesExhausted,
  stepFailureTypes,
} from '../../workflows/step-failures.ts';
import { compensationRetry, stepRetry } from '../../workflows/activity-options.ts';
import { present } from '../helpers/present.ts';

const activityFailure = (retryState: RetryState, cause?: Error) =>
  new ActivityFailure('activity failed', 'holdReservationStock', '1', retryState, 'worker', cause);

describe('step failures: how a workflow reads an activity that failed for good', () => {
  it('a non-retryable domain failure is passed on as it is, with its type and details', () => {
    const domain = ApplicationFailure.create({
      type: 'InsufficientStockError',
      message: 'short',
      nonRetryable: true,
      details: [{ shortages: [] }],
    });
    const failure = failureOf(activityFailure(RetryState.NON_RETRYABLE_FAILURE, domain));
    assert.equal(failure, domain);
    assert.equal(
      retriesExhausted(activityFailure(RetryState.NON_RETRYABLE_FAILURE, domain)),
      undefined,
      'not exhausted: the caller rethrows it as it is',
    );
  });

  it('attempts run out on a transient error: RetriesExhaustedError naming the step, not the error', () => {
    const transient = ApplicationFailure.create({
      type: 'DriverException',
      message: 'connect ECONNREFUSED 10.0.0.7:5432 - select * from stock',
      nonRetryable: false,
    });
    const failure = failureOf(activityFailure(RetryState.MAXIMUM_ATTEMPTS_REACHED, transient));
    assert.ok(failure);
    assert.equal(failure.type, stepFailureTypes.retriesExhausted);
    assert.equal(failure.nonRetryable, true);
    assert.match(
      failure.message,
      /step holdReservationStock kept failing on a transient error until its retries ran out; try again later/,
    );
    assert.doesNotMatch(failure.message, /ECONNREFUSED|select/, 'internals stay in the cause chain');
    assert.deepEqual(failure.details, [
      { activity_type: 'holdReservationStock', retry_state: 'MAXIMUM_ATTEMPTS_REACHED' },
    ]);
  });

  it('attempts that all time out: RetriesExhaustedError too', () => {
    const failure = failureOf(
      activityFailure(
        RetryState.MAXIMUM_ATTEMPTS_REACHED,
        new TimeoutFailure('timed out', undefined, 'START_TO_CLOSE'),
      ),
    );
    assert.equal(failure?.type, stepFailureTypes.retriesExhausted);
    assert.match(present(failure, 'the failure').message, /timing out/);
  });

  it('anything that is not an activity failure (a cancellation, a bug) is left to the caller', () => {
    assert.equal(failureOf(new CancelledFailure('cancelled')), undefined);
    assert.equal(failureOf(new TypeError('x is undefined')), undefined);
  });

  it('a compensation that failed for good names what is left undone and why', () => {
    const failure = compensationFailed(
      'transfer t-1: compensation releaseTransferHoldIfHeld',
      activityFailure(RetryState.MAXIMUM_ATTEMPTS_REACHED, new Error('db down')),
    );
    assert.equal(failure.type, stepFailureTypes.compensationFailed);
    assert.equal(failure.nonRetryable, true);
    assert.match(
      failure.message,
      /^transfer t-1: compensation releaseTransferHoldIfHeld: RetriesExhaustedError: step holdReservationStock kept failing/,
    );
    assert.match(failure.message, /reset this workflow/);
  });

  it('every retry policy is bounded: steps a handful of attempts, compensations about an hour of them', () => {
    assert.equal(stepRetry.maximumAttempts, 10);
    assert.equal(compensationRetry.maximumAttempts, 60);
    const backoff = (policy: {
      initialInterval: string;
      backoffCoefficient: number;
      maximumInterval: string;
      maximumAttempts: number;
    }) => {
      const seconds = (d: string) =>
        Number.parseFloat(d) * (d.includes('millisecond') ? 0.001 : d.includes('minute') ? 60 : 1);
      let wait = seconds(policy.initialInterval);
      let total = 0;
      for (let attempt = 1; attempt < policy.maximumAttempts; attempt++) {
        total += Math.min(wait, seconds(policy.maximumInterval));
        wait *= policy.backoffCoefficient;
      }
      return total;
    };
    assert.ok(backoff(stepRetry) < 60, `a step gives up within a minute of backoff (${backoff(stepRetry)} s)`);
    const hour = backoff(compensationRetry) / 3600;
    assert.ok(hour > 0.75 && hour < 1.25, `a compensation keeps trying for about an hour (${hour.toFixed(2)} h)`);
  });
});

describe('failedForGood and passedOn: the one way a workflow reads a step that threw', () => {
  it('an activity failure comes back as the failure, anything else is rethrown as it is', () => {
    const domain = ApplicationFailure.create({
      type: 'InsufficientStockError',
      message: 'short',
      nonRetryable: true,
      details: [{ shortages: [] }],
    });
    assert.equal(failedForGood(activityFailure(RetryState.NON_RETRYABLE_FAILURE, domain)), domain);
    const cancelled = new CancelledFailure('cancelled');
    assert.throws(
      () => failedForGood(cancelled),
      (error) => error === cancelled,
    );
  });

  it('the failure passed on to a caller keeps type, message and details, non-retryable, without the activity chain', () => {
    const domain = ApplicationFailure.create({
      type: 'InvalidDataError',
      message: 'bad',
      nonRetryable: true,
      details: [{ sqlstate: '22P02' }],
    });
    const passed = passedOn(domain);
    assert.deepEqual(
      [passed.type, passed.message, passed.details, passed.nonRetryable, passed.cause],
      ['InvalidDataError', 'bad', [{ sqlstate: '22P02' }], true, undefined],
    );
  });
});

describe("localFailedForGood: a local activity's failure, which reaches the workflow unwrapped and final", () => {
  it('a non-retryable ApplicationFailure is the refusal, as it is', () => {
    const domain = ApplicationFailure.create({ type: 'InsufficientStockError', message: 'short', nonRetryable: true });
    assert.equal(localFailedForGood(domain, 'holdReservationStock'), domain);
  });

  it('a retryable failure or a timeout means its retries ran out: RetriesExhaustedError naming the step', () => {
    for (const [last, why] of [
      [ApplicationFailure.create({ message: 'connect ECONNREFUSED', nonRetryable: false }), 'on a transient error'],
      [new TimeoutFailure('timed out', undefined, 'START_TO_CLOSE'), 'timing out'],
    ] as const) {
      const failure = localFailedForGood(last, 'holdReservationStock');
      assert.equal(failure.type, stepFailureTypes.retriesExhausted);
      assert.equal(failure.nonRetryable, true);
      assert.match(failure.message, new RegExp(`step holdReservationStock kept failing ${why}`));
      assert.doesNotMatch(failure.message, /ECONNREFUSED/);
      assert.equal(failure.cause, last, 'the last failure stays in the chain');
    }
  });

  it('an ActivityFailure (an SDK that wraps it) reads as failedForGood does; a cancellation is rethrown', () => {
    const transient = ApplicationFailure.create({ message: 'lost', nonRetryable: false });
    const wrapped = localFailedForGood(activityFailure(RetryState.MAXIMUM_ATTEMPTS_REACHED, transient), 'x');
    assert.equal(wrapped.type, stepFailureTypes.retriesExhausted);
    const cancelled = new CancelledFailure('cancelled');
    assert.throws(
      () => localFailedForGood(cancelled, 'holdReservationStock'),
      (e) => e === cancelled,
    );
  });
});
