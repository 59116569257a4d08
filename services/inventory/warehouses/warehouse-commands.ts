import type { OrganizationScope } from '../organization-scope.ts';
import { WarehouseInUseError } from '../errors.ts';
import {
  insertWarehouse,
  lockWarehouse,
  setWarehouseActive,
  updateWarehouseFields,
  usageOf,
  type WarehouseFields,
  type WarehouseRecord,
} from './warehouse.store.ts';

/** Operators' changes to warehouses, each one transaction. Stock never changes here: only the ledger moves it. */

export type { WarehouseFields } from './warehouse.store.ts';

/** Creates an active warehouse; WarehouseCodeTakenError when the code is in use in the organization. */
export function createWarehouse(scope: OrganizationScope, fields: WarehouseFields): Promise<WarehouseRecord> {
  return scope.transaction((tx) => insertWarehouse(tx, fields));
}

/** Renames, recodes or moves a warehouse to another region; WarehouseNotFoundError, WarehouseCodeTakenError. */
export function updateWarehouse(
  scope: OrganizationScope,
  warehouseId: string,
  fields: Partial<WarehouseFields>,
): Promise<WarehouseRecord> {
  return scope.transaction((tx) => updateWarehouseFields(tx, warehouseId, fields));
}

/**
 * Takes a warehouse out of service: no new holds or allocations go to it. Refused with
 * WarehouseInUseError while it holds units (on hand, held, in transit or incoming) or has open transfers. Idempotent.
 */
export function deactivateWarehouse(scope: OrganizationScope, warehouseId: string): Promise<WarehouseRecord> {
  return scope.transaction(async (tx) => {
    // The warehouse row stays locked until commit, so no stock can arrive between the check and the change.
    await lockWarehouse(tx, warehouseId);
    const { openTransfers, ...units } = await usageOf(tx, warehouseId);
    if (openTransfers > 0) {
      throw new WarehouseInUseError(
        `warehouse ${warehouseId} has ${openTransfers} open transfers: finish or cancel them first`,
        {
          warehouse_id: warehouseId,
          open_transfers: openTransfers,
        },
      );
    }
    if (units.total > 0 || units.incoming > 0) {
      throw new WarehouseInUseError(
        `warehouse ${warehouseId} still holds ${units.total} units ` +
          `(${units.reserved} held for orders, ${units.in_transit} in transit) ` +
          `and expects ${units.incoming}: move or write them off first`,
        { warehouse_id: warehouseId, ...units },
      );
    }
    return await setWarehouseActive(tx, warehouseId, false);
  });
}

/** Puts a warehouse back in service; WarehouseNotFoundError. Idempotent. */
export function reactivateWarehouse(scope: OrganizationScope, warehouseId: string): Promise<WarehouseRecord> {
  return scope.transaction((tx) => setWarehouseActive(tx, warehouseId, true));
}
