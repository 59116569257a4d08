import assert from 'node:assert/strict';

/**
 * The value, failing the test when it is missing: for the one row a query must return, or an element a test
 * knows is there (an indexed access that `noUncheckedIndexedAccess` types as possibly undefined).
 */
export function present<T>(value: T | null | undefined, what: string): T {
  assert.ok(value !== undefined && value !== null, `expected ${what}, found none`);
  return value;
}
