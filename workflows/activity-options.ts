import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

/**
 * How long the workflows wait for their activities, and how often they try again. No activity is
 * retried forever: an error no retry can cure (a domain refusal, a value PostgreSQL refuses) is a
 * non-retryable ApplicationFailure and stops at once (activities/failures.ts); anything else (a lost
 * connection, a timeout) is retried with capped backoff a bounded number of times, after which the
 * workflow ends the step for good (workflows/step-failures.ts): a reservation ends `failed`, a
 * transfer `compensated`, a reconciliation records the organization as failed.
 */

/**
 * A step is one short transaction (milliseconds; the bench's slowest p99 is under 2 s end to end), so
 * startToClose only decides how long an attempt lost with its worker or connection waits before the next
 * one: 5 s rather than 15 keeps a lost ReserveStock attempt within the caller's deadline. An attempt that
 * times out may still commit; its retry finds the step done (every step is idempotent by its key).
 * Retries: 10 attempts, 200 ms doubling up to 5 s between them: 26 s of backoff, about 76 s in all
 * when every attempt times out. Long enough to ride out a database restart or failover, short enough
 * that the caller hears a typed answer (RetriesExhaustedError) the same minute.
 */
export const stepRetry = {
  initialInterval: '200 milliseconds',
  backoffCoefficient: 2,
  maximumInterval: '5 seconds',
  maximumAttempts: 10,
} as const;

export const stepOptions: ActivityOptions = {
  startToCloseTimeout: '5 seconds',
  retry: stepRetry,
};

/**
 * The reservation's hold and its release at expiry run as local activities: inside the workflow task
 * that needs them, on the worker running the workflow, with no activity task and no second workflow task
 * (README, Benchmark: a ReserveStock then costs one workflow task, like the empty floor). Same timeout and
 * retries as a step; attempts waiting less than localRetryThreshold are retried in the worker, longer
 * waits become durable timers. An attempt lost with its worker is retried once the workflow task times
 * out (10 s) on another worker; the steps are idempotent by their keys, as for any activity.
 */
export const localStepOptions: LocalActivityOptions = {
  startToCloseTimeout: '5 seconds',
  retry: stepRetry,
  localRetryThreshold: '10 seconds',
};

/**
 * Compensations (a transfer's undo steps, a reservation's release when its hold failed or its TTL ran
 * out) must finish even through a long outage, so they keep trying for about an hour: 60 attempts,
 * 1 s doubling up to 1 minute between them (54 minutes of backoff, plus the attempts). If one still
 * fails, the workflow does not loop: it fails with CompensationFailedError naming what is left undone
 * (visible in Temporal UI; a transfer also publishes `inventory.transfer.compensation_failed`). Ops fix
 * the cause and reset the workflow to the workflow task before the compensation (Temporal UI → Reset);
 * the compensations run again, and they are safe to repeat.
 */
export const compensationRetry = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 60,
} as const;

export const compensationOptions: ActivityOptions = {
  startToCloseTimeout: '5 seconds',
  retry: compensationRetry,
};

/** A compensation as a local activity (a hold's release at its expiry): its waits past 10 s are durable timers. */
export const localCompensationOptions: LocalActivityOptions = {
  startToCloseTimeout: '5 seconds',
  retry: compensationRetry,
  localRetryThreshold: '10 seconds',
};

/**
 * A reconciliation chunk rebuilds up to 50 000 rows from their whole ledger in one statement (a page of
 * workflows started before chunks, 500): it may need more than a step's 5 s, so it gets 2 minutes, and
 * heartbeats every second while its statement runs (activities/reconciliation.activities.ts), so a chunk
 * lost with its worker is retried after 15 s, not 2 minutes. Same bounded retries as a step.
 */
export const pageOptions: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: stepRetry,
};
