import type { Client } from '@temporalio/client';
import { keepSchedule } from './keep-schedule.ts';
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
export async function ensureReconciliationSchedule({
  client,
  taskQueue,
  cron,
  logger,
}: ReconciliationScheduleOptions): Promise<void> {
  await keepSchedule({
    client,
    scheduleId: reconciliationScheduleId,
    cron,
    action: {
      type: 'startWorkflow',
      workflowType: reconciliationWorkflow,
      args: [{ trigger: 'schedule' }],
      taskQueue,
      workflowId: 'reconciliation-scheduled',
    },
    note: 'Rebuilds every stock row from the ledger and the open holds; reports drift, repairs nothing (see README: Reconciliation).',
    describe: {
      on: 'reconciles every organization, reporting only',
      off: 'reconciliations run only on request (RECONCILIATION_CRON=off)',
    },
    logger,
  });
}
