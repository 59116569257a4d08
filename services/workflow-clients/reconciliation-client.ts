import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Orm } from '../db/orm.ts';
import { scopeTo } from '../inventory/organization-scope.ts';
import {
  finishReconciliation,
  findReconciliation,
  type ReconciliationRecord,
} from '../inventory/reconciliation/reconciliation.ts';
import { defaultWorkflowDeadlineMs, withinDeadline } from './workflow-failures.ts';
import { reconciliationWorkflow } from '../../workflows/reconciliation.ts';
import { reconciliationWorkflowId } from '../../workflows/reconciliation-definitions.ts';
import { claimReconciliation } from '../limits/one-reconciliation.ts';

export type ReconciliationClient = ReturnType<typeof createReconciliationClient>;

export interface ReconciliationRequest {
  repair: boolean;
  settleSeconds?: number;
  requestedBy: string;
}

/**
 * Starts on-demand reconciliations for the REST API. The run is recorded before its workflow starts,
 * so the answer's URL can be read at once; a start that fails is recorded as failed. While one runs for
 * the organization, `start` answers that one and starts nothing (services/limits/one-reconciliation.ts).
 */
export function createReconciliationClient({
  client,
  taskQueue,
  orm,
  deadlineMs = defaultWorkflowDeadlineMs,
}: {
  client: Client;
  taskQueue: string;
  orm: Orm;
  deadlineMs?: number;
}) {
  return {
    async start(organizationId: string, request: ReconciliationRequest): Promise<ReconciliationRecord> {
      const scope = scopeTo(orm.em, organizationId);
      const reconciliationId = randomUUID();
      const workflowId = reconciliationWorkflowId(organizationId, reconciliationId);
      // One running reconciliation per organization: a request while one runs answers the running one.
      const run = {
        reconciliationId,
        trigger: 'request' as const,
        repair: request.repair,
        requestedBy: request.requestedBy,
        workflowId,
      };
      const running = await claimReconciliation(scope, client, run);
      if (running) return running;
      try {
        // Unanswered within the deadline (Temporal unreachable): WorkflowUnavailableError, the run recorded as failed.
        await withinDeadline(client, deadlineMs, `the start of reconciliation ${reconciliationId}`, () =>
          client.workflow.start(reconciliationWorkflow, {
            workflowId,
            taskQueue,
            args: [
              {
                organizationId,
                reconciliationId,
                repair: request.repair,
                settleSeconds: request.settleSeconds,
                trigger: 'request',
                requestedBy: request.requestedBy,
              },
            ],
          }),
        );
      } catch (error) {
        await finishReconciliation(scope, {
          reconciliationId,
          status: 'failed',
          rowsChecked: 0,
          drifted: 0,
          repaired: 0,
          failure: `the workflow did not start: ${(error as Error).message}`,
        });
        throw error;
      }
      return await findReconciliation(scope, reconciliationId);
    },
  };
}
