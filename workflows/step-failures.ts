import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { failureTypes } from '../services/inventory/vocabulary.ts';

/** Failure types (domain error class names, services/inventory/errors.ts) for steps that fail for good. */
export const stepFailureTypes = {
  /** A value PostgreSQL refuses, or input no retry can make valid. */
  invalidData: failureTypes.InvalidDataError,
  /** A transient failure that outlasted the step's bounded retries. */
  retriesExhausted: failureTypes.RetriesExhaustedError,
  /** A compensation that outlasted its (long) bounded retries: the workflow fails with it. */
  compensationFailed: failureTypes.CompensationFailedError,
} as const;

/** True when the activity gave up by itself: a non-retryable failure, not one whose retries ran out. */
function refused(error: ActivityFailure): boolean {
  const nonRetryable = error.cause instanceof ApplicationFailure && error.cause.nonRetryable;
  return nonRetryable || error.retryState === 'NON_RETRYABLE_FAILURE';
}

/**
 * Why an activity failed for good, as a typed non-retryable ApplicationFailure, or undefined when
 * `error` is not an activity's failure (a cancellation, a bug: those are rethrown as they are).
 * A non-retryable ApplicationFailure (a domain error, InvalidDataError) is returned as it is; an
 * activity whose retries ran out (attempts or timeouts) becomes RetriesExhaustedError, whose message
 * names the activity but not the error (which may name internals): the error stays in its cause chain,
 * for Temporal UI.
 */
export function failureOf(error: unknown): ApplicationFailure | undefined {
  if (!(error instanceof ActivityFailure)) return undefined;
  if (error.cause instanceof ApplicationFailure && refused(error)) return error.cause;
  return retriesExhausted(error);
}

/**
 * The one way a workflow reads a step that threw: the failure it failed with for good (failureOf), or
 * `error` rethrown as it is when it is no activity's failure (a cancellation, a bug in the workflow).
 */
export function failedForGood(error: unknown): ApplicationFailure {
  const failure = failureOf(error);
  if (!failure) throw error;
  return failure;
}

/**
 * The failure handed on to a caller (an update's answer, the workflow's result): the step's type, message
 * and details, non-retryable, without the activity's chain (its caller needs the type, not the internals).
 */
export function passedOn(failure: ApplicationFailure): ApplicationFailure {
  return ApplicationFailure.create({
    type: failure.type ?? undefined,
    message: failure.message,
    details: failure.details as unknown[],
    nonRetryable: true,
  });
}

/** Only the exhausted case of failureOf: a domain failure comes back undefined (its caller rethrows it as it is). */
export function retriesExhausted(error: unknown): ApplicationFailure | undefined {
  if (!(error instanceof ActivityFailure)) return undefined;
  if (error.cause instanceof ApplicationFailure && refused(error)) return undefined;
  return exhausted(error.activityType, error.cause, error.retryState ?? null, error);
}

/**
 * failedForGood for a local activity. Its failure reaches the workflow unwrapped (no ActivityFailure
 * around it) and only once it is final: a non-retryable ApplicationFailure is the step's refusal, and
 * anything else it failed with (a retryable ApplicationFailure, a timeout) means its retries ran out.
 * Anything that is no activity's failure (a cancellation) is rethrown as it is.
 */
export function localFailedForGood(error: unknown, activityType: string): ApplicationFailure {
  if (error instanceof ActivityFailure) return failedForGood(error);
  if (error instanceof ApplicationFailure && error.nonRetryable) return error;
  if (error instanceof ApplicationFailure || error instanceof TimeoutFailure)
    return exhausted(activityType, error, null, error);
  throw error;
}

function exhausted(activityType: string, cause: unknown, retryState: unknown, chain: Error): ApplicationFailure {
  const why = cause instanceof TimeoutFailure ? 'timing out' : 'on a transient error';
  return ApplicationFailure.create({
    type: stepFailureTypes.retriesExhausted,
    message: `step ${activityType} kept failing ${why} until its retries ran out; try again later`,
    nonRetryable: true,
    details: [{ activity_type: activityType, retry_state: retryState }],
    cause: chain,
  });
}

/** The workflow's failure when a compensation failed for good: what was being undone, and why it stopped. */
export function compensationFailed(what: string, error: unknown): ApplicationFailure {
  // An ApplicationFailure is one already read (a local activity's, localFailedForGood).
  const failure = error instanceof ApplicationFailure ? error : failureOf(error);
  return ApplicationFailure.create({
    type: stepFailureTypes.compensationFailed,
    message:
      `${what}: ${failure ? `${failure.type}: ${failure.message}` : String(error)}; ` +
      'repair it, then reset this workflow to run the compensations again',
    nonRetryable: true,
    details: [{ compensation: what, failure_type: failure?.type ?? null }],
    cause: error instanceof Error ? error : undefined,
  });
}
