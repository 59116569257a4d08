import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createAdjustment } from '../../services/inventory/stock/adjustments.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { present } from '../helpers/present.ts';

describe('an adjustment under an Idempotency-Key', () => {
  it('sent again after it was recorded (its answer lost), a cycle count is answered with the recorded movement and applied once', async () => {
    const { scope, warehouseId, variantId } = await stockedOrganization(10);
    const count = { variantId, warehouseId, reasonCode: 'cycle_count' as const, countedQuantity: 7, actor: 'test' };
    const first = await createAdjustment(scope, count, undefined, { idempotencyKey: 'count-1' });
    // Counted again afresh, this request would find 7 on the shelf and be refused as "nothing to adjust".
    const again = await createAdjustment(scope, count, undefined, { idempotencyKey: 'count-1' });
    assert.equal(again.id, first.id);
    assert.equal(again.reference?.id, first.reference?.id);
    assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').available, 7);

    // Another key is another adjustment.
    const other = await createAdjustment(scope, { ...count, countedQuantity: 6 }, undefined, {
      idempotencyKey: `count-${randomUUID()}`,
    });
    assert.notEqual(other.reference?.id, first.reference?.id);
    assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').available, 6);
  });
});
