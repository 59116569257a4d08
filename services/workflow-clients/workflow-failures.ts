import {
  isGrpcDeadlineError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import * as errors from '../inventory/errors.ts';
import {
  InsufficientStockError,
  InventoryError,
  WorkflowUnavailableError,
  type Shortage,
} from '../inventory/errors.ts';
import { failureTypes, isFailureType } from '../inventory/vocabulary.ts';

/**
 * How long a facade waits for a workflow to answer an update, a start or a query (10 s). Without it a
 * call waits for as long as no worker runs. Configurable through each client's deps (`deadlineMs`).
 */
export const defaultWorkflowDeadlineMs = 10_000;

/**
 * Runs `call` (Temporal client requests) under a deadline: when it passes unanswered, throws
 * WorkflowUnavailableError ("not answered in time; the same request may be sent again"). What was
 * asked may still happen later (the workflow got the request and answers once a worker runs): every
 * workflow action the facades send is idempotent or refused once done, so asking again is safe.
 */
export async function withinDeadline<T>(
  client: Client,
  deadlineMs: number,
  what: string,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await client.withDeadline(Date.now() + deadlineMs, call);
  } catch (error) {
    if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(error)) {
      throw new WorkflowUnavailableError(
        `${what} was not answered within ${deadlineMs / 1000} s (the service is busy or its workers are down); it may still take effect: send the same request again`,
        {
          retry_after_seconds: Math.max(1, Math.round(deadlineMs / 2000)),
        },
      );
    }
    throw error;
  }
}

/**
 * Turns what a workflow update failed with back into the domain error it carries (ApplicationFailure
 * type = error class name), so the facades' one status map applies. Anything else is returned as is.
 */
export function toDomainError(error: unknown): unknown {
  let cause: unknown = error instanceof WorkflowUpdateFailedError ? error.cause : error;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
  if (!(cause instanceof ApplicationFailure) || !isFailureType(cause.type)) return error;
  const details = (cause.details?.[0] as Record<string, unknown>) ?? {};
  if (cause.type === failureTypes.InsufficientStockError)
    return new InsufficientStockError((details.shortages as Shortage[]) ?? []);
  const ErrorClass = (errors as Record<string, unknown>)[cause.type];
  if (typeof ErrorClass === 'function' && ErrorClass.prototype instanceof InventoryError) {
    return new (ErrorClass as new (message: string, details?: Record<string, unknown>) => InventoryError)(
      cause.message,
      details,
    );
  }
  return error;
}

/** True when the workflow is gone or has already closed (its stored row answers then). */
export function isClosedOrMissing(error: unknown): boolean {
  if (error instanceof WorkflowNotFoundError) return true;
  return /workflow execution already completed|workflow not found/i.test(error instanceof Error ? error.message : '');
}
