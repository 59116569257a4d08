import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { applyOperation, type LedgerOutcome, type Operation } from '../../services/inventory/stock/ledger.ts';
import type { OrganizationScope } from '../../services/inventory/organization-scope.ts';
import {
  InsufficientStockError,
  InvalidStockChangeError,
  OperationKeyConflictError,
  StockNotFoundError,
} from '../../services/inventory/errors.ts';
import { newOrganization, organizationScope } from '../helpers/stack.ts';
import { createWarehouse, ledgerSums, receiveStock, stockRow } from '../helpers/fixtures.ts';
import { present } from '../helpers/present.ts';

describe('the stock ledger', () => {
  it('applies a change, records its movement with the quantities after it, and queues inventory.stock.updated', async () => {
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const variantId = randomUUID();
    await receiveStock(scope, variantId, warehouse.id, 10);

    const outcome = await apply(scope, {
      operationKey: 'reserve-1',
      actor: 'test',
      reference: { type: 'order', id: 'order-1' },
      changes: [{ variantId, warehouseId: warehouse.id, type: 'reserve', deltas: { available: -3, reserved: 3 } }],
    });

    assert.equal(outcome.replayed, false);
    assert.equal(outcome.movements.length, 1);
    assert.deepEqual(present(outcome.movements[0], 'the movement').after, {
      total: 10,
      available: 7,
      reserved: 3,
      damaged: 0,
      inTransit: 0,
      incoming: 0,
    });
    assert.deepEqual(await stockRow(scope, variantId, warehouse.id), {
      total: 10,
      available: 7,
      reserved: 3,
      damaged: 0,
      in_transit: 0,
      incoming: 0,
      version: 3,
    });
    const events = await scope.em.execute<{ name: string; payload: { quantities: { available: number } } }[]>(
      "select name, payload from outbox_event where organization_id = ? and name = 'inventory.stock.updated' order by sequence",
      [scope.organizationId],
    );
    assert.deepEqual(
      events.map((e) => e.name),
      ['inventory.stock.updated', 'inventory.stock.updated'],
    );
    assert.equal(present(events[1], 'the second event').payload.quantities.available, 7);
  });

  it('applies a repeated operation key once and returns the first outcome', async () => {
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const variantId = randomUUID();
    await receiveStock(scope, variantId, warehouse.id, 10);
    const operation = {
      operationKey: 'reserve-twice',
      actor: 'test',
      changes: [
        { variantId, warehouseId: warehouse.id, type: 'reserve' as const, deltas: { available: -4, reserved: 4 } },
      ],
    };

    const first = await apply(scope, operation);
    const second = await apply(scope, operation);

    assert.equal(second.replayed, true);
    assert.deepEqual(second.movements, first.movements);
    assert.equal(present(await stockRow(scope, variantId, warehouse.id), 'the stock row').available, 6);
    const [counted] = await scope.em.execute<{ count: number }[]>(
      "select count(*)::int as count from outbox_event where organization_id = ? and name = 'inventory.stock.updated'",
      [scope.organizationId],
    );
    const { count } = present(counted, 'the count');
    assert.equal(count, 2, 'the receipt and one reserve event, no event for the replay');
  });

  it('applies the same key sent concurrently exactly once', async () => {
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const variantId = randomUUID();
    await receiveStock(scope, variantId, warehouse.id, 100);
    const operation = {
      operationKey: 'racing-key',
      actor: 'test',
      changes: [
        { variantId, warehouseId: warehouse.id, type: 'reserve' as const, deltas: { available: -5, reserved: 5 } },
      ],
    };

    const outcomes = await Promise.all(Array.from({ length: 8 }, () => apply(newScopeLike(scope), operation)));

    assert.equal(outcomes.filter((o) => !o.replayed).length, 1);
    assert.equal(present(await stockRow(scope, variantId, warehouse.id), 'the stock row').reserved, 5);
  });

  it('refuses a key reused for a different change', async () => {
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const variantId = randomUUID();
    await receiveStock(scope, variantId, warehouse.id, 10);
    const change = {
      variantId,
      warehouseId: warehouse.id,
      type: 'reserve' as const,
      deltas: { available: -1, reserved: 1 },
    };
    await apply(scope, { operationKey: 'k', actor: 'test', changes: [change] });

    await assert.rejects(
      apply(scope, {
        operationKey: 'k',
        actor: 'test',
        changes: [{ ...change, deltas: { available: -2, reserved: 2 } }],
      }),
      OperationKeyConflictError,
    );
    assert.equal(present(await stockRow(scope, variantId, warehouse.id), 'the stock row').reserved, 1);
  });

  it('never loses an update when many writers change one row at once', async () => {
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const variantId = randomUUID();
    await receiveStock(scope, variantId, warehouse.id, 1);

    await Promise.all(Array.from({ length: 40 }, () => receiveStock(newScopeLike(scope), variantId, warehouse.id, 1)));

    const row = present(await stockRow(scope, variantId, warehouse.id), 'the stock row');
    assert.equal(row.available, 41);
    assert.equal(row.version, 42);
    assert.deepEqual(await ledgerSums(scope, variantId, warehouse.id), {
      total: 41,
      available: 41,
      reserved: 0,
      damaged: 0,
      in_transit: 0,
      incoming: 0,
    });
  });

  it('changes nothing when any line of an operation is short, and names every short line', async () => {
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const plenty = randomUUID();
    const scarce = randomUUID();
    await receiveStock(scope, plenty, warehouse.id, 10);
    await receiveStock(scope, scarce, warehouse.id, 1);

    const attempt = apply(scope, {
      operationKey: 'all-or-nothing',
      actor: 'test',
      changes: [
        { variantId: plenty, warehouseId: warehouse.id, type: 'reserve', deltas: { available: -5, reserved: 5 } },
        { variantId: scarce, warehouseId: warehouse.id, type: 'reserve', deltas: { available: -2, reserved: 2 } },
      ],
    });

    await assert.rejects(attempt, (error: unknown) => {
      assert.ok(error instanceof InsufficientStockError);
      assert.deepEqual(error.shortages, [
        { variant_id: scarce, warehouse_id: warehouse.id, requested: 2, available: 1 },
      ]);
      return true;
    });
    assert.equal(present(await stockRow(scope, plenty, warehouse.id), 'the stock row').available, 10);
    assert.equal(present(await stockRow(scope, scarce, warehouse.id), 'the stock row').available, 1);
  });

  it('refuses to take a quantity other than available below zero, and a row that does not exist', async () => {
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const variantId = randomUUID();
    await receiveStock(scope, variantId, warehouse.id, 3);

    await assert.rejects(
      apply(scope, {
        operationKey: 'over-release',
        actor: 'test',
        changes: [{ variantId, warehouseId: warehouse.id, type: 'release', deltas: { reserved: -1, available: 1 } }],
      }),
      InvalidStockChangeError,
    );
    await assert.rejects(
      apply(scope, {
        operationKey: 'nowhere',
        actor: 'test',
        changes: [{ variantId: randomUUID(), warehouseId: warehouse.id, type: 'receipt', deltas: { available: 1 } }],
      }),
      StockNotFoundError,
    );
  });
});

