import type { MetricMeter } from '@temporalio/common';
import { Gauge, type Registry } from 'prom-client';
import { poolUse, type Orm, type PoolUse } from '../db/orm.ts';
import type { DatabaseRole } from '../db/roles.ts';

/** A process's connection pools, by the database role each connects as (the `pool` label). */
export type DbPools = Partial<Record<DatabaseRole, Orm>>;

/** One gauge per counter of the pool, each labelled `pool`. */
const gauges: Record<keyof PoolUse, { name: string; help: string }> = {
  total: { name: 'inventory_db_pool_connections', help: 'Open connections of the pool, in use or idle' },
  idle: { name: 'inventory_db_pool_idle_connections', help: 'Open connections of the pool that no query uses' },
  waiting: {
    name: 'inventory_db_pool_waiting_queries',
    help: 'Queries waiting for a connection of the pool (every connection is in use and the pool is at its max)',
  },
  max: { name: 'inventory_db_pool_max_connections', help: 'The most connections the pool opens' },
};

const readAll = (pools: DbPools): [string, PoolUse][] =>
  Object.entries(pools).map(([pool, orm]): [string, PoolUse] => [pool, poolUse(orm)]);

/**
 * The pools' gauges in `registry`, read from the pools' own counters at each scrape (no query is sent):
 * `inventory_db_pool_connections`, `_idle_connections`, `_waiting_queries` and `_max_connections`, each
 * labelled `pool` (runtime, system). In use = connections − idle; waiting above 0 means the pool is too small.
 */
export function registerDbPoolGauges(registry: Registry, pools: DbPools): void {
  for (const [counter, { name, help }] of Object.entries(gauges) as [keyof PoolUse, { name: string; help: string }][])
    new Gauge({
      name,
      help,
      labelNames: ['pool'],
      registers: [registry],
      collect() {
        for (const [pool, use] of readAll(pools)) this.set({ pool }, use[counter]);
      },
    });
}

/**
 * The same gauges for the worker, whose one metrics port is the Temporal SDK's exporter: set on the SDK's
 * `meter` every `intervalMs` (and at once). Returns the function that stops sampling.
 */
export function sampleDbPoolGauges(meter: MetricMeter, pools: DbPools, intervalMs = 5000): () => void {
  const sampled = (Object.entries(gauges) as [keyof PoolUse, { name: string; help: string }][]).map(
    ([counter, { name, help }]) => ({ counter, gauge: meter.createGauge(name, 'int', '', help) }),
  );
  const sample = () => {
    for (const [pool, use] of readAll(pools))
      for (const { counter, gauge } of sampled) gauge.set(use[counter], { pool });
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
