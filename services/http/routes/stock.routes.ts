import { Router } from 'express';
import { z } from 'zod';
import type { Operation } from '../openapi.ts';
import { listStock, stockOfVariant } from '../../inventory/stock/stock-queries.ts';
import { stockAsOf, updateThresholds } from '../../inventory/stock/stock-settings.ts';
import { snakeQuantities } from '../../inventory/stock/ledger.ts';
import { booleanFlag, cursor, id, limit, listResponse, timestamp } from '../query.ts';
import { stockJson } from '../representations.ts';
import { HttpProblem } from '../problem.ts';

const listQuery = z.strictObject({
  variant_id: id.optional(),
  warehouse_id: id.optional(),
  low: booleanFlag.optional(),
  limit,
  cursor,
});
const variantParams = z.strictObject({ variant_id: id });
const rowParams = z.strictObject({ variant_id: id, warehouse_id: id });
const threshold = z.number().int().min(0).max(10_000_000);
const thresholdsBody = z
  .strictObject({
    min_stock: threshold.optional(),
    max_stock: threshold.optional(),
    reorder_point: threshold.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'send at least one of min_stock, max_stock, reorder_point' });
const asOfQuery = z.strictObject({ at: timestamp });

/** /api/v1/stock: rows filtered and paginated, and one variant across warehouses with totals. */
export function stockRoutes(): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const query = listQuery.parse(req.query);
    const page = await listStock(
      res.locals.scope,
      { variantId: query.variant_id, warehouseId: query.warehouse_id, low: query.low },
      query.limit,
      query.cursor,
    );
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
  router.get('/:variant_id/:warehouse_id', async (req, res) => {
    const { variant_id, warehouse_id } = rowParams.parse(req.params);
    const row = (await stockOfVariant(res.locals.scope, variant_id)).find((r) => r.warehouseId === warehouse_id);
    if (!row)
      throw new HttpProblem(
        404,
        'StockNotFoundError',
        `no stock of variant ${variant_id} in warehouse ${warehouse_id}`,
      );
    res.json(stockJson(row));
  });
  router.patch('/:variant_id/:warehouse_id/thresholds', async (req, res) => {
    const { variant_id, warehouse_id } = rowParams.parse(req.params);
    const body = thresholdsBody.parse(req.body ?? {});
    await updateThresholds(res.locals.scope, variant_id, warehouse_id, {
      minStock: body.min_stock,
      maxStock: body.max_stock,
      reorderPoint: body.reorder_point,
    });
    const row = (await stockOfVariant(res.locals.scope, variant_id)).find((r) => r.warehouseId === warehouse_id)!;
    res.json(stockJson(row));
  });
  router.get('/:variant_id/:warehouse_id/as-of', async (req, res) => {
    const { variant_id, warehouse_id } = rowParams.parse(req.params);
    const { at } = asOfQuery.parse(req.query);
    const past = await stockAsOf(res.locals.scope, variant_id, warehouse_id, at);
    res.json({
      variant_id,
      warehouse_id,
      at: at.toISOString(),
      quantities: snakeQuantities(past.quantities),
      last_movement_at: past.lastMovementAt?.toISOString() ?? null,
    });
  });
  return router;
}

export const stockOperations: Operation[] = [
  {
    method: 'get',
    path: '/api/v1/stock',
    summary: 'List stock rows (low=true: at or below min_stock)',
    tag: 'stock',
    query: listQuery,
    permission: 'stock:read',
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/stock/{variant_id}',
    summary: "A variant's stock per warehouse, with totals",
    tag: 'stock',
    params: variantParams,
    permission: 'stock:read',
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/stock/{variant_id}/{warehouse_id}',
    summary: 'One stock row',
    tag: 'stock',
    params: rowParams,
    permission: 'stock:read',
    success: 200,
  },
  {
    method: 'patch',
    path: '/api/v1/stock/{variant_id}/{warehouse_id}/thresholds',
    summary: 'Set min_stock, max_stock, reorder_point',
    tag: 'stock',
    params: rowParams,
    body: thresholdsBody,
    permission: 'thresholds:write',
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/stock/{variant_id}/{warehouse_id}/as-of',
    summary: 'The row at a past instant, from the ledger',
    tag: 'stock',
    params: rowParams,
    query: asOfQuery,
    permission: 'stock:read',
    success: 200,
  },
];
