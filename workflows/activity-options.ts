import type { ActivityOptions } from '@temporalio/workflow';

/**
 * Every step is one short database transaction, idempotent by its operation key. A lost database
 * connection is retried with backoff for as long as it takes; domain failures are non-retryable
 * ApplicationFailures and stop at once.
 */
export const stepOptions: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
};
