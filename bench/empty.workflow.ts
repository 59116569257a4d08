import { condition, defineUpdate, setHandler } from '@temporalio/workflow';

/** Benchmark floor: the least a workflow started by Update-with-Start can do (answer the update, end). */
export const pingUpdate = defineUpdate<string, []>('ping');

export async function emptyWorkflow(): Promise<void> {
  let answered = false;
  setHandler(pingUpdate, () => {
    answered = true;
    return 'pong';
  });
  await condition(() => answered);
}
