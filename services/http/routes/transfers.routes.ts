import { Router } from 'express';
import { z } from 'zod';
import type { Operation } from '../openapi.ts';
import { findTransfer, listTransfers } from '../../inventory/transfers/transfers.ts';
import { TransferNotFoundError } from '../../inventory/errors.ts';
import { transferStatuses } from '../../inventory/transfers/transfer.entity.ts';
import type { TransferClient } from '../../workflow-clients/transfer-client.ts';
import { snapshotOf } from '../../workflow-clients/transfer-client.ts';
import { cursor, id, limit, listResponse, timestamp } from '../query.ts';
import { operatorOf } from '../request-context.ts';
import type { TransferSnapshot } from '../../inventory/vocabulary.ts';

const quantity = z.number().int().min(1).max(1_000_000);
const count = z.number().int().min(0).max(1_000_000);
const transferLines = z
  .array(z.strictObject({ variant_id: id, quantity }))
  .min(1)
  .max(500);
const createBody = z
  .strictObject({
    origin_warehouse_id: id,
    destination_warehouse_id: id,
    // `lines`, as the answer and every other API say; `items` is its v1.0 name, read until v1.2.
    lines: transferLines.optional(),
    items: transferLines.meta({ deprecated: true, description: 'deprecated: use lines' }).optional(),
    notes: z.string().max(2000).optional(),
    ship_by: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((b) => (b.lines === undefined) !== (b.items === undefined), {
    message: 'give the lines once, as lines',
    path: ['lines'],
  })
  .refine((b) => !b.ship_by || Date.parse(b.ship_by) > Date.now(), {
    message: 'ship_by must be in the future',
    path: ['ship_by'],
  });
const receiveBody = z.strictObject({
  lines: z
    .array(z.strictObject({ variant_id: id, received: count, damaged: count.default(0) }))
    .min(1)
    .max(500),
  close: z.boolean().default(false),
});
const cancelBody = z.strictObject({ reason: z.string().trim().min(1).max(500) });
const idParams = z.strictObject({ transfer_id: id });
const listQuery = z.strictObject({
  status: z.enum(transferStatuses).optional(),
  origin_warehouse_id: id.optional(),
  destination_warehouse_id: id.optional(),
  created_from: timestamp.optional(),
  created_to: timestamp.optional(),
  limit,
  cursor,
});

/** /api/v1/transfers: each action drives the transfer's saga workflow; lists read the database. */
export function transferRoutes(transfers: TransferClient): Router {
  const router = Router();
  // A caller limited to some warehouses sees (and acts on) only transfers from or to one of them.
  router.param('transfer_id', (_req, res, next, transferId: string) => {
    const scope = res.locals.scope;
    if (!scope.warehouseIds || !idParams.safeParse({ transfer_id: transferId }).success) return next();
    findTransfer(scope, transferId.toLowerCase()).then(
      (found) =>
        next(
          found
            ? undefined
            : new TransferNotFoundError(`transfer ${transferId} does not exist`, { transfer_id: transferId }),
        ),
      next,
    );
  });
  router.post('/', async (req, res) => {
    const body = createBody.parse(req.body ?? {});
    const transfer = await transfers.create(
      res.locals.scope.organizationId,
      {
        originWarehouseId: body.origin_warehouse_id,
        destinationWarehouseId: body.destination_warehouse_id,
        lines: body.lines ?? body.items ?? [],
        notes: body.notes,
        shipBy: body.ship_by,
      },
      operatorOf(req),
      { idempotencyKey: req.get('idempotency-key') },
    );
    res.status(201).location(`${req.baseUrl}/${transfer.transferId}`).json(transferJson(transfer));
  });
  router.get('/', async (req, res) => {
    const q = listQuery.parse(req.query);
    const page = await listTransfers(
      res.locals.scope,
      {
        status: q.status,
        originWarehouseId: q.origin_warehouse_id,
        destinationWarehouseId: q.destination_warehouse_id,
        createdFrom: q.created_from,
        createdTo: q.created_to,
      },
      q.limit,
      q.cursor,
    );
    res.json(
      listResponse(
        page.items.map((t) => transferJson(snapshotOf(res.locals.scope.organizationId, t))),
        page.nextCursor,
      ),
    );
  });
  router.get('/:transfer_id', async (req, res) => {
    res.json(
      transferJson(await transfers.get(res.locals.scope.organizationId, idParams.parse(req.params).transfer_id)),
    );
  });
  router.post('/:transfer_id/ship', async (req, res) => {
    res.json(
      transferJson(
        await transfers.ship(res.locals.scope.organizationId, idParams.parse(req.params).transfer_id, operatorOf(req), {
          idempotencyKey: req.get('idempotency-key'),
        }),
      ),
    );
  });
  router.post('/:transfer_id/receive', async (req, res) => {
    const { transfer_id } = idParams.parse(req.params);
    res.json(
      transferJson(
        await transfers.receive(
          res.locals.scope.organizationId,
          transfer_id,
          receiveBody.parse(req.body ?? {}),
          operatorOf(req),
          { idempotencyKey: req.get('idempotency-key') },
        ),
      ),
    );
  });
  router.post('/:transfer_id/cancel', async (req, res) => {
    const { transfer_id } = idParams.parse(req.params);
    res.json(
      transferJson(
        await transfers.cancel(
          res.locals.scope.organizationId,
          transfer_id,
          cancelBody.parse(req.body ?? {}).reason,
          operatorOf(req),
          { idempotencyKey: req.get('idempotency-key') },
        ),
      ),
    );
  });
  return router;
}

function transferJson(t: TransferSnapshot) {
  return {
    transfer_id: t.transferId,
    status: t.status,
    origin_warehouse_id: t.originWarehouseId,
    destination_warehouse_id: t.destinationWarehouseId,
    lines: t.lines,
    notes: t.notes,
    ship_by: t.shipBy,
    reason: t.reason,
    transitions: t.transitions,
    created_at: t.createdAt,
  };
}

export const transferOperations: Operation[] = [
  {
    method: 'post',
    path: '/api/v1/transfers',
    summary: 'Create a transfer: holds the units at the origin',
    tag: 'transfers',
    body: createBody,
    permission: 'transfers:write',
    success: 201,
  },
  {
    method: 'get',
    path: '/api/v1/transfers',
    summary: 'List transfers',
    tag: 'transfers',
    query: listQuery,
    permission: 'stock:read',
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/transfers/{transfer_id}',
    summary: 'Get a transfer',
    tag: 'transfers',
    params: idParams,
    permission: 'stock:read',
    success: 200,
  },
  {
    method: 'post',
    path: '/api/v1/transfers/{transfer_id}/ship',
    summary: 'Ship: the units go in transit',
    tag: 'transfers',
    params: idParams,
    permission: 'transfers:write',
    success: 200,
  },
  {
    method: 'post',
    path: '/api/v1/transfers/{transfer_id}/receive',
    summary: 'Receive (partially); close writes off what is missing',
    tag: 'transfers',
    params: idParams,
    body: receiveBody,
    permission: 'transfers:write',
    success: 200,
  },
  {
    method: 'post',
    path: '/api/v1/transfers/{transfer_id}/cancel',
    summary: 'Cancel: undoes the completed steps in reverse',
    tag: 'transfers',
    params: idParams,
    body: cancelBody,
    permission: 'transfers:write',
    success: 200,
  },
];
