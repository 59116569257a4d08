import { Router } from 'express';
import { z } from 'zod';
import { listWarehouses } from '../../inventory/stock-queries.ts';
import { booleanFlag, cursor, limit, listResponse } from '../query.ts';
import { warehouseJson } from '../representations.ts';

const listQuery = z.strictObject({ active: booleanFlag.optional(), region: z.string().min(1).max(64).optional(), limit, cursor });

/** /api/v1/warehouses */
export function warehouseRoutes(): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const query = listQuery.parse(req.query);
    const page = await listWarehouses(res.locals.scope, { active: query.active, region: query.region }, query.limit, query.cursor);
    res.json(listResponse(page.items.map(warehouseJson), page.nextCursor));
  });
  return router;
}
