/**
 * A row lock a fault test holds from the observer's connection (a superuser, past row-level security) in a
 * transaction it keeps open, so that a step's activity blocks inside its own transaction: the kill then
 * lands while the activity is in flight, not between steps.
 */
import { testStack } from '../helpers/stack.ts';

export interface HeldRowLock {
  /** How many other sessions wait for this transaction's locks now, directly or queued behind one that does. */
  waiting(): Promise<number>;
  /** Commits the transaction: the sessions waiting go on. Safe to call again. */
  release(): Promise<void>;
}

/** Runs `lockingSql` (a `select … for update`) in a transaction left open until `release`. */
export async function holdRowLock(lockingSql: string, params: unknown[]): Promise<HeldRowLock> {
  const { observerOrm } = testStack();
  const locked = Promise.withResolvers<number>();
  const released = Promise.withResolvers<void>();
  const transaction = observerOrm.em.fork().transactional(async (tx) => {
    const [session] = await tx.execute<{ pid: number }[]>('select pg_backend_pid() as pid');
    const rows = await tx.execute<unknown[]>(lockingSql, params);
    if (!session || rows.length === 0) throw new Error(`nothing to lock: ${lockingSql} ${JSON.stringify(params)}`);
    locked.resolve(session.pid);
    await released.promise;
  });
  void transaction.catch((error: unknown) => locked.reject(error));
  const pid = await locked.promise;
  return {
    waiting: async () =>
      (
        await observerOrm.em.fork().execute<{ n: number }[]>(
          // Directly, or queued behind a session that waits for it (a row's later waiters wait on its tuple lock).
          `with recursive blocked(pid) as (
             select pid from pg_stat_activity where ? = any(pg_blocking_pids(pid))
             union
             select a.pid from pg_stat_activity a join blocked b on b.pid = any(pg_blocking_pids(a.pid))
           )
           select count(*)::int as n from blocked`,
          [pid],
        )
      )[0]?.n ?? 0,
    release: async () => {
      released.resolve();
      await transaction;
    },
  };
}
