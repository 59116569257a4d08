import assert from 'node:assert/strict';
import * as errors from '../../services/inventory/errors.ts';
import { QuotaExceededError } from '../../services/limits/quotas.ts';
import { linesFirst } from '../../services/grpc/validation.ts';
import {
  canonicalLines,
  failureTypeNames,
  failureTypes,
  type SnakeQuantities,
} from '../../services/inventory/vocabulary.ts';

describe('the vocabulary: values shared by workflows, activities, facades and the domain', () => {
  it('every domain error class has a failure type equal to its class name, and every failure type has a class', () => {
    type ErrorClass = new (argument: never) => errors.InventoryError;
    const classes = ([...Object.values(errors), QuotaExceededError] as unknown[]).filter(
      (value): value is ErrorClass => typeof value === 'function' && value.prototype instanceof errors.InventoryError,
    );
    for (const ErrorClass of classes) {
      // InsufficientStockError takes its shortages; every other class a message.
      const argument = ErrorClass === errors.InsufficientStockError ? [] : 'x';
      assert.equal(new ErrorClass(argument as never).type, ErrorClass.name);
    }
    assert.deepEqual(classes.map((c) => c.name).sort(), [...failureTypeNames].sort());
    assert.equal(failureTypes.InsufficientStockError, 'InsufficientStockError');
  });

  it('only the errors of an answer that came too late say a retry may help', () => {
    const retryable = [new errors.RetriesExhaustedError('x'), new errors.WorkflowUnavailableError('x')];
    assert.ok(retryable.every((e) => e.retryable));
    assert.equal(new errors.StockNotFoundError('x').retryable, false);
  });

  it('canonical lines merge the same variant and warehouse choice, sorted, without changing the input', () => {
    const lines = [
      { variant_id: 'b', quantity: 1 },
      { variant_id: 'a', quantity: 1, warehouse_id: 'w' },
      { variant_id: 'b', quantity: 2 },
    ];
    assert.deepEqual(canonicalLines(lines), [
      { variant_id: 'a', quantity: 1, warehouse_id: 'w' },
      { variant_id: 'b', quantity: 3 },
    ]);
    assert.equal(lines[0]?.quantity, 1);
  });

  it('the snake_case quantities are derived from the one list of names', () => {
    const wire: SnakeQuantities = { total: 1, available: 1, reserved: 0, damaged: 0, in_transit: 0, incoming: 0 };
    assert.equal(Object.keys(wire).length, 6);
  });
});

describe('gRPC lines under their v1.1 name', () => {
  it("a request's `lines` are read in place of the deprecated `items`, which still count while `lines` is empty", () => {
    const line = { variant_id: 'v', quantity: 1 };
    assert.deepEqual(linesFirst({ lines: [line], items: [] }).items, [line]);
    assert.deepEqual(linesFirst({ lines: [], items: [line] }).items, [line]);
  });
});
