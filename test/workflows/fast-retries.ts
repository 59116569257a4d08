import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Activities } from '../../activities/index.ts';
import { startWorker, workflowsPath, type RunningWorker } from '../helpers/temporal.ts';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The service's workflows bundled with the fast-retries interceptor (once per run). */
function fastRetryBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: [fileURLToPath(new URL('./fixtures/fast-retries.interceptor.ts', import.meta.url))],
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  return bundle;
}

/**
 * A real worker like startWorker's (real activities, some replaced), whose workflows wait milliseconds
 * between activity attempts instead of seconds: for tests that run a step out of its bounded retries.
 * `maximumAttempts` caps every retry policy (see the interceptor); without it they keep their own.
 */
export async function startFastRetryWorker(
  options: { activities?: Partial<Activities>; maximumAttempts?: number } = {},
): Promise<RunningWorker> {
  // The interceptor reads the cap from the task queue's name.
  const taskQueue = `fast-retries-${options.maximumAttempts ? `attempts-${options.maximumAttempts}-` : ''}${randomUUID()}`;
  return startWorker({ taskQueue, activities: options.activities, bundle: await fastRetryBundle() });
}
