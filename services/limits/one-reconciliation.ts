import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { OrganizationScope } from '../inventory/organization-scope.ts';
import { findReconciliation, finishReconciliation, type ReconciliationRecord } from '../inventory/reconciliation/reconciliation.ts';

// A run whose workflow Temporal does not know yet is being started (its row is written first) for this long.
const startingGraceSeconds = 60;

/**
 * One running reconciliation per organization. Under a transaction-level advisory lock on the
 * organization (so two requests cannot both see none running), answers the organization's running
 * reconciliation, on-demand or nightly, whatever its options; when none runs, records the new one with
 * `begin` in the same transaction and answers undefined. A `running` row whose workflow has closed (or
 * was never started, a minute on) is stale: it is recorded as failed and does not block. If Temporal
 * cannot say, the run is taken as running: better no second run than two.
 */
export async function claimReconciliation(scope: OrganizationScope, client: Client, begin: (scope: OrganizationScope) => Promise<void>): Promise<ReconciliationRecord | undefined> {
  return await scope.transaction(async (tx) => {
    // What the reconciliation functions get: this transaction (bound, holding the lock), which they join.
    const locked: OrganizationScope = { ...scope, em: tx.em, transaction: (work) => work(tx) };
    const lock = `reconciliation/${scope.organizationId}`;
    await tx.em.execute(`select pg_advisory_xact_lock(hashtextextended(?, 0))`, [lock]);
    const running = await tx.em.execute<{ id: string; workflow_id: string; starting: boolean }[]>(
      `select id, workflow_id, started_at > now() - make_interval(secs => ?) as starting
       from reconciliation where organization_id = ? and status = 'running' order by started_at desc`,
      [startingGraceSeconds, scope.organizationId],
    );
    for (const run of running) {
      const state = await workflowState(client, run.workflow_id);
      if (state === 'running' || (state === 'missing' && run.starting)) return await findReconciliation(locked, run.id);
      await finishReconciliation(locked, {
        reconciliationId: run.id,
        status: 'failed',
        rowsChecked: 0,
        drifted: 0,
        repaired: 0,
        failure: `its workflow ${state === 'missing' ? 'never started' : 'ended'} without recording how the run ended`,
      });
    }
    await begin(locked);
    return undefined;
  });
}

async function workflowState(client: Client, workflowId: string): Promise<'running' | 'closed' | 'missing'> {
  try {
    const description = await client.withDeadline(Date.now() + 5000, () => client.workflow.getHandle(workflowId).describe());
    return description.status.name === 'RUNNING' ? 'running' : 'closed';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'missing';
    return 'running';
  }
}
