import { Router } from 'express';
import { z } from 'zod';
import type { Operation } from '../openapi.ts';
import { createAdjustment, listAdjustments, reasonCodes } from '../../inventory/stock/adjustments.ts';
import { listMovements } from '../../inventory/stock/movement-queries.ts';
import { HttpProblem } from '../problem.ts';
import { operatorOf } from '../request-context.ts';
import { cursor, id, limit, listResponse } from '../query.ts';
import { movementJson } from '../representations.ts';
import type { RecordedMovement } from '../../inventory/stock/ledger.ts';
import type { VariantCatalog } from '../../inventory/stock/variant-validation.ts';

const units = z.number().int().min(-1_000_000).max(1_000_000);
const createBody = z.strictObject({
  variant_id: id,
  warehouse_id: id,
  reason_code: z.enum(reasonCodes),
  quantity: units.optional(),
  counted_quantity: z.number().int().min(0).max(10_000_000).optional(),
  expected_quantity: z.number().int().min(0).max(10_000_000).optional(),
  note: z.string().max(1000).optional(),
  location_id: id.optional(),
  purchase_order_id: z.string().min(1).max(200).optional(),
});
const listQuery = z.strictObject({ variant_id: id.optional(), warehouse_id: id.optional(), limit, cursor });
const idParams = z.strictObject({ adjustment_id: id });

/** /api/v1/adjustments: counts, receipts, damage, losses, finds, returns and corrections, each one ledger movement. */
export function adjustmentRoutes(catalog?: VariantCatalog): Router {
  const router = Router();
  router.post('/', async (req, res) => {
    const body = createBody.parse(req.body ?? {});
    const movement = await createAdjustment(
      res.locals.scope,
      {
        variantId: body.variant_id,
        warehouseId: body.warehouse_id,
        reasonCode: body.reason_code,
        quantity: body.quantity,
        countedQuantity: body.counted_quantity,
        expectedQuantity: body.expected_quantity,
        note: body.note,
        locationId: body.location_id,
        purchaseOrderId: body.purchase_order_id,
        actor: operatorOf(req),
      },
      catalog,
      { idempotencyKey: req.get('idempotency-key') },
    );
    res.status(201).location(`${req.baseUrl}/${movement.reference?.id}`).json(adjustmentJson(movement));
  });
  router.get('/', async (req, res) => {
    const q = listQuery.parse(req.query);
    const page = await listAdjustments(
      res.locals.scope,
      { variantId: q.variant_id, warehouseId: q.warehouse_id },
      q.limit,
      q.cursor,
    );
    res.json(listResponse(page.items.map(adjustmentJson), page.nextCursor));
  });
  router.get('/:adjustment_id', async (req, res) => {
    const { adjustment_id } = idParams.parse(req.params);
    const page = await listMovements(res.locals.scope, { referenceType: 'adjustment', referenceId: adjustment_id }, 1);
    const [movement] = page.items;
    if (!movement) throw new HttpProblem(404, 'AdjustmentNotFound', `adjustment ${adjustment_id} does not exist`);
    res.json(adjustmentJson(movement));
  });
  return router;
}

function adjustmentJson(m: RecordedMovement) {
  return {
    adjustment_id: m.reference?.id,
    reason_code: m.reasonCode,
    purchase_order_id: m.purchaseOrderId,
    note: m.reason,
    movement: movementJson(m),
  };
}

export const adjustmentOperations: Operation[] = [
  {
    method: 'post',
    path: '/api/v1/adjustments',
    summary:
      'Record an adjustment (cycle_count with optional compare-and-swap, receipt, damage, loss, found, return, correction)',
    tag: 'adjustments',
    body: createBody,
    permission: 'stock:adjust',
    success: 201,
  },
  {
    method: 'get',
    path: '/api/v1/adjustments',
    summary: 'List adjustments',
    tag: 'adjustments',
    query: listQuery,
    permission: 'stock:read',
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/adjustments/{adjustment_id}',
    summary: 'One adjustment',
    tag: 'adjustments',
    params: idParams,
    permission: 'stock:read',
    success: 200,
  },
];
