import type { EntityManager } from '@mikro-orm/postgresql';
import { waitFor } from '../helpers/wait.ts';

/**
 * Waits until a session of the runtime role on `em`'s database waits for a lock the session `blockerPid` holds:
 * a call of the service caught in the middle, its transaction open on the server. `em` must not be the
 * blocker's own session: within one transaction pg_stat_activity stays the snapshot its first read took.
 */
export function waitUntilBlockedBy(em: EntityManager, blockerPid: number | undefined, what: string): Promise<number> {
  return waitFor(
    async () =>
      (
        await em.fork().execute<{ n: number }[]>(
          `select count(*)::int as n from pg_stat_activity
           where datname = current_database() and usename = 'inventory_runtime' and ? = any(pg_blocking_pids(pid))`,
          [blockerPid],
        )
      )[0]?.n ?? 0,
    (waiting) => waiting > 0,
    what,
    20_000,
  );
}
