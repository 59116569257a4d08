import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
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
export async function ensureRetentionSchedule({ client, taskQueue, cron, retention, logger }: RetentionScheduleOptions): Promise<void> {
  const handle = client.schedule.getHandle(retentionScheduleId);
  if (cron === 'off') {
    await handle.delete().catch((error: unknown) => {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    });
    logger.info('retention schedule off (RETENTION_CRON=off): old idempotency keys, inbox and outbox rows are kept');
    return;
  }
  const input: RetentionInput = { idempotencyHours: retention.idempotencyHours, inboxDays: retention.inboxDays, outboxDays: retention.outboxDays };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: retentionWorkflow,
    args: [input] as [RetentionInput],
    taskQueue,
    workflowId: 'retention-scheduled',
  };
  const spec = { cronExpressions: [cron] };
  const kept = `idempotency keys ${retention.idempotencyHours} h, inbox ${retention.inboxDays} d, published outbox ${retention.outboxDays} d`;
  try {
    await client.schedule.create({
      scheduleId: retentionScheduleId,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
      state: { note: 'Prunes old idempotency keys, inbox rows and published outbox rows in bounded batches (see README: Limits).' },
    });
    logger.info(`retention schedule ${retentionScheduleId} created: "${cron}" (UTC); keeps ${kept}`);
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await handle.update((previous) => ({ ...previous, spec, action }));
    logger.info(`retention schedule ${retentionScheduleId} runs at "${cron}" (UTC); keeps ${kept}`);
  }
}
