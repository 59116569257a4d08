import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import * as errors from '../inventory/errors.ts';
import { InsufficientStockError, InventoryError, type Shortage } from '../inventory/errors.ts';

/**
 * Turns what a workflow update failed with back into the domain error it carries (ApplicationFailure
 * type = error class name), so the facades' one status map applies. Anything else is returned as is.
 */
export function toDomainError(error: unknown): unknown {
  let cause: unknown = error instanceof WorkflowUpdateFailedError ? error.cause : error;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
  if (!(cause instanceof ApplicationFailure) || !cause.type) return error;
  const details = (cause.details?.[0] as Record<string, unknown>) ?? {};
  if (cause.type === 'InsufficientStockError') return new InsufficientStockError((details.shortages as Shortage[]) ?? []);
  const ErrorClass = (errors as Record<string, unknown>)[cause.type];
  if (typeof ErrorClass === 'function' && ErrorClass.prototype instanceof InventoryError) {
    return new (ErrorClass as new (message: string, details?: Record<string, unknown>) => InventoryError)(cause.message, details);
  }
  return error;
}

/** True when the workflow is gone or has already closed (its stored row answers then). */
export function isClosedOrMissing(error: unknown): boolean {
  if (error instanceof WorkflowNotFoundError) return true;
  return /workflow execution already completed|workflow not found/i.test(error instanceof Error ? error.message : '');
}
