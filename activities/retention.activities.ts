import type { Orm } from '../services/db/orm.ts';
import { pruneOldRows, type RetentionTarget } from '../services/limits/retention.ts';

/** The retention workflow's one step: a bounded delete by age, safe to repeat. */
export function createRetentionActivities({ orm }: { orm: Orm }) {
  return {
    /** Deletes up to `limit` rows of `target` older than `olderThanSeconds`; returns how many it deleted. */
    async pruneOldRows(target: RetentionTarget, olderThanSeconds: number, limit: number): Promise<number> {
      return await pruneOldRows(orm.em.fork(), target, olderThanSeconds, limit);
    },
  };
}
