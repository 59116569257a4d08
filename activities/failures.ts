import { ApplicationFailure } from '@temporalio/activity';
import { InventoryError } from '../services/inventory/errors.ts';

/**
 * The activity boundary: a domain error becomes an ApplicationFailure whose type is the error's class
 * name, non-retryable when a retry cannot help, with the error's details (e.g. per-line shortages)
 * for the caller. Anything else (a lost connection, a timeout) is rethrown as is and retried.
 */
export async function asApplicationFailure<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof InventoryError) {
      throw ApplicationFailure.create({ type: error.type, message: error.message, nonRetryable: !error.retryable, details: error.details ? [error.details] : [] });
    }
    throw error;
  }
}
