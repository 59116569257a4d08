import { Router } from 'express';
import { z } from 'zod';
import type { Operation } from '../openapi.ts';
import {
  createLocation,
  deleteLocation,
  findLocation,
  listLocations,
  updateLocation,
  type LocationRecord,
} from '../../inventory/warehouses/locations.ts';
import { cursor, id, limit, listResponse } from '../query.ts';

const code = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/, {
    message: 'code is 1 to 64 letters, digits, dots, slashes, dashes or underscores',
  });
const name = z.string().trim().min(1).max(200);
const createBody = z.strictObject({ warehouse_id: id, code, name });
const updateBody = z
  .strictObject({ code: code.optional(), name: name.optional() })
  .refine((b) => Object.keys(b).length > 0, { message: 'send at least one of code, name' });
const idParams = z.strictObject({ location_id: id });
const listQuery = z.strictObject({ warehouse_id: id.optional(), limit, cursor });

/** /api/v1/locations: bins inside warehouses. */
export function locationRoutes(): Router {
  const router = Router();
  // A caller limited to some warehouses sees (and changes) only their bins: LocationNotFoundError otherwise.
  router.param('location_id', (_req, res, next, locationId: string) => {
    if (!res.locals.scope.warehouseIds || !idParams.safeParse({ location_id: locationId }).success) return next();
    findLocation(res.locals.scope, locationId.toLowerCase()).then(() => next(), next);
  });
  router.post('/', async (req, res) => {
    const body = createBody.parse(req.body ?? {});
    const location = await createLocation(res.locals.scope, {
      warehouseId: body.warehouse_id,
      code: body.code,
      name: body.name,
    });
    res.status(201).location(`${req.baseUrl}/${location.id}`).json(locationJson(location));
  });
  router.get('/', async (req, res) => {
    const q = listQuery.parse(req.query);
    const page = await listLocations(res.locals.scope, { warehouseId: q.warehouse_id }, q.limit, q.cursor);
    res.json(listResponse(page.items.map(locationJson), page.nextCursor));
  });
  router.get('/:location_id', async (req, res) => {
    res.json(locationJson(await findLocation(res.locals.scope, idParams.parse(req.params).location_id)));
  });
  router.patch('/:location_id', async (req, res) => {
    const { location_id } = idParams.parse(req.params);
    res.json(locationJson(await updateLocation(res.locals.scope, location_id, updateBody.parse(req.body ?? {}))));
  });
  router.delete('/:location_id', async (req, res) => {
    await deleteLocation(res.locals.scope, idParams.parse(req.params).location_id);
    res.status(204).end();
  });
  return router;
}

function locationJson(l: LocationRecord) {
  return {
    location_id: l.id,
    warehouse_id: l.warehouseId,
    code: l.code,
    name: l.name,
    created_at: l.createdAt.toISOString(),
    updated_at: l.updatedAt.toISOString(),
  };
}

export const locationOperations: Operation[] = [
  {
    method: 'post',
    path: '/api/v1/locations',
    summary: 'Create a location',
    tag: 'locations',
    body: createBody,
    permission: 'locations:write',
    success: 201,
  },
  {
    method: 'get',
    path: '/api/v1/locations',
    summary: 'List locations',
    tag: 'locations',
    query: listQuery,
    permission: 'stock:read',
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/locations/{location_id}',
    summary: 'Get a location',
    tag: 'locations',
    params: idParams,
    permission: 'stock:read',
    success: 200,
  },
  {
    method: 'patch',
    path: '/api/v1/locations/{location_id}',
    summary: 'Update a location',
    tag: 'locations',
    params: idParams,
    body: updateBody,
    permission: 'locations:write',
    success: 200,
  },
  {
    method: 'delete',
    path: '/api/v1/locations/{location_id}',
    summary: 'Delete a location no movement names',
    tag: 'locations',
    params: idParams,
    permission: 'locations:write',
    success: 204,
  },
];
