import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import { InventoryError } from '../inventory/errors.ts';
import type { FailureType } from '../inventory/vocabulary.ts';
import { AuthenticationError, PermissionDeniedError } from '../auth/errors.ts';
import { isStatementTimeout } from '../limits/statement-timeout.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import type { Logger } from '../logger.ts';

/**
 * Errors as RFC 9457 problem details (application/problem+json), one stable shape:
 * { type, title, status, detail, instance, request_id, errors? }. `type` is a URN naming the failure
 * (the domain error's class), so clients can branch on it without parsing text.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  request_id: string;
  errors?: { field: string; message: string }[];
  [extension: string]: unknown;
}

/**
 * The one map from domain failure types to HTTP statuses, one entry per failure type (tsc refuses a
 * type without one). `null`: a failure no caller can act on, answered as any unexpected error (500,
 * logged, not echoed).
 */
const statusByFailureType = {
  InvalidArgumentError: 400,
  WarehouseNotFoundError: 404,
  VariantNotFoundError: 404,
  VariantNotInCatalogError: 422,
  VariantInactiveError: 422,
  VariantNotTrackedError: 422,
  StockNotFoundError: 404,
  ReservationNotFoundError: 404,
  TransferNotFoundError: 404,
  ReconciliationNotFoundError: 404,
  InsufficientStockError: 409,
  InvalidStockChangeError: 409,
  InvalidReservationStateError: 409,
  OperationKeyConflictError: 409,
  WarehouseInactiveError: 422,
  WarehouseCodeTakenError: 409,
  InvalidTransferStateError: 409,
  InvalidTransferError: 422,
  StaleCountError: 409,
  LocationNotFoundError: 404,
  LocationConflictError: 409,
  WarehouseInUseError: 409,
  InvalidDataError: 400,
  // Not answered in time, or a step's retries ran out: the same request (and Idempotency-Key) may be sent again.
  RetriesExhaustedError: 503,
  WorkflowUnavailableError: 503,
  // Reservations are not served over REST; a cap on open holds is "too many" should one ever be.
  ReservationConflictError: 409,
  QuotaExceededError: 429,
  // What a workflow fails with for ops to repair: nothing a caller can do about it.
  CompensationFailedError: null,
  ReconciliationFailedError: null,
} satisfies Record<FailureType, number | null>;

const standardTitles = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Content too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  422: 'Unprocessable content',
  500: 'Internal server error',
  503: 'Service unavailable',
} as const;
/** By a status only known at run time: may have no title. */
const titles: Partial<Record<number, string>> = standardTitles;

/** Raised by route code for an HTTP-level problem that is not a domain error (e.g. an unknown route). */
export class HttpProblem extends Error {
  readonly status: number;
  readonly problemType: string;
  readonly extensions: Record<string, unknown>;
  constructor(status: number, problemType: string, detail: string, extensions: Record<string, unknown> = {}) {
    super(detail);
    this.status = status;
    this.problemType = problemType;
    this.extensions = extensions;
  }
}

export const notFoundRoute: RequestHandler = (req, _res, next) =>
  next(new HttpProblem(404, 'RouteNotFound', `no route for ${req.method} ${req.path}`));

/** The one error handler: every error leaves as problem+json; unexpected ones are logged and not echoed. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const requestId = String(res.locals.requestId ?? '');
    const base = { instance: req.originalUrl, request_id: requestId };
    let problem: Problem;
    if (error instanceof z.ZodError) {
      problem = {
        type: urn('ValidationError'),
        title: standardTitles[400],
        status: 400,
        detail: 'the request is not valid: see errors',
        errors: error.issues.flatMap((i) =>
          i.code === 'unrecognized_keys'
            ? i.keys.map((key) => ({ field: [...i.path, key].join('.'), message: 'unknown field' }))
            : [{ field: i.path.join('.'), message: i.message }],
        ),
        ...base,
      };
    } else if (error instanceof AuthenticationError) {
      // RFC 6750: the challenge says which scheme to use and why this token was refused.
      res.set(
        'WWW-Authenticate',
        error.missing
          ? 'Bearer realm="inventory"'
          : `Bearer realm="inventory", error="invalid_token", error_description="${error.message.replace(/["\\]/g, '')}"`,
      );
      problem = {
        type: urn('Unauthenticated'),
        title: standardTitles[401],
        status: 401,
        detail: error.message,
        ...base,
      };
    } else if (error instanceof PermissionDeniedError) {
      problem = {
        type: urn('PermissionDenied'),
        title: standardTitles[403],
        status: 403,
        detail: error.message,
        ...base,
      };
    } else if (error instanceof HttpProblem) {
      problem = {
        ...error.extensions,
        type: urn(error.problemType),
        title: titles[error.status] ?? 'Error',
        status: error.status,
        detail: error.message,
        ...base,
      };
    } else if (error instanceof InventoryError && statusByFailureType[error.type] !== null) {
      const status: number = statusByFailureType[error.type] ?? 500;
      if (status === 503)
        res.set('Retry-After', String((error.details?.retry_after_seconds as number | undefined) ?? 5));
      // Details become extension members; they never replace the standard ones (a transfer's `status`, say).
      problem = {
        ...(error.details ?? {}),
        type: urn(error.type),
        title: titles[status] ?? 'Error',
        status,
        detail: error.message,
        ...base,
      };
    } else if (isStatementTimeout(error) || isDatabaseUnavailable(error)) {
      // The request's transaction rolled back, or its connection was lost: the caller may try again (README, Failure
      // model, on a COMMIT whose answer is lost).
      const timedOut = isStatementTimeout(error);
      res.set('Retry-After', '1');
      problem = {
        type: urn(timedOut ? 'DatabaseTimeout' : 'DatabaseUnavailable'),
        title: standardTitles[503],
        status: 503,
        detail: timedOut
          ? 'the database did not answer in time; try again'
          : 'the database cannot be reached; try again',
        ...base,
      };
    } else if (isBodyParserError(error)) {
      problem = {
        type: urn('MalformedBody'),
        title: standardTitles[400],
        status: 400,
        detail: 'the request body is not valid JSON',
        ...base,
      };
    } else if (isClientError(error)) {
      // What express and body-parser refuse before a route runs: a body too large, an unknown charset or
      // Content-Encoding, a path whose percent-escapes do not decode. Their messages name no internals.
      const type = error.name.replace(/Error$/, '') || 'BadRequest';
      problem = {
        type: urn(type),
        title: titles[error.status] ?? 'Client error',
        status: error.status,
        detail: error.message,
        ...base,
      };
    } else {
      (res.locals.logger ?? logger).error('unexpected error in an HTTP request', {
        error: error instanceof Error ? error.stack : String(error),
        path: req.originalUrl,
      });
      problem = {
        type: urn('InternalError'),
        title: standardTitles[500],
        status: 500,
        detail: 'internal error; quote the request id when reporting it',
        ...base,
      };
    }
    res.status(problem.status).type('application/problem+json').json(problem);
  };
}

function urn(type: string): string {
  return `urn:inventory:problem:${type}`;
}

function isClientError(error: unknown): error is Error & { status: number } {
  const status = (error as { status?: unknown } | null)?.status;
  return error instanceof Error && typeof status === 'number' && status >= 400 && status < 500;
}

function isBodyParserError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { type?: string }).type === 'entity.parse.failed';
}
