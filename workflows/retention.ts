import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { stepOptions } from './activity-options.ts';

/** The Temporal Schedule that runs the retention workflow (hourly by default, RETENTION_CRON). */
export const retentionScheduleId = 'inventory-retention';

export interface RetentionInput {
  /** Idempotency keys older than this are forgotten. */
  idempotencyHours: number;
  /** Inbox rows (consumed events' ids) older than this are pruned. */
  inboxDays: number;
  /** Published outbox rows older than this are pruned (never an unpublished one). */
  outboxDays: number;
  /** The most rows one activity deletes (default 1000), so no statement runs long or holds many locks. */
  batchSize?: number;
  /** Set when a run continues as new: what it has deleted so far. */
  resume?: RetentionResult;
}

export interface RetentionResult {
  deleted: Record<RetentionTarget, number>;
}

// A customer_hold row is written just before its reservation: a day's grace before one without an open hold goes.
const customerHoldGraceSeconds = 86_400;

const activities = proxyActivities<Activities>(stepOptions);

/** The tables the retention workflow prunes (as the pruning activity names them). */
type RetentionTarget = Parameters<Activities['pruneOldRows']>[0];

/**
 * Prunes old idempotency keys, inbox rows, published outbox rows and the customer rows of closed holds,
 * each in batches of `batchSize` rows (one short activity each) until none that old is left. Deletes
 * only by age, so running it twice, or overlapping, is harmless. Returns how many rows of each it deleted.
 */
export async function retentionWorkflow(input: RetentionInput): Promise<RetentionResult> {
  const batchSize = input.batchSize ?? 1000;
  const none = { idempotency_key: 0, inbox_event: 0, outbox_event: 0, customer_hold: 0 };
  const deleted: Record<RetentionTarget, number> = input.resume?.deleted ?? none;
  const plan: [RetentionTarget, number][] = [
    ['idempotency_key', input.idempotencyHours * 3600],
    ['inbox_event', input.inboxDays * 86_400],
    ['outbox_event', input.outboxDays * 86_400],
    ['customer_hold', customerHoldGraceSeconds],
  ];
  for (const [target, olderThanSeconds] of plan) {
    for (;;) {
      const count = await activities.pruneOldRows(target, olderThanSeconds, batchSize);
      deleted[target] += count;
      if (count < batchSize) break;
      // A backlog of millions of rows takes thousands of activities: keep each run's history small.
      if (workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof retentionWorkflow>({ ...input, resume: { deleted } });
      }
    }
  }
  return { deleted };
}
