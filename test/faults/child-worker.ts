/**
 * A worker in a process of its own, for tests that kill it with SIGKILL (no graceful shutdown, no
 * finally blocks). It runs the service's workflows and real activities on one task queue, configured by
 * the environment: FAULT_TEMPORAL_ADDRESS, FAULT_TASK_QUEUE, FAULT_DATABASE_URL, and FAULT_WORKFLOW_BUNDLE
 * (a bundle written by the parent, which saves bundling again in every child). Prints `polling` once its
 * worker runs; `spawnChildWorker` (processes.ts) waits for that line.
 */
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { openOrm } from '../../services/db/orm.ts';
import { urlForRole } from '../../services/db/roles.ts';
import { createActivities } from '../../activities/index.ts';

const {
  FAULT_TEMPORAL_ADDRESS: address,
  FAULT_TASK_QUEUE: taskQueue,
  FAULT_DATABASE_URL: databaseUrl,
  FAULT_WORKFLOW_BUNDLE: codePath,
  FAULT_ACTIVITY_FAULTS: activityFaults = '{}',
} = process.env;
if (!address || !taskQueue || !databaseUrl || !codePath)
  throw new Error(
    'child-worker needs FAULT_TEMPORAL_ADDRESS, FAULT_TASK_QUEUE, FAULT_DATABASE_URL and FAULT_WORKFLOW_BUNDLE',
  );

Runtime.install({
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  logger: {
    log() {},
    trace() {},
    debug() {},
    info() {},
    warn() {},
    error: (message, meta) => console.error(message, meta ?? ''),
  },
});
const orm = await openOrm(databaseUrl, 10);
// The system role on the same server (local trust authentication): the cross-organization activities.
const systemOrm = await openOrm(urlForRole(databaseUrl, 'system'), 2);
const connection = await NativeConnection.connect({ address });
const faults = JSON.parse(activityFaults) as Record<string, 'fail' | 'hang'>;
const injected = Object.fromEntries(
  Object.entries(faults).map(([name, fault]) => [
    name,
    async () => {
      if (fault === 'hang') await new Promise(() => {});
      throw ApplicationFailure.create({
        type: 'WarehouseInactiveError',
        message: `${name} failed for good (injected)`,
        nonRetryable: true,
      });
    },
  ]),
);
const activities = { ...createActivities({ orm, systemOrm }), ...injected };
const worker = await Worker.create({ connection, taskQueue, workflowBundle: { codePath }, activities });
const running = worker.run();
console.log('polling');
await running;
await connection.close();
await orm.close();
await systemOrm.close();
