import assert from 'node:assert/strict';
import { allocate, type StockCandidate } from '../../services/inventory/reservations/allocation.ts';
import { InsufficientStockError, VariantNotFoundError } from '../../services/inventory/errors.ts';

const v1 = 'variant-1';
const v2 = 'variant-2';
/** Candidates as the store returns them: most available first. */
const candidates: StockCandidate[] = [
  { variant_id: v1, warehouse_id: 'big', available: 10, active: true },
  { variant_id: v1, warehouse_id: 'closed', available: 8, active: false },
  { variant_id: v1, warehouse_id: 'small', available: 3, active: true },
  { variant_id: v2, warehouse_id: 'small', available: 2, active: true },
];

describe('reservation allocation (pure)', () => {
  it('holds a line in the active warehouse with the most available when no warehouse is named or preferred', () => {
    assert.deepEqual(allocate([{ variant_id: v1, quantity: 4 }], candidates), [
      { variant_id: v1, warehouse_id: 'big', quantity: 4 },
    ]);
  });

  it('holds a line in the preferred warehouse when it has enough, elsewhere when it has not', () => {
    assert.deepEqual(allocate([{ variant_id: v1, quantity: 3 }], candidates, 'small'), [
      { variant_id: v1, warehouse_id: 'small', quantity: 3 },
    ]);
    assert.deepEqual(allocate([{ variant_id: v1, quantity: 4 }], candidates, 'small'), [
      { variant_id: v1, warehouse_id: 'big', quantity: 4 },
    ]);
  });

  it('holds a line naming a warehouse only there, and refuses it when that warehouse is short', () => {
    assert.deepEqual(allocate([{ variant_id: v1, quantity: 2, warehouse_id: 'small' }], candidates), [
      { variant_id: v1, warehouse_id: 'small', quantity: 2 },
    ]);
    assert.throws(
      () => allocate([{ variant_id: v1, quantity: 4, warehouse_id: 'small' }], candidates),
      InsufficientStockError,
    );
  });

  it('never holds in an inactive warehouse, even one with enough', () => {
    const error = captured(() => allocate([{ variant_id: v1, quantity: 9, warehouse_id: 'closed' }], candidates));
    assert.ok(error instanceof InsufficientStockError);
    assert.deepEqual(error.shortages, [{ variant_id: v1, warehouse_id: 'closed', requested: 9, available: 0 }]);
  });

  it('sums lines for the same variant before checking, so two small lines cannot each pass alone', () => {
    const error = captured(() =>
      allocate(
        [
          { variant_id: v2, quantity: 2 },
          { variant_id: v2, quantity: 1 },
        ],
        candidates,
      ),
    );
    assert.ok(error instanceof InsufficientStockError);
    assert.deepEqual(error.shortages, [{ variant_id: v2, warehouse_id: 'small', requested: 3, available: 2 }]);
  });

  it('lists every short line, not only the first', () => {
    const error = captured(() =>
      allocate(
        [
          { variant_id: v1, quantity: 11 },
          { variant_id: v2, quantity: 5 },
        ],
        candidates,
      ),
    );
    assert.ok(error instanceof InsufficientStockError);
    assert.deepEqual(
      error.shortages.map((s) => s.variant_id),
      [v1, v2],
    );
  });

  it('merges a named line and a chosen line that land on the same row into one allocation', () => {
    const allocations = allocate(
      [
        { variant_id: v1, quantity: 2, warehouse_id: 'big' },
        { variant_id: v1, quantity: 3 },
      ],
      candidates,
    );
    assert.deepEqual(allocations, [{ variant_id: v1, warehouse_id: 'big', quantity: 5 }]);
  });

  it('refuses a variant with no stock row at all as VariantNotFoundError, naming it', () => {
    const error = captured(() => allocate([{ variant_id: 'unknown', quantity: 1 }], candidates));
    assert.ok(error instanceof VariantNotFoundError);
    assert.deepEqual(error.details, { variant_ids: ['unknown'] });
  });
});

function captured(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return assert.fail('expected a throw');
}
