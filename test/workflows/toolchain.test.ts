import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { testStack } from '../helpers/stack.ts';

describe('the Temporal toolchain', () => {
  it('runs a workflow and its activity on the dev server started by the test environment', async () => {
    const { temporal } = testStack();
    const taskQueue = `toolchain-${randomUUID()}`;
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('./fixtures/ping.workflow.ts', import.meta.url)),
      activities: { pong: async (message: string) => `pong: ${message}` },
    });

    const result = await worker.runUntil(
      temporal.client.workflow.execute('pingWorkflow', {
        taskQueue,
        workflowId: `ping-${randomUUID()}`,
        args: ['hello'],
      }),
    );

    assert.equal(result, 'pong: hello');
  });
});
