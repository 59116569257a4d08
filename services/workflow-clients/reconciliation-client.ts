import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Orm } from '../db/orm.ts';
import { scopeTo } from '../inventory/organization-scope.ts';
import { beginReconciliation, finishReconciliation, findReconciliation, type ReconciliationRecord } from '../inventory/reconciliation.ts';
import { reconciliationWorkflow } from '../../workflows/reconciliation.ts';
import { reconciliationWorkflowId } from '../../workflows/reconciliation-definitions.ts';

export type ReconciliationClient = ReturnType<typeof createReconciliationClient>;

export interface ReconciliationRequest {
  repair: boolean;
  settleSeconds?: number;
  requestedBy: string;
}

/**
 * Starts on-demand reconciliations for the REST API. The run is recorded before its workflow starts,
 * so the answer's URL can be read at once; a start that fails is recorded as failed.
 */
export function createReconciliationClient({ client, taskQueue, orm }: { client: Client; taskQueue: string; orm: Orm }) {
  return {
    async start(organizationId: string, request: ReconciliationRequest): Promise<ReconciliationRecord> {
      const scope = scopeTo(orm.em, organizationId);
      const reconciliationId = randomUUID();
      const workflowId = reconciliationWorkflowId(organizationId, reconciliationId);
      await beginReconciliation(scope, { reconciliationId, trigger: 'request', repair: request.repair, requestedBy: request.requestedBy, workflowId });
      try {
        await client.workflow.start(reconciliationWorkflow, {
          workflowId,
          taskQueue,
          args: [{ organizationId, reconciliationId, repair: request.repair, settleSeconds: request.settleSeconds, trigger: 'request', requestedBy: request.requestedBy }],
        });
      } catch (error) {
        await finishReconciliation(scope, { reconciliationId, status: 'failed', rowsChecked: 0, drifted: 0, repaired: 0, failure: `the workflow did not start: ${(error as Error).message}` });
        throw error;
      }
      return await findReconciliation(scope, reconciliationId);
    },
  };
}
