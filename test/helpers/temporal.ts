import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  bundleWorkflowCode,
  type NativeConnection,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { createActivities, type Activities } from '../../activities/index.ts';
import { createReservationClient } from '../../services/workflow-clients/reservation-client.ts';
import { workflowTracingInterceptors } from '../../services/tracing/temporal.ts';
import { testStack } from './stack.ts';

export const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/**
 * The service's workflows bundled once for the whole run (bundling takes seconds), with the tracing interceptors
 * as the worker's bundle has them, so the replay test replays what production runs.
 */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: [workflowTracingInterceptors],
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  return bundle;
}

export interface RunningWorker {
  taskQueue: string;
  worker: Worker;
  stop(): Promise<void>;
}

/**
 * A real worker with the real activities (or some replaced) on its own task queue; `bundle` replaces the
 * service's own, `connection` the stack's connection to Temporal (one through a proxy, say).
 */
export async function startWorker(
  options: {
    taskQueue?: string;
    activities?: Partial<Activities>;
    bundle?: WorkflowBundleWithSourceMap;
    connection?: NativeConnection;
  } = {},
): Promise<RunningWorker> {
  const stack = testStack();
  const taskQueue = options.taskQueue ?? `test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: options.connection ?? stack.temporal.nativeConnection,
    taskQueue,
    workflowBundle: options.bundle ?? (await workflowBundle()),
    activities: { ...createActivities(stack), ...options.activities },
  });
  const running = worker.run();
  return {
    taskQueue,
    worker,
    stop: async () => {
      worker.shutdown();
      await running;
    },
  };
}

export function reservationClientFor(taskQueue: string) {
  const stack = testStack();
  return createReservationClient({ client: stack.temporal.client, taskQueue, orm: stack.orm });
}
