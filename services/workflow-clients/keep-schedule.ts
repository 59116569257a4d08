import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
  type Workflow,
} from '@temporalio/client';
import type { Logger } from '../logger.ts';

export interface KeptSchedule<W extends Workflow> {
  client: Client;
  scheduleId: string;
  /** Cron expression in UTC, or `off` for no schedule. */
  cron: string;
  action: ScheduleOptionsStartWorkflowAction<W>;
  /** Shown in the Temporal UI next to the schedule. */
  note: string;
  /** What the log says it does when on, and when off. */
  describe: { on: string; off: string };
  logger: Logger;
}

/**
 * Makes a Temporal Schedule match the configuration: created when missing, its spec and action brought
 * up to date when present (an operator's pause in the Temporal UI is kept), deleted when `off`. Run by
 * every worker at start; safe to race. Overlap SKIP: a run still going when the next is due is not doubled.
 */
export async function keepSchedule<W extends Workflow>({
  client,
  scheduleId,
  cron,
  action,
  note,
  describe,
  logger,
}: KeptSchedule<W>): Promise<void> {
  const handle = client.schedule.getHandle(scheduleId);
  if (cron === 'off') {
    await handle.delete().catch((error: unknown) => {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    });
    logger.info(`${scheduleId} schedule off: ${describe.off}`);
    return;
  }
  const spec = { cronExpressions: [cron] };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
      state: { note },
    });
    logger.info(`${scheduleId} schedule created: "${cron}" (UTC); ${describe.on}`);
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await handle.update((previous) => ({ ...previous, spec, action }));
    logger.info(`${scheduleId} schedule runs at "${cron}" (UTC); ${describe.on}`);
  }
}
