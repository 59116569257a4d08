import assert from 'node:assert/strict';
import type { MetricMeter, MetricTags } from '@temporalio/common';
import { openOrm, poolUse, type Orm } from '../../services/db/orm.ts';
import { registerDbPoolGauges, sampleDbPoolGauges } from '../../services/metrics/db-pool.ts';
import { createMetricsRegistry, startMetricsServer, type MetricsServer } from '../../services/metrics/registry.ts';
import { testStack } from '../helpers/stack.ts';
import { present } from '../helpers/present.ts';
import { sleep, waitFor } from '../helpers/wait.ts';

const names = {
  connections: 'inventory_db_pool_connections',
  idle: 'inventory_db_pool_idle_connections',
  waiting: 'inventory_db_pool_waiting_queries',
  max: 'inventory_db_pool_max_connections',
} as const;
type PoolSample = Record<keyof typeof names, number | undefined>;

/** GET /metrics and the pool gauges of `pool` in it (undefined for a series not served). */
async function scrapePool(url: string, pool: string): Promise<PoolSample> {
  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200);
  const text = await response.text();
  const value = (name: string) => {
    const match = new RegExp(`^${name}\\{[^}]*pool="${pool}"[^}]*\\} (\\S+)$`, 'm').exec(text);
    return match ? Number(match[1]) : undefined;
  };
  return {
    connections: value(names.connections),
    idle: value(names.idle),
    waiting: value(names.waiting),
    max: value(names.max),
  };
}

/**
 * Three transactions that hold their connection (the pool's 3) until `release()`, then a fourth query that
 * must wait for one. `done` settles once all four have finished.
 */
async function occupy(orm: Orm) {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const holders = Array.from({ length: 3 }, () =>
    orm.em.fork().transactional(async (em) => {
      await em.execute('select 1');
      await gate;
    }),
  );
  await waitFor(
    async () => poolUse(orm),
    (use) => use.total === 3 && use.idle === 0,
    'three transactions to hold every connection',
  );
  const waiter = orm.em.fork().execute('select 1');
  return { release, done: Promise.all([...holders, waiter]) };
}

describe('Prometheus metrics: the database pools', function () {
  this.timeout(60_000);
  let orm: Orm | undefined;
  let server: MetricsServer | undefined;

  before(async () => {
    orm = await openOrm(testStack().databaseUrl, 3);
  });
  after(async () => {
    await server?.close();
    await orm?.close(true);
  });

  it('serves each pool’s open, idle and waiting counts and its size, and they follow the pool as queries take and give back connections', async () => {
    const pool = present(orm, 'the pool');
    const registry = createMetricsRegistry('grpc', { defaultMetrics: false });
    registerDbPoolGauges(registry, { runtime: pool });
    server = await startMetricsServer({ registry, host: '127.0.0.1', port: 0, logger: testStack().logger });
    const url = `http://127.0.0.1:${present(server, 'the server').port}`;

    const before = await scrapePool(url, 'runtime');
    assert.equal(before.max, 3);
    assert.equal(before.waiting, 0);
    assert.equal(before.idle, before.connections, 'nothing in use before the queries');

    const load = await occupy(pool);
    try {
      await waitFor(
        () => scrapePool(url, 'runtime'),
        (s) => s.connections === 3 && s.idle === 0 && s.waiting === 1,
        'the gauges to show 3 connections in use and one query waiting',
      );
    } finally {
      load.release();
      await load.done;
    }
    assert.deepEqual(await scrapePool(url, 'runtime'), { connections: 3, idle: 3, waiting: 0, max: 3 });
    assert.equal((await scrapePool(url, 'system')).connections, undefined, 'no series for a pool the process lacks');
  });

  it("samples the same counts onto the worker's Temporal SDK meter, labelled with the pool, until stopped", async () => {
    const pool = present(orm, 'the pool');
    const values = new Map<string, number>();
    const meter = {
      createGauge: (name: string) => ({
        set: (value: number, tags?: MetricTags) => values.set(`${name}{pool=${tags?.pool}}`, value),
      }),
    } as unknown as MetricMeter;
    const stop = sampleDbPoolGauges(meter, { runtime: pool }, 50);
    try {
      const load = await occupy(pool);
      try {
        await waitFor(
          async () => values.get(`${names.waiting}{pool=runtime}`),
          (waiting) => waiting === 1,
          'the sampled gauge to show the waiting query',
        );
        assert.equal(values.get(`${names.idle}{pool=runtime}`), 0);
        assert.equal(values.get(`${names.max}{pool=runtime}`), 3);
      } finally {
        load.release();
        await load.done;
      }
      await waitFor(
        async () => values.get(`${names.idle}{pool=runtime}`),
        (idle) => idle === 3,
        'the sampled gauge to show every connection idle again',
      );
    } finally {
      stop();
    }
    values.clear();
    // Deliberately wait four sampling intervals: nothing may be set in them.
    await sleep(200);
    assert.equal(values.size, 0, 'nothing sampled once stopped');
  });
});
