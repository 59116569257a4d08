import { Router } from 'express';
import { z } from 'zod';
import type { Operation } from '../openapi.ts';
import { getWarehouse, listWarehouses } from '../../inventory/warehouses/warehouse-queries.ts';
import {
  createWarehouse,
  deactivateWarehouse,
  reactivateWarehouse,
  updateWarehouse,
} from '../../inventory/warehouses/warehouse-commands.ts';
import { booleanFlag, cursor, id, limit, listResponse } from '../query.ts';
import { warehouseJson } from '../representations.ts';

const listQuery = z.strictObject({
  active: booleanFlag.optional(),
  region: z.string().min(1).max(64).optional(),
  limit,
  cursor,
});
const idParams = z.strictObject({ warehouse_id: id });
const code = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/, {
    message: 'code is 1 to 32 letters, digits, dots, dashes or underscores',
  });
const name = z.string().trim().min(1).max(200);
const region = z.string().trim().min(1).max(64);
// Strict bodies: a field the server owns (warehouse_id, active, organization_id, timestamps) or does not know is a 400.
const createBody = z.strictObject({ code, name, region });
const updateBody = z
  .strictObject({ code: code.optional(), name: name.optional(), region: region.optional() })
  .refine((b) => Object.keys(b).length > 0, { message: 'send at least one of code, name, region' });

/** /api/v1/warehouses: list, create, get, update, deactivate, reactivate. */
export function warehouseRoutes(): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const query = listQuery.parse(req.query);
    const page = await listWarehouses(
      res.locals.scope,
      { active: query.active, region: query.region },
      query.limit,
      query.cursor,
    );
    res.json(listResponse(page.items.map(warehouseJson), page.nextCursor));
  });
  router.post('/', async (req, res) => {
    const warehouse = await createWarehouse(res.locals.scope, createBody.parse(req.body ?? {}));
    res.status(201).location(`${req.baseUrl}/${warehouse.id}`).json(warehouseJson(warehouse));
  });
  router.get('/:warehouse_id', async (req, res) => {
    res.json(warehouseJson(await getWarehouse(res.locals.scope, idParams.parse(req.params).warehouse_id)));
  });
  router.patch('/:warehouse_id', async (req, res) => {
    const { warehouse_id } = idParams.parse(req.params);
    res.json(warehouseJson(await updateWarehouse(res.locals.scope, warehouse_id, updateBody.parse(req.body ?? {}))));
  });
  router.post('/:warehouse_id/deactivate', async (req, res) => {
    res.json(warehouseJson(await deactivateWarehouse(res.locals.scope, idParams.parse(req.params).warehouse_id)));
  });
  router.post('/:warehouse_id/reactivate', async (req, res) => {
    res.json(warehouseJson(await reactivateWarehouse(res.locals.scope, idParams.parse(req.params).warehouse_id)));
  });
  return router;
}

export const warehouseOperations: Operation[] = [
  {
    method: 'get',
    path: '/api/v1/warehouses',
    summary: 'List warehouses',
    tag: 'warehouses',
    query: listQuery,
    permission: 'stock:read',
    success: 200,
  },
  {
    method: 'post',
    path: '/api/v1/warehouses',
    summary: 'Create a warehouse',
    tag: 'warehouses',
    body: createBody,
    permission: 'warehouses:write',
    success: 201,
  },
  {
    method: 'get',
    path: '/api/v1/warehouses/{warehouse_id}',
    summary: 'Get a warehouse',
    tag: 'warehouses',
    params: idParams,
    permission: 'stock:read',
    success: 200,
  },
  {
    method: 'patch',
    path: '/api/v1/warehouses/{warehouse_id}',
    summary: 'Update a warehouse',
    tag: 'warehouses',
    params: idParams,
    body: updateBody,
    permission: 'warehouses:write',
    success: 200,
  },
  {
    method: 'post',
    path: '/api/v1/warehouses/{warehouse_id}/deactivate',
    summary: 'Deactivate a warehouse (refused while it holds units)',
    tag: 'warehouses',
    params: idParams,
    permission: 'warehouses:write',
    success: 200,
  },
  {
    method: 'post',
    path: '/api/v1/warehouses/{warehouse_id}/reactivate',
    summary: 'Reactivate a warehouse',
    tag: 'warehouses',
    params: idParams,
    permission: 'warehouses:write',
    success: 200,
  },
];
