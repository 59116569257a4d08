import assert from 'node:assert/strict';
import { findUnacceptable, maxNesting } from '../../../services/unacceptable-input.ts';

/** A value nested `depth` levels deep: { a: { a: … 'leaf' } }. */
function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i += 1) value = { a: value };
  return value;
}

describe('unacceptable input (the guard every edge runs before parsing further)', () => {
  it('accepts ordinary requests, empty ones and nesting up to the limit', () => {
    assert.equal(findUnacceptable({ order_id: 'o-1', items: [{ variant_id: 'v', quantity: 2 }] }), undefined);
    assert.equal(findUnacceptable(undefined), undefined);
    assert.equal(findUnacceptable(''), undefined);
    assert.equal(findUnacceptable(nested(maxNesting)), undefined);
  });

  it('names where a NUL character is, in a value or in a key', () => {
    assert.deepEqual(findUnacceptable({ items: [{ sku: 'ok' }, { sku: 'a\u0000b' }] }), {
      field: 'items[1].sku',
      problem: 'NUL characters are not allowed',
    });
    assert.deepEqual(findUnacceptable('a\u0000'), { field: 'value', problem: 'NUL characters are not allowed' });
    assert.deepEqual(findUnacceptable({ 'bad\u0000key': 1 }), {
      field: 'bad\\0key',
      problem: 'NUL characters are not allowed',
    });
  });

  it('refuses nesting past the limit, also in a value 200,000 levels deep', () => {
    assert.match(findUnacceptable(nested(maxNesting + 1))?.problem ?? '', /nested deeper than 32 levels/);
    assert.match(findUnacceptable(nested(200_000))?.problem ?? '', /nested deeper/);
  });
});
