import { Router } from 'express';
import { z } from 'zod';
import type { Operation } from '../openapi.ts';
import { findMovement, listMovements } from '../../inventory/stock/movement-queries.ts';
import { HttpProblem } from '../problem.ts';
import { cursor, id, limit, listResponse, timestamp } from '../query.ts';
import { movementJson } from '../representations.ts';
import { movementTypes } from '../../inventory/vocabulary.ts';

const listQuery = z
  .strictObject({
    variant_id: id.optional(),
    warehouse_id: id.optional(),
    type: z.enum(movementTypes).optional(),
    reference_type: z.string().min(1).max(32).optional(),
    reference_id: z.string().min(1).max(200).optional(),
    order_id: z.string().trim().min(1).max(200).optional(),
    from: timestamp.optional(),
    to: timestamp.optional(),
    limit,
    cursor,
  })
  .refine((q) => !q.from || !q.to || q.from < q.to, { message: 'from must be before to', path: ['from'] });

const idParams = z.strictObject({ movement_id: id });

/** /api/v1/movements: the ledger, newest first; `order_id` gives one order's whole stock history. */
export function movementRoutes(): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const q = listQuery.parse(req.query);
    const page = await listMovements(
      res.locals.scope,
      {
        variantId: q.variant_id,
        warehouseId: q.warehouse_id,
        type: q.type,
        referenceType: q.reference_type,
        referenceId: q.reference_id,
        orderId: q.order_id,
        from: q.from,
        to: q.to,
      },
      q.limit,
      q.cursor,
    );
    res.json(listResponse(page.items.map(movementJson), page.nextCursor));
  });
  router.get('/:movement_id', async (req, res) => {
    const { movement_id } = idParams.parse(req.params);
    const movement = await findMovement(res.locals.scope, movement_id);
    if (!movement) throw new HttpProblem(404, 'MovementNotFound', `movement ${movement_id} does not exist`);
    res.json(movementJson(movement));
  });
  return router;
}

export const movementOperations: Operation[] = [
  {
    method: 'get',
    path: '/api/v1/movements',
    summary: 'List ledger movements (by variant, warehouse, type, reference, order, time), newest first',
    tag: 'movements',
    query: listQuery,
    permission: 'stock:read',
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/movements/{movement_id}',
    summary: 'One ledger movement',
    tag: 'movements',
    params: idParams,
    permission: 'stock:read',
    success: 200,
  },
];
