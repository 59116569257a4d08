import type { Orm } from '../services/db/orm.ts';
import { pruneOldRows, type RetentionTarget } from '../services/limits/retention.store.ts';

/**
 * The retention workflow's one step: a bounded delete by age, safe to repeat. It spans every organization,
 * so it runs as the system role (`systemOrm`, DATABASE_SYSTEM_URL).
 */
export function createRetentionActivities({ systemOrm }: { systemOrm: Orm }) {
  return {
    /** Deletes up to `limit` rows of `target` older than `olderThanSeconds`; returns how many it deleted. */
    async pruneOldRows(target: RetentionTarget, olderThanSeconds: number, limit: number): Promise<number> {
      return await pruneOldRows(systemOrm.em.fork(), target, olderThanSeconds, limit);
    },
  };
}
