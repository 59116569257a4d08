import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Logger } from '../logger.ts';
import { reconciliationWorkflow } from '../../workflows/reconciliation.ts';
import { reconciliationScheduleId } from '../../workflows/reconciliation-definitions.ts';

export interface ReconciliationScheduleOptions {
  client: Client;
  taskQueue: string;
  /** Cron expression in UTC (e.g. `0 3 * * *`), or `off` for no schedule. */
  cron: string;
  logger: Logger;
}

/**
 * Makes the Temporal Schedule that reconciles every organization match the configuration: created when
 * missing, its spec and action brought up to date when present (an operator's pause in the Temporal UI
 * is kept), deleted when the configuration says `off`. Run by every worker at start; safe to race.
 * Overlap SKIP: a run still going when the next is due is not doubled.
 */
export async function ensureReconciliationSchedule({ client, taskQueue, cron, logger }: ReconciliationScheduleOptions): Promise<void> {
  const handle = client.schedule.getHandle(reconciliationScheduleId);
  if (cron === 'off') {
    await handle.delete().catch((error: unknown) => {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    });
    logger.info(`reconciliation schedule off (RECONCILIATION_CRON=off): reconciliations run only on request`);
    return;
  }
  const action = {
    type: 'startWorkflow' as const,
    workflowType: reconciliationWorkflow,
    args: [{ trigger: 'schedule' as const }] as [{ trigger: 'schedule' }],
    taskQueue,
    workflowId: 'reconciliation-scheduled',
  };
  const spec = { cronExpressions: [cron] };
  try {
    await client.schedule.create({
      scheduleId: reconciliationScheduleId,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
      state: { note: 'Rebuilds every stock row from the ledger and the open holds; reports drift, repairs nothing (see README: Reconciliation).' },
    });
    logger.info(`reconciliation schedule ${reconciliationScheduleId} created: "${cron}" (UTC)`);
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await handle.update((previous) => ({ ...previous, spec, action }));
    logger.info(`reconciliation schedule ${reconciliationScheduleId} runs at "${cron}" (UTC)`);
  }
}
