import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import { InsufficientStockError, InventoryError } from '../inventory/errors.ts';
import type { Logger } from '../logger.ts';
import type { FailureType } from '../inventory/vocabulary.ts';
import { shortagesStatusDetails } from './rich-error.ts';
import { AuthenticationError, PermissionDeniedError } from '../auth/errors.ts';
import type { Principal } from '../auth/access.ts';
import { authorizeCall, type Rpc } from './authentication.ts';
import { findUnacceptable } from '../unacceptable-input.ts';
import { isStatementTimeout } from '../limits/statement-timeout.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';

/**
 * The one map from domain failure types to gRPC status codes, one entry per failure type (tsc refuses a
 * type without one). `null`: a failure no caller can act on, answered INTERNAL (logged, not echoed).
 */
const codeByFailureType = {
  InvalidArgumentError: grpc.status.INVALID_ARGUMENT,
  WarehouseNotFoundError: grpc.status.NOT_FOUND,
  VariantNotFoundError: grpc.status.NOT_FOUND,
  VariantNotInCatalogError: grpc.status.NOT_FOUND,
  VariantInactiveError: grpc.status.FAILED_PRECONDITION,
  VariantNotTrackedError: grpc.status.FAILED_PRECONDITION,
  StockNotFoundError: grpc.status.NOT_FOUND,
  ReservationNotFoundError: grpc.status.NOT_FOUND,
  InsufficientStockError: grpc.status.FAILED_PRECONDITION,
  InvalidStockChangeError: grpc.status.FAILED_PRECONDITION,
  InvalidReservationStateError: grpc.status.FAILED_PRECONDITION,
  WarehouseInactiveError: grpc.status.FAILED_PRECONDITION,
  WarehouseInUseError: grpc.status.FAILED_PRECONDITION,
  WarehouseCodeTakenError: grpc.status.ALREADY_EXISTS,
  OperationKeyConflictError: grpc.status.ALREADY_EXISTS,
  ReservationConflictError: grpc.status.ALREADY_EXISTS,
  InvalidDataError: grpc.status.INVALID_ARGUMENT,
  QuotaExceededError: grpc.status.RESOURCE_EXHAUSTED,
  // Not answered in time, or a step's retries ran out: nothing half-done is left, the same request may be sent again.
  RetriesExhaustedError: grpc.status.UNAVAILABLE,
  WorkflowUnavailableError: grpc.status.UNAVAILABLE,
  // Transfers, reconciliations and locations are REST-only today: the codes they would have over gRPC.
  TransferNotFoundError: grpc.status.NOT_FOUND,
  ReconciliationNotFoundError: grpc.status.NOT_FOUND,
  LocationNotFoundError: grpc.status.NOT_FOUND,
  InvalidTransferStateError: grpc.status.FAILED_PRECONDITION,
  InvalidTransferError: grpc.status.INVALID_ARGUMENT,
  StaleCountError: grpc.status.ABORTED,
  LocationConflictError: grpc.status.ALREADY_EXISTS,
  // What a workflow fails with for ops to repair: nothing a caller can do about it.
  CompensationFailedError: null,
  ReconciliationFailedError: null,
} satisfies Record<FailureType, grpc.status | null>;

/** The gRPC code of a failure type; undefined for one that is answered INTERNAL (unknown, or no caller's to fix). */
export function statusForFailureType(type: string): grpc.status | undefined {
  return (codeByFailureType as Record<string, grpc.status | null>)[type] ?? undefined;
}

/**
 * Turns anything a handler threw into a gRPC error: validation errors become INVALID_ARGUMENT naming
 * each field, domain errors their mapped code with their message, anything else INTERNAL, logged with
 * its stack and never echoed to the caller.
 */
export function toServiceError(error: unknown, logger: Logger, method: string): Partial<grpc.ServiceError> {
  if (error instanceof z.ZodError) {
    const details = error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ');
    return { code: grpc.status.INVALID_ARGUMENT, details };
  }
  if (error instanceof UnacceptableInputError) return { code: grpc.status.INVALID_ARGUMENT, details: error.message };
  if (error instanceof AuthenticationError) return { code: grpc.status.UNAUTHENTICATED, details: error.message };
  if (error instanceof PermissionDeniedError) return { code: grpc.status.PERMISSION_DENIED, details: error.message };
  if (isStatementTimeout(error))
    return { code: grpc.status.UNAVAILABLE, details: 'the database did not answer in time; try again' };
  if (isDatabaseUnavailable(error))
    return { code: grpc.status.UNAVAILABLE, details: 'the database cannot be reached; try again' };
  const type = error instanceof InventoryError ? error.type : undefined;
  const code = type ? statusForFailureType(type) : undefined;
  if (code !== undefined && error instanceof Error) {
    const metadata = new grpc.Metadata();
    if (error instanceof InsufficientStockError) {
      metadata.set('grpc-status-details-bin', shortagesStatusDetails(code, error.message, error.shortages));
      metadata.set('inventory-shortages', JSON.stringify(error.shortages));
    }
    return { code, details: error.message, metadata };
  }
  logger.error('unexpected error in a gRPC call', {
    method,
    error: error instanceof Error ? error.stack : String(error),
  });
  return { code: grpc.status.INTERNAL, details: 'internal error' };
}

class UnacceptableInputError extends Error {}

function formatPath(path: PropertyKey[]): string {
  return (
    path.reduce<string>(
      (text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${String(part)}` : String(part)),
      '',
    ) || 'request'
  );
}

/**
 * Wraps an async handler as a grpc-js unary handler: the caller authorized for this RPC first
 * (authentication.ts), then the handler with the request bound to the token's organization, then the
 * error mapping above.
 */
export function unary<Req extends object, Res>(
  logger: Logger,
  method: Rpc,
  handler: (request: Req, principal: Principal) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => {
        const { principal, request } = authorizeCall(method, call.metadata, call.request);
        const unacceptable = findUnacceptable(request);
        if (unacceptable) throw new UnacceptableInputError(`${unacceptable.field}: ${unacceptable.problem}`);
        return handler(request, principal);
      })
      .then(
        (response) => callback(null, response),
        (error: unknown) => callback(answerFor(error, logger, method)),
      );
  };
}

/** toServiceError, and INTERNAL should the mapping itself fail: a call must never be left without an answer. */
function answerFor(error: unknown, logger: Logger, method: string): Partial<grpc.ServiceError> {
  try {
    return toServiceError(error, logger, method);
  } catch {
    return { code: grpc.status.INTERNAL, details: 'internal error' };
  }
}
