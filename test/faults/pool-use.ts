import { poolUse, type Orm, type PoolUse } from '../../services/db/orm.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * Waits until `orm`'s pool has every connection back (none checked out, no query waiting for one) and
 * returns its counters; fails after `timeoutMs`. A connection lost with its socket must be given back (and
 * dropped) by the pool, not kept checked out for good: a pool that leaks runs dry and hangs its callers.
 */
export function poolFullyReturned(orm: Orm, timeoutMs = 15_000): Promise<PoolUse> {
  return waitFor(
    async () => poolUse(orm),
    (use) => use.total === use.idle && use.waiting === 0,
    'every pooled connection to be given back',
    timeoutMs,
  );
}
