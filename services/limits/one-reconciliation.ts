import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { OrganizationScope } from '../inventory/organization-scope.ts';
import { requireRun } from '../inventory/reconciliation/reconciliation.ts';
import {
  finishRun,
  insertRun,
  lockRunsOfOrganization,
  runningRuns,
  type NewReconciliation,
  type ReconciliationRecord,
} from '../inventory/reconciliation/reconciliation.store.ts';

// A run whose workflow Temporal does not know yet is being started (its row is written first) for this long.
const startingGraceSeconds = 60;

/**
 * One running reconciliation per organization. In one transaction, under a transaction-level advisory
 * lock on the organization (so two requests cannot both see none running), answers the organization's
 * running reconciliation, on-demand or nightly, whatever its options; when none runs, records `run` as
 * running in the same transaction and answers undefined. A `running` row whose workflow has closed (or
 * was never started, a minute on) is stale: it is recorded as failed and does not block. If Temporal
 * cannot say, the run is taken as running: better no second run than two.
 */
export function claimReconciliation(
  scope: OrganizationScope,
  client: Client,
  run: NewReconciliation,
): Promise<ReconciliationRecord | undefined> {
  return scope.transaction(async (tx) => {
    await lockRunsOfOrganization(tx);
    for (const running of await runningRuns(tx, startingGraceSeconds)) {
      const state = await workflowState(client, running.workflowId);
      if (state === 'running' || (state === 'missing' && running.starting))
        return await requireRun(tx, running.reconciliationId);
      await finishRun(tx, {
        reconciliationId: running.reconciliationId,
        status: 'failed',
        rowsChecked: 0,
        drifted: 0,
        repaired: 0,
        failure: `its workflow ${state === 'missing' ? 'never started' : 'ended'} without recording how the run ended`,
      });
    }
    await insertRun(tx, run);
    return undefined;
  });
}

async function workflowState(client: Client, workflowId: string): Promise<'running' | 'closed' | 'missing'> {
  try {
    const description = await client.withDeadline(Date.now() + 5000, () =>
      client.workflow.getHandle(workflowId).describe(),
    );
    return description.status.name === 'RUNNING' ? 'running' : 'closed';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'missing';
    return 'running';
  }
}