describe('the stock table', () => {
  it('refuses a row whose total is not the sum of its parts, or that goes negative', async () => {
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const insert = (total: number, available: number) =>
      scope.em.execute(
        'insert into stock (organization_id, variant_id, warehouse_id, total, available) values (?, ?, ?, ?, ?)',
        [scope.organizationId, randomUUID(), warehouse.id, total, available],
      );

    await assert.rejects(insert(5, 4), /stock_total_is_sum_of_parts/);
    await assert.rejects(insert(-1, -1), /stock_quantities_non_negative/);
    await insert(4, 4);
  });

  it('keeps the ledger append-only', async () => {
    const scope = newOrganization();
    const warehouse = await createWarehouse(scope);
    const variantId = randomUUID();
    await receiveStock(scope, variantId, warehouse.id, 3);

    await assert.rejects(
      scope.em.execute('update stock_movement set available_delta = 100 where organization_id = ?', [
        scope.organizationId,
      ]),
      /append-only/,
    );
    await assert.rejects(
      scope.em.execute('delete from stock_movement where organization_id = ?', [scope.organizationId]),
      /append-only/,
    );
  });
});

/** Another request of the same organization: its own EntityManager, so its own connection and transaction. */
function newScopeLike(scope: ReturnType<typeof newOrganization>) {
  return organizationScope(scope.organizationId);
}

/** One operation as a use case applies it: in a transaction of its own, bound to the organization. */
function apply(scope: Pick<OrganizationScope, 'transaction'>, operation: Operation): Promise<LedgerOutcome> {
  return scope.transaction((tx) => applyOperation(tx, operation));
}
