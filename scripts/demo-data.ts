import type { EntityManager } from '@mikro-orm/postgresql';
import { applyOperation } from '../services/inventory/stock/ledger.ts';
import { findStockRow, insertStockIfMissing, setThresholds } from '../services/inventory/stock/stock.store.ts';
import { Warehouse } from '../services/inventory/warehouses/warehouse.entity.ts';
import { findWarehouse } from '../services/inventory/warehouses/warehouse.store.ts';
import { scopeTo } from '../services/inventory/organization-scope.ts';

/**
 * Demo data for a fresh database, so the README's examples answer at once: one organization, three
 * warehouses in two regions and 20 variants with stock, some of them below their minimum. The ids
 * are fixed and documented (README, "Demo data"), the same on every fresh start.
 */

const organizationId = '00000000-0000-4000-a000-000000000001';

const warehouses = {
  main: {
    id: '00000000-0000-4000-b000-000000000001',
    code: 'BOG-MAIN',
    name: 'Bogotá main warehouse',
    region: 'andina',
  },
  north: {
    id: '00000000-0000-4000-b000-000000000002',
    code: 'MED-NORTH',
    name: 'Medellín north warehouse',
    region: 'andina',
  },
  coast: {
    id: '00000000-0000-4000-b000-000000000003',
    code: 'BAQ-COAST',
    name: 'Barranquilla coast warehouse',
    region: 'caribe',
  },
};

interface DemoVariant {
  id: string;
  sku: string;
  /** Units on hand per warehouse key; thresholds apply to every warehouse holding the variant. */
  stock: Partial<Record<keyof typeof warehouses, number>>;
  minStock: number;
  reorderPoint: number;
  maxStock: number;
}

const variant = (
  n: number,
  sku: string,
  stock: DemoVariant['stock'],
  minStock: number,
  reorderPoint: number,
  maxStock: number,
): DemoVariant => ({
  id: `00000000-0000-4000-c000-${String(n).padStart(12, '0')}`,
  sku,
  stock,
  minStock,
  reorderPoint,
  maxStock,
});

const variants: DemoVariant[] = [
  variant(1, 'TSHIRT-RED-S', { main: 120, north: 40, coast: 25 }, 20, 30, 200),
  variant(2, 'TSHIRT-RED-M', { main: 150, north: 60, coast: 30 }, 20, 30, 200),
  variant(3, 'TSHIRT-RED-L', { main: 15, north: 8 }, 20, 30, 200),
  variant(4, 'TSHIRT-BLUE-S', { main: 90, coast: 45 }, 20, 30, 200),
  variant(5, 'TSHIRT-BLUE-M', { main: 110, north: 35 }, 20, 30, 200),
  variant(6, 'TSHIRT-BLUE-L', { main: 4 }, 10, 15, 100),
  variant(7, 'JEANS-32-32', { main: 60, north: 20, coast: 12 }, 10, 20, 120),
  variant(8, 'JEANS-34-32', { main: 55, north: 18 }, 10, 20, 120),
  variant(9, 'JEANS-36-34', { north: 9 }, 10, 20, 120),
  variant(10, 'SNEAKER-WHITE-40', { main: 30, coast: 10 }, 8, 12, 60),
  variant(11, 'SNEAKER-WHITE-42', { main: 25, north: 14, coast: 6 }, 8, 12, 60),
  variant(12, 'SNEAKER-BLACK-41', { main: 0, north: 3 }, 8, 12, 60),
  variant(13, 'CAP-BLACK', { main: 200, north: 80, coast: 70 }, 30, 50, 400),
  variant(14, 'CAP-WHITE', { main: 180, coast: 40 }, 30, 50, 400),
  variant(15, 'SOCKS-PACK-3', { main: 500, north: 150, coast: 120 }, 100, 150, 1000),
  variant(16, 'HOODIE-GREY-M', { main: 35, north: 12 }, 15, 25, 150),
  variant(17, 'HOODIE-GREY-L', { main: 14 }, 15, 25, 150),
  variant(18, 'JACKET-RAIN-M', { coast: 22, north: 5 }, 5, 10, 80),
  variant(19, 'BACKPACK-20L', { main: 45, north: 15, coast: 15 }, 10, 15, 100),
  variant(20, 'BOTTLE-750ML', { main: 300, coast: 90 }, 50, 80, 600),
];

export const demo = { organizationId, warehouses, variants };

/**
 * Inserts the demo data where it is missing, in one transaction of the demo organization. Idempotent:
 * fixed ids, and the stock arrives as ledger receipts with fixed operation keys.
 */
export function seedDemoData(em: EntityManager): Promise<{ created: boolean }> {
  return scopeTo(em, organizationId).transaction(async (tx) => {
    const created = (await tx.em.count(Warehouse, { organizationId })) === 0;
    for (const w of Object.values(warehouses)) {
      if (await findWarehouse(tx, w.id)) continue;
      tx.em.create(Warehouse, { id: w.id, organizationId, code: w.code, name: w.name, region: w.region });
    }
    await tx.em.flush();
    for (const v of variants) {
      for (const [key, quantity] of Object.entries(v.stock)) {
        const warehouseId = warehouses[key as keyof typeof warehouses].id;
        // Thresholds are settings, not quantities: they go on the row when it is created, outside the ledger.
        if (!(await findStockRow(tx, v.id, warehouseId))) {
          await insertStockIfMissing(tx, v.id, warehouseId);
          await setThresholds(tx, v.id, warehouseId, {
            minStock: v.minStock,
            reorderPoint: v.reorderPoint,
            maxStock: v.maxStock,
          });
        }
        if (quantity === 0) continue;
        await applyOperation(tx, {
          operationKey: `demo-seed:${v.id}:${warehouseId}`,
          actor: 'demo-seed',
          reference: { type: 'seed', id: 'demo' },
          changes: [
            {
              variantId: v.id,
              warehouseId,
              type: 'receipt',
              deltas: { available: quantity },
              reason: `demo stock for ${v.sku}`,
            },
          ],
        });
      }
    }
    return { created };
  });
}
