import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startHttp, type HttpHarness } from '../helpers/http.ts';
import { testStack } from '../helpers/stack.ts';

describe('one running reconciliation per organization', function () {
  this.timeout(30_000);
  let http: HttpHarness;
  // No worker polls this task queue, so a started run stays running for as long as the test needs.
  before(async () => {
    http = await startHttp({ taskQueue: `idle-${randomUUID()}` });
  });
  after(async () => {
    await http.close();
  });

  it('a request while one runs answers the running one (same 202 body), even when several arrive at once', async () => {
    const organizationId = randomUUID();
    const start = () => http.send('POST', '/api/v1/reconciliations', { organizationId, body: { settle_seconds: 0 } });
    const first = await start();
    assert.equal(first.status, 202);
    const [second, ...together] = await Promise.all([start(), start(), start()]);
    assert.ok(second, 'a second answer');
    assert.equal(second.status, 202);
    assert.deepEqual(second.body, first.body);
    assert.equal(second.headers.get('location'), first.headers.get('location'));
    for (const answer of together) assert.equal(answer.body.reconciliation_id, first.body.reconciliation_id);
    assert.equal((await http.get('/api/v1/reconciliations', organizationId)).body.data.length, 1, 'one run recorded');
    assert.equal((await start()).body.reconciliation_id, first.body.reconciliation_id, 'still the running one');
    // Another organization's run is its own.
    const other = await http.send('POST', '/api/v1/reconciliations', { organizationId: randomUUID(), body: {} });
    assert.notEqual(other.body.reconciliation_id, first.body.reconciliation_id);
    await testStack().temporal.client.workflow.getHandle(other.body.workflow_id).terminate('test over');

    // A run whose workflow ended without recording it (terminated) does not block: it is recorded as failed.
    await testStack().temporal.client.workflow.getHandle(first.body.workflow_id).terminate('test: the run is lost');
    const next = await start();
    assert.equal(next.status, 202);
    assert.notEqual(next.body.reconciliation_id, first.body.reconciliation_id);
    const lost = await http.get(`/api/v1/reconciliations/${first.body.reconciliation_id}`, organizationId);
    assert.equal(lost.body.status, 'failed');
    assert.match(lost.body.failure, /ended without recording/);
    await testStack().temporal.client.workflow.getHandle(next.body.workflow_id).terminate('test over');
  });
});
