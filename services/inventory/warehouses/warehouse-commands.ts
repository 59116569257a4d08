import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { OrganizationScope } from '../organization-scope.ts';
import { WarehouseCodeTakenError, WarehouseInUseError } from '../errors.ts';
import { findWarehouse, type WarehouseSummary } from '../stock/stock-queries.ts';

/** Operators' changes to warehouses. Stock never changes here: only the ledger moves it. */

export interface WarehouseFields {
  code: string;
  name: string;
  region: string;
}

/** Creates an active warehouse; WarehouseCodeTakenError when the code is in use in the organization. */
export async function createWarehouse(scope: OrganizationScope, fields: WarehouseFields): Promise<WarehouseSummary> {
  const [row] = await translateCodeConflict(fields.code, () =>
    scope.em.execute<{ id: string }[]>('insert into warehouse (organization_id, code, name, region) values (?, ?, ?, ?) returning id', [scope.organizationId, fields.code, fields.name, fields.region]),
  );
  return await findWarehouse(scope, row.id);
}

/** Renames, recodes or moves a warehouse to another region. */
export async function updateWarehouse(scope: OrganizationScope, warehouseId: string, fields: Partial<WarehouseFields>): Promise<WarehouseSummary> {
  await findWarehouse(scope, warehouseId);
  const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
  if (entries.length > 0) {
    await translateCodeConflict(fields.code ?? '', () =>
      scope.em.execute(`update warehouse set ${entries.map(([k]) => `${k} = ?`).join(', ')}, updated_at = now() where organization_id = ? and id = ?`, [
        ...entries.map(([, v]) => v),
        scope.organizationId,
        warehouseId,
      ]),
    );
  }
  return await findWarehouse(scope, warehouseId);
}

/**
 * Takes a warehouse out of service: no new holds or allocations go to it. Refused with
 * WarehouseInUseError while it holds units (on hand, held, in transit or incoming) or has open transfers. Idempotent.
 */
export async function deactivateWarehouse(scope: OrganizationScope, warehouseId: string): Promise<WarehouseSummary> {
  await findWarehouse(scope, warehouseId);
  await scope.em.transactional(async (em) => {
    // Lock the warehouse row so no stock can arrive between the check and the change.
    await em.execute('select id from warehouse where organization_id = ? and id = ? for update', [scope.organizationId, warehouseId]);
    const [usage] = await em.execute<{ total: number; reserved: number; in_transit: number; incoming: number }[]>(
      `select coalesce(sum(total), 0)::int as total, coalesce(sum(reserved), 0)::int as reserved,
              coalesce(sum(in_transit), 0)::int as in_transit, coalesce(sum(incoming), 0)::int as incoming
       from stock where organization_id = ? and warehouse_id = ?`,
      [scope.organizationId, warehouseId],
    );
    const [{ open }] = await em.execute<{ open: number }[]>(
      `select count(*)::int as open from transfer where organization_id = ? and status in ('reserved', 'in_transit')
       and (origin_warehouse_id = ? or destination_warehouse_id = ?)`,
      [scope.organizationId, warehouseId, warehouseId],
    );
    if (open > 0) {
      throw new WarehouseInUseError(`warehouse ${warehouseId} has ${open} open transfers: finish or cancel them first`, { warehouse_id: warehouseId, open_transfers: open });
    }
    if (usage.total > 0 || usage.incoming > 0) {
      throw new WarehouseInUseError(
        `warehouse ${warehouseId} still holds ${usage.total} units (${usage.reserved} held for orders, ${usage.in_transit} in transit) and expects ${usage.incoming}: move or write them off first`,
        { warehouse_id: warehouseId, ...usage },
      );
    }
    await em.execute('update warehouse set active = false, updated_at = now() where organization_id = ? and id = ? and active', [scope.organizationId, warehouseId]);
  });
  return await findWarehouse(scope, warehouseId);
}

/** Puts a warehouse back in service. Idempotent. */
export async function reactivateWarehouse(scope: OrganizationScope, warehouseId: string): Promise<WarehouseSummary> {
  await findWarehouse(scope, warehouseId);
  await scope.em.execute('update warehouse set active = true, updated_at = now() where organization_id = ? and id = ? and not active', [scope.organizationId, warehouseId]);
  return await findWarehouse(scope, warehouseId);
}

async function translateCodeConflict<T>(code: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException && String(error.message).includes('warehouse_organization_code_unique')) {
      throw new WarehouseCodeTakenError(`another warehouse already has the code ${code}`, { code });
    }
    throw error;
  }
}
