import { writeFile } from 'node:fs/promises';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { testStack } from './stack.ts';

export const historiesDir = new URL('../replay/histories/', import.meta.url);

/**
 * With RECORD_HISTORIES=1, saves the finished workflow's event history as test/replay/histories/<name>.json,
 * which the replay test replays on every run. Re-record only for a deliberate, compatible change.
 */
export async function saveHistory(name: string, workflowId: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const handle = testStack().temporal.client.workflow.getHandle(workflowId);
  await handle.result().catch(() => undefined);
  const history = await handle.fetchHistory();
  await writeFile(new URL(`${name}.json`, historiesDir), `${historyToJSON(history)}\n`);
}
