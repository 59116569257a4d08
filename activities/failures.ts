import { ApplicationFailure } from '@temporalio/activity';
import { InvalidDataError, InventoryError } from '../services/inventory/errors.ts';

/**
 * The activity boundary, where every failure is sorted by whether a retry can cure it:
 * - a domain error becomes an ApplicationFailure whose type is the error's class name, non-retryable
 *   when a retry cannot help, with the error's details (e.g. per-line shortages) for the caller;
 * - an error no retry can cure (curableByRetry() = false: a value PostgreSQL refuses, SQLSTATE class 22,
 *   a constraint violation that is not a race, a parameter it cannot read, input that fails validation) becomes a non-retryable InvalidDataError at once, its message safe to show a caller
 *   and the original error kept as the failure's cause (Temporal UI shows it);
 * - anything else (a lost connection, a timeout, a serialization failure) is rethrown as is and
 *   retried, a bounded number of times (workflows/activity-options.ts).
 */
export async function asApplicationFailure<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toActivityFailure(error);
  }
}

/** What asApplicationFailure throws for `error`. */
export function toActivityFailure(error: unknown): unknown {
  const domain = error instanceof InventoryError ? error : invalidDataFrom(error);
  if (!domain) return error;
  return ApplicationFailure.create({
    type: domain.type,
    message: domain.message,
    nonRetryable: !domain.retryable,
    details: domain.details ? [domain.details] : [],
    cause: domain === error ? undefined : (error as Error),
  });
}

/** The SQLSTATE of a PostgreSQL error (pg's DatabaseError, or MikroORM's DriverException wrapping one). */
export function sqlStateOf(error: unknown): string | undefined {
  for (
    let e = error, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && /^[0-9]{2}/.test(code)) return code;
  }
  return undefined;
}

/**
 * Constraint violations (class 23) that a retry does not cure. Not 23505 unique_violation, nor 23P01
 * exclusion_violation: those are races with a concurrent transaction, and the retry sees its outcome
 * (nor 40001 serialization_failure / 40P01 deadlock_detected, class 40, which are not listed here).
 */
const permanentConstraintViolations: Record<string, string> = {
  '23000': 'the database refused the change (integrity constraint)',
  '23001': 'a record is still referenced by others',
  '23502': 'a required value is missing',
  '23503': 'a value refers to a record that does not exist',
  '23514': 'a value breaks a rule of the data (check constraint)',
};

/** Data exceptions (class 22) with a message of their own; any other 22xxx gets the generic one. */
const dataExceptions: Record<string, string> = {
  '22001': 'a text value is longer than the database allows',
  '22003': 'a number is out of the range the database allows',
  '22007': 'a date or time is not valid',
  '22008': 'a date or time is out of the range the database allows',
  '22021': 'a text value contains a character the database cannot store (NUL, or bytes that are not UTF-8)',
  '22P02': 'a value is not in the form the database expects (e.g. a malformed UUID or number)',
  '22P05': 'a text value contains a character the database cannot store (\\u0000)',
};

/**
 * The InvalidDataError an error stands for when no retry can cure it, or undefined when a retry may
 * help (an unknown error, a lost connection, a race). Pure: it only reads the error.
 */
export function invalidDataFrom(error: unknown): InvalidDataError | undefined {
  const state = sqlStateOf(error);
  // The column is named when PostgreSQL says which (a missing value); constraint names stay internal.
  const column = (error as { column?: unknown } | null)?.column;
  const details = { sqlstate: state, ...(typeof column === 'string' ? { column } : {}) };
  const where = typeof column === 'string' ? ` (${column})` : '';
  if (state?.startsWith('22'))
    return new InvalidDataError(
      `invalid data: ${dataExceptions[state] ?? 'the database refused a value'}${where}`,
      details,
    );
  if (state && permanentConstraintViolations[state])
    return new InvalidDataError(`invalid data: ${permanentConstraintViolations[state]}${where}`, details);
  // A parameter PostgreSQL cannot even read (node-postgres sends a NUL character in text as is, and the
  // server answers 08P01 "invalid message format"): the same statement with the same values fails again.
  if (state === '08P01')
    return new InvalidDataError(
      'invalid data: a value could not be passed to the database (a NUL character in text)',
      details,
    );
  if (state) return undefined;
  const name = (error as { name?: unknown } | null)?.name;
  // zod's and MikroORM's validation errors: the input itself is wrong, the same input fails again.
  if (name === 'ZodError' || name === 'ValidationError')
    return new InvalidDataError(`invalid data: ${(error as Error).message}`);
  return undefined;
}

/** True when retrying the same step may succeed: everything but domain errors that say otherwise and invalid data. */
export function curableByRetry(error: unknown): boolean {
  if (error instanceof InventoryError) return error.retryable;
  return invalidDataFrom(error) === undefined;
}
