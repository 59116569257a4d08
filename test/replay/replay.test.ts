import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { historiesDir } from '../helpers/histories.ts';
import { workflowBundle } from '../helpers/temporal.ts';

/**
 * Every workflow path has a recorded history here. Replaying them against today's workflow code fails
 * on any change that would break workflows already running in production (non-determinism).
 * Re-record with `RECORD_HISTORIES=1 npm test` only for a change that is meant to be incompatible and
 * is deployed with versioning (patched / worker versioning).
 */
const expectedPaths = [
  'reserve-confirm-fulfil',
  'reserve-release',
  'reserve-expire',
  'reserve-extend-expire',
  'reserve-failed',
  'reserve-invalid-data',
  'reserve-retries-exhausted',
  'reserve-ttl-from-commit',
  'reserve-confirm-overdue-fulfil',
  'reserve-confirm-lost-expiry-keeps',
  'transfer-complete',
  'transfer-cancel-before-ship',
  'transfer-cancel-in-transit',
  'transfer-partial-discrepancy',
  'transfer-ship-by-expired',
  'transfer-compensated',
  'transfer-invalid-data',
  'transfer-ship-retries-exhausted',
  'transfer-create-retries-exhausted',
  'transfer-compensation-failed',
  'reconciliation-report-only',
  'reconciliation-repair',
  'reconciliation-scheduled',
  'reconciliation-failed',
  'retention',
];

describe('recorded workflow histories', () => {
  it('cover every reservation, transfer, reconciliation and retention path', async () => {
    const recorded = (await readdir(historiesDir))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''));
    for (const path of expectedPaths) assert.ok(recorded.includes(path), `no recorded history for ${path}`);
  });

  it('replay against the current workflow code without a non-determinism error', async () => {
    const files = (await readdir(historiesDir)).filter((f) => f.endsWith('.json'));
    async function* histories() {
      for (const file of files) {
        yield {
          workflowId: file,
          history: historyFromJSON(JSON.parse(await readFile(new URL(file, historiesDir), 'utf8'))),
        };
      }
    }
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories())) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.equal(replayed, files.length);
    assert.deepEqual(failures, []);
  });
});
