import assert from 'node:assert/strict';
import { chooseWarehouses } from '../../services/inventory/stock/availability.ts';

const rows = [
  { variantId: 'v1', warehouseId: 'big', available: 10 },
  { variantId: 'v1', warehouseId: 'small', available: 4 },
  { variantId: 'v2', warehouseId: 'small', available: 1 },
];

describe('choosing a warehouse for an availability check (no services)', () => {
  it("answers from the preferred warehouse when it holds the variant's requested sum", () => {
    const [result] = chooseWarehouses([{ variantId: 'v1', quantity: 3 }], rows, 'small');
    assert.deepEqual(result, { variantId: 'v1', requested: 3, available: 4, sufficient: true, warehouseId: 'small' });
  });

  it('falls back to the most available row when lines of one variant together exceed the preferred warehouse', () => {
    const results = chooseWarehouses(
      [
        { variantId: 'v1', quantity: 3 },
        { variantId: 'v1', quantity: 2 },
      ],
      rows,
      'small',
    );
    assert.deepEqual(
      results.map((r) => [r.warehouseId, r.sufficient]),
      [
        ['big', true],
        ['big', true],
      ],
    );
  });

  it('reports a shortfall, and no warehouse for a variant nobody holds', () => {
    const [short, none] = chooseWarehouses(
      [
        { variantId: 'v2', quantity: 2 },
        { variantId: 'v3', quantity: 1 },
      ],
      rows,
    );
    assert.deepEqual(short, { variantId: 'v2', requested: 2, available: 1, sufficient: false, warehouseId: 'small' });
    assert.deepEqual(none, { variantId: 'v3', requested: 1, available: 0, sufficient: false, warehouseId: null });
  });
});
