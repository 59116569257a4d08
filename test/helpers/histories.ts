import { writeFile } from 'node:fs/promises';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { temporal } from '@temporalio/proto';
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

/**
 * The retried attempts a history shows, as `{ step, attempt }`: an activity's started event carries its
 * attempt; a local activity records only its final attempt, in its marker.
 */
export function retriedAttempts(history: temporal.api.history.v1.IHistory): { step: string; attempt: number }[] {
  const found: { step: string; attempt: number }[] = [];
  for (const event of history.events ?? []) {
    const started = event.activityTaskStartedEventAttributes;
    if (started && (started.attempt ?? 1) > 1)
      found.push({ step: `activity scheduled at event ${started.scheduledEventId}`, attempt: started.attempt ?? 1 });
    const marker = event.markerRecordedEventAttributes;
    const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
    if (data) {
      const { attempt, activity_type } = JSON.parse(Buffer.from(data).toString()) as {
        attempt: number;
        activity_type: string;
      };
      if (attempt > 1) found.push({ step: activity_type, attempt });
    }
  }
  return found;
}
