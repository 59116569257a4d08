import type { Client } from '@temporalio/client';
import { keepSchedule } from './keep-schedule.ts';
import type { Logger } from '../logger.ts';
import { retentionScheduleId, retentionWorkflow, type RetentionInput } from '../../workflows/retention.ts';
import type { RetentionSettings } from '../limits/settings.ts';

export interface RetentionScheduleOptions {
  client: Client;
  taskQueue: string;
  /** Cron expression in UTC (e.g. `17 * * * *`), or `off` for no schedule. */
  cron: string;
  retention: RetentionSettings;
  logger: Logger;
}

/**
 * Makes the Temporal Schedule that prunes old rows (retentionWorkflow) match the configuration, as the
 * reconciliation's does: created when missing, spec and action (with the retention periods) brought up
 * to date when present, an operator's pause kept, deleted when `off`. Run by every worker at start;
 * safe to race. Overlap SKIP: a run still going when the next is due is not doubled.
 */
export async function ensureRetentionSchedule({
  client,
  taskQueue,
  cron,
  retention,
  logger,
}: RetentionScheduleOptions): Promise<void> {
  const input: RetentionInput = {
    idempotencyHours: retention.idempotencyHours,
    inboxDays: retention.inboxDays,
    outboxDays: retention.outboxDays,
  };
  await keepSchedule({
    client,
    scheduleId: retentionScheduleId,
    cron,
    action: {
      type: 'startWorkflow',
      workflowType: retentionWorkflow,
      args: [input],
      taskQueue,
      workflowId: 'retention-scheduled',
    },
    note: 'Prunes old idempotency keys, inbox rows and published outbox rows in bounded batches (see README: Limits).',
    describe: {
      on: `keeps idempotency keys ${retention.idempotencyHours} h, inbox ${retention.inboxDays} d, published outbox ${retention.outboxDays} d`,
      off: 'old idempotency keys, inbox and outbox rows are kept (RETENTION_CRON=off)',
    },
    logger,
  });
}
