import { randomUUID } from 'node:crypto';
import { Warehouse } from '../../services/inventory/warehouses/warehouse.entity.ts';
import { applyOperation } from '../../services/inventory/stock/ledger.ts';
import { present } from './present.ts';
import { newOrganization, type TestOrganizationScope } from './stack.ts';

/** Creates an active warehouse in the scope's organization. */
export async function createWarehouse(
  scope: TestOrganizationScope,
  overrides: Partial<{ code: string; name: string; region: string; active: boolean }> = {},
): Promise<Warehouse> {
  const code = overrides.code ?? `WH-${randomUUID().slice(0, 8)}`;
  const warehouse = scope.em.create(Warehouse, {
    organizationId: scope.organizationId,
    code,
    name: overrides.name ?? `Warehouse ${code}`,
    region: overrides.region ?? 'north',
    active: overrides.active ?? true,
  });
  await scope.em.flush();
  return warehouse;
}

/** Puts `quantity` units of a variant on hand in a warehouse through the ledger (a receipt). */
export async function receiveStock(
  scope: TestOrganizationScope,
  variantId: string,
  warehouseId: string,
  quantity: number,
): Promise<void> {
  await scope.transaction((tx) =>
    applyOperation(tx, {
      operationKey: `test-receipt-${randomUUID()}`,
      actor: 'test',
      reference: { type: 'test', id: 'fixture' },
      changes: [{ variantId, warehouseId, type: 'receipt', deltas: { available: quantity }, createIfMissing: true }],
    }),
  );
}

/** The quantities of a stock row, all numbers. */
export interface StockQuantities {
  total: number;
  available: number;
  reserved: number;
  damaged: number;
  in_transit: number;
  incoming: number;
}

/** The stock row's quantities, straight from the table (undefined when there is no row). */
export async function stockRow(scope: TestOrganizationScope, variantId: string, warehouseId: string) {
  const [row] = await scope.em.execute<(StockQuantities & { version: number })[]>(
    'select total, available, reserved, damaged, in_transit, incoming, version from stock where organization_id = ? and variant_id = ? and warehouse_id = ?',
    [scope.organizationId, variantId, warehouseId],
  );
  return row;
}

/** The sum of every movement's deltas for a stock row: must equal the row itself. */
export async function ledgerSums(
  scope: TestOrganizationScope,
  variantId: string,
  warehouseId: string,
): Promise<StockQuantities> {
  const [row] = await scope.em.execute<StockQuantities[]>(
    `select coalesce(sum(total_delta), 0)::int as total, coalesce(sum(available_delta), 0)::int as available,
            coalesce(sum(reserved_delta), 0)::int as reserved, coalesce(sum(damaged_delta), 0)::int as damaged,
            coalesce(sum(in_transit_delta), 0)::int as in_transit, coalesce(sum(incoming_delta), 0)::int as incoming
     from stock_movement where organization_id = ? and variant_id = ? and warehouse_id = ?`,
    [scope.organizationId, variantId, warehouseId],
  );
  return present(row, 'the ledger sums (an aggregate always returns one row)');
}

/** A fresh organization with one warehouse and one variant holding `quantity` available. */
export async function stockedOrganization(quantity: number) {
  const scope = newOrganization();
  const warehouse = await createWarehouse(scope);
  const variantId = randomUUID();
  await receiveStock(scope, variantId, warehouse.id, quantity);
  return { scope, organizationId: scope.organizationId, warehouseId: warehouse.id, variantId };
}
