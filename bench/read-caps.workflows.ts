import { sleep } from '@temporalio/workflow';

/** The read-caps comparison's workflows: the empty Update-with-Start floor, and a timer due at a given instant. */
export { emptyWorkflow } from './empty.workflow.ts';

/** Sleeps until `dueAt` (epoch ms), like a hold's TTL timer, then ends. */
export async function timerWorkflow(dueAt: number): Promise<void> {
  await sleep(Math.max(1, dueAt - Date.now()));
}
