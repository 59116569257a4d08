import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { movementColumnsBackfill } from '../../services/db/migrations/Migration20261130120000_movement_columns.ts';
import { applyOperation, type Operation } from '../../services/inventory/stock/ledger.ts';
import { createWarehouse, receiveStock } from '../helpers/fixtures.ts';
import { newOrganization } from '../helpers/stack.ts';

describe('the movement columns migration', () => {
  it('backfills old rows: order_id from the reservation, reason_code and purchase order from the joined text', async () => {
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const variantId = randomUUID();
    await receiveStock(scope, variantId, warehouse.id, 10);
    const apply = (operation: Omit<Operation, 'actor'>) =>
      scope.transaction((tx) => applyOperation(tx, { actor: 'test', ...operation }));
    const change = { variantId, warehouseId: warehouse.id };
    // What the service wrote before the columns existed: the reason text joined with ': ', no order.
    const oldAdjustment = async (reason: string, type: 'receipt' | 'damage') => {
      const id = randomUUID();
      const deltas = type === 'receipt' ? { available: 1 } : { available: -1, damaged: 1 };
      await apply({
        operationKey: `old/${id}`,
        reference: { type: 'adjustment', id },
        changes: [{ ...change, type, deltas, reason }],
      });
      return id;
    };
    const withPurchaseOrder = await oldAdjustment('receipt: purchase order PO-9: dock 3: pallet 2', 'receipt');
    const codeOnly = await oldAdjustment('damage', 'damage');
    const withNote = await oldAdjustment('damage: box crushed', 'damage');
    const freeText = await oldAdjustment('not a reason code: kept', 'receipt');
    const reservationId = randomUUID();
    const orderId = `order-${randomUUID()}`;
    await scope.em.execute(
      `insert into reservation (id, organization_id, order_id, status, items, allocations, request_fingerprint,
         transitions, workflow_id, workflow_run_id)
       values (?, ?, ?, 'active', '[]', '[]', 'f', '[]', 'w', 'r')`,
      [reservationId, scope.organizationId, orderId],
    );
    await apply({
      operationKey: `old/${reservationId}/hold`,
      reference: { type: 'reservation', id: reservationId },
      changes: [{ ...change, type: 'reserve', deltas: { available: -2, reserved: 2 } }],
    });

    await scope.em.transactional(async (em) => {
      await em.execute('alter table stock_movement disable trigger stock_movement_append_only');
      for (const statement of movementColumnsBackfill) await em.execute(statement);
      await em.execute('alter table stock_movement enable trigger stock_movement_append_only');
    });

    const rows = await scope.em.execute<
      {
        reference_id: string;
        reason: string | null;
        reason_code: string | null;
        purchase_order_id: string | null;
        order_id: string | null;
      }[]
    >(
      `select reference_id, reason, reason_code, purchase_order_id, order_id from stock_movement
       where organization_id = ? and reference_type in ('adjustment', 'reservation')`,
      [scope.organizationId],
    );
    const byReference = new Map(
      rows.map((r) => [r.reference_id, [r.reason_code, r.purchase_order_id, r.reason, r.order_id]]),
    );
    assert.deepEqual(byReference.get(withPurchaseOrder), ['receipt', 'PO-9', 'dock 3: pallet 2', null]);
    assert.deepEqual(byReference.get(codeOnly), ['damage', null, null, null]);
    assert.deepEqual(byReference.get(withNote), ['damage', null, 'box crushed', null]);
    assert.deepEqual(
      byReference.get(freeText),
      [null, null, 'not a reason code: kept', null],
      'text that is not the old shape is left alone',
    );
    assert.deepEqual(byReference.get(reservationId), [null, null, null, orderId]);
  });
});
