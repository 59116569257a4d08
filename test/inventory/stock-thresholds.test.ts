import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { applyOperation, type LedgerOutcome, type Operation } from '../../services/inventory/stock/ledger.ts';
import type { OrganizationScope } from '../../services/inventory/organization-scope.ts';
import { newOrganization } from '../helpers/stack.ts';
import { createWarehouse, receiveStock } from '../helpers/fixtures.ts';
import { present } from '../helpers/present.ts';

describe('stock-level events', () => {
  it('are published once when a threshold is crossed, and again only after recovering', async () => {
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const variantId = randomUUID();
    await scope.em.execute(
      'insert into stock (organization_id, variant_id, warehouse_id, min_stock, reorder_point, max_stock) values (?, ?, ?, 10, 15, 100)',
      [scope.organizationId, variantId, warehouse.id],
    );
    await receiveStock(scope, variantId, warehouse.id, 20);
    const [newest] = await scope.em.execute<{ last: string }[]>(
      'select coalesce(max(sequence), 0)::text as last from outbox_event where organization_id = ?',
      [scope.organizationId],
    );
    const { last } = present(newest, 'the newest outbox sequence');

    const move = async (available: number) =>
      apply(scope, {
        operationKey: randomUUID(),
        actor: 'test',
        changes: [
          {
            variantId,
            warehouseId: warehouse.id,
            type: available < 0 ? 'reserve' : 'release',
            deltas: { available, reserved: -available },
          },
        ],
      });
    for (const step of [-6, -2, -3, -1, 8, -16]) await move(step);

    const events = await scope.em.execute<{ name: string; payload: Record<string, unknown> }[]>(
      "select name, payload from outbox_event where organization_id = ? and sequence > ? and name <> 'inventory.stock.updated' order by sequence",
      [scope.organizationId, last],
    );
    assert.deepEqual(
      events.map((e) => `${e.name}@${e.payload.available_quantity ?? e.payload.current_stock}`),
      [
        'inventory.stock.reorder_needed@14',
        'inventory.stock.low_level@9',
        'inventory.stock.replenished@16',
        'inventory.stock.low_level@0',
        'inventory.stock.reorder_needed@0',
        'inventory.stock.depleted@0',
      ],
    );
    const [reorderNeeded, lowLevel, , lowAtZero] = events;
    assert.ok(reorderNeeded && lowLevel && lowAtZero, 'the threshold events');
    assert.equal(reorderNeeded.payload.suggested_order_quantity, 86);
    assert.deepEqual([lowLevel.payload.alert_level, lowLevel.payload.shortage], ['warning', 1]);
    assert.equal(lowAtZero.payload.alert_level, 'critical');
  });
});

/** One operation as a use case applies it: in a transaction of its own, bound to the organization. */
function apply(scope: Pick<OrganizationScope, 'transaction'>, operation: Operation): Promise<LedgerOutcome> {
  return scope.transaction((tx) => applyOperation(tx, operation));
}
