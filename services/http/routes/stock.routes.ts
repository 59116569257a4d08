import { Router } from 'express';
import { z } from 'zod';
import { listStock, stockOfVariant } from '../../inventory/stock-queries.ts';
import { booleanFlag, cursor, id, limit, listResponse } from '../query.ts';
import { stockJson } from '../representations.ts';

const listQuery = z.strictObject({ variant_id: id.optional(), warehouse_id: id.optional(), low: booleanFlag.optional(), limit, cursor });
const variantParams = z.strictObject({ variant_id: id });

/** /api/v1/stock: rows filtered and paginated, and one variant across warehouses with totals. */
export function stockRoutes(): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const query = listQuery.parse(req.query);
    const page = await listStock(res.locals.scope, { variantId: query.variant_id, warehouseId: query.warehouse_id, low: query.low }, query.limit, query.cursor);
    res.json(listResponse(page.items.map(stockJson), page.nextCursor));
  });
  router.get('/:variant_id', async (req, res) => {
    const { variant_id } = variantParams.parse(req.params);
    const rows = await stockOfVariant(res.locals.scope, variant_id);
    const sum = (pick: (r: (typeof rows)[number]) => number) => rows.reduce((total, r) => total + pick(r), 0);
    res.json({
      variant_id,
      totals: {
        total: sum((r) => r.total),
        available: sum((r) => r.available),
        reserved: sum((r) => r.reserved),
        damaged: sum((r) => r.damaged),
        in_transit: sum((r) => r.inTransit),
        incoming: sum((r) => r.incoming),
      },
      warehouses: rows.map(stockJson),
    });
  });
  return router;
}
