import { Router } from 'express';
import { z } from 'zod';
import type { Operation } from '../openapi.ts';
import { operatorOf } from '../request-context.ts';
import { cursor, id, limit, listResponse } from '../query.ts';
import {
  driftJson,
  findReconciliation,
  listDrifts,
  listReconciliations,
  type ReconciliationRecord,
} from '../../inventory/reconciliation/reconciliation.ts';
import type { ReconciliationClient } from '../../workflow-clients/reconciliation-client.ts';

const createBody = z.strictObject({
  repair: z.boolean().default(false).describe('Put rows that drifted from their ledger back to it. Off unless asked.'),
  settle_seconds: z
    .number()
    .int()
    .min(0)
    .max(3600)
    .optional()
    .describe('Wait before the second look at a drifting row (default 10): a saga between two steps is not drift.'),
});
const listQuery = z.strictObject({ limit, cursor });
const idParams = z.strictObject({ reconciliation_id: id });

/**
 * /api/v1/reconciliations: start a ReconciliationWorkflow for the caller's organization (202, then
 * poll the run), and read the runs and the drift they found. The nightly schedule's runs are listed too.
 */
export function reconciliationRoutes(reconciliations: ReconciliationClient): Router {
  const router = Router();
  router.post('/', async (req, res) => {
    const body = createBody.parse(req.body ?? {});
    const run = await reconciliations.start(res.locals.scope.organizationId, {
      repair: body.repair,
      settleSeconds: body.settle_seconds,
      requestedBy: operatorOf(req),
    });
    res.status(202).location(`${req.baseUrl}/${run.reconciliationId}`).json(reconciliationJson(run));
  });
  router.get('/', async (req, res) => {
    const q = listQuery.parse(req.query);
    const page = await listReconciliations(res.locals.scope, q.limit, q.cursor);
    res.json(listResponse(page.items.map(reconciliationJson), page.nextCursor));
  });
  router.get('/:reconciliation_id', async (req, res) => {
    res.json(
      reconciliationJson(await findReconciliation(res.locals.scope, idParams.parse(req.params).reconciliation_id)),
    );
  });
  router.get('/:reconciliation_id/drifts', async (req, res) => {
    const { reconciliation_id } = idParams.parse(req.params);
    const q = listQuery.parse(req.query);
    const page = await listDrifts(res.locals.scope, reconciliation_id, q.limit, q.cursor);
    res.json(listResponse(page.items.map(driftJson), page.nextCursor));
  });
  return router;
}

function reconciliationJson(r: ReconciliationRecord) {
  return {
    reconciliation_id: r.reconciliationId,
    status: r.status,
    trigger: r.trigger,
    repair: r.repair,
    rows_checked: r.rowsChecked,
    drifted: r.drifted,
    repaired: r.repaired,
    requested_by: r.requestedBy,
    failure: r.failure,
    workflow_id: r.workflowId,
    started_at: r.startedAt.toISOString(),
    finished_at: r.finishedAt?.toISOString() ?? null,
  };
}

export const reconciliationOperations: Operation[] = [
  {
    method: 'post',
    path: '/api/v1/reconciliations',
    summary: 'Reconcile the stock with the ledger and the open holds (runs in the background)',
    tag: 'reconciliations',
    body: createBody,
    permission: 'reconciliation:run',
    success: 202,
  },
  {
    method: 'get',
    path: '/api/v1/reconciliations',
    summary: 'List reconciliations, newest first',
    tag: 'reconciliations',
    query: listQuery,
    permission: 'stock:read',
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/reconciliations/{reconciliation_id}',
    summary: 'Get a reconciliation: its status and counts',
    tag: 'reconciliations',
    params: idParams,
    permission: 'stock:read',
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/reconciliations/{reconciliation_id}/drifts',
    summary: 'The stock rows it found drifting, with the expected quantities',
    tag: 'reconciliations',
    params: idParams,
    query: listQuery,
    permission: 'stock:read',
    success: 200,
  },
];
