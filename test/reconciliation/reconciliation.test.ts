import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { createScratchDatabase } from '../../scripts/scratch-database.ts';
import { migrate, openOrm, type Orm } from '../../services/db/orm.ts';
import { scopeTo } from '../../services/inventory/organization-scope.ts';
import { createActivities } from '../../activities/index.ts';
import { ensureReconciliationSchedule } from '../../services/workflow-clients/reconciliation-schedule.ts';
import { reconciliationProgressQuery, reconciliationScheduleId } from '../../workflows/reconciliation-definitions.ts';
import { restWithWorker, startHttp } from '../helpers/http.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import { createWarehouse, ledgerSums, receiveStock, stockRow, stockedOrganization } from '../helpers/fixtures.ts';
import { testStack, tokenFor, type TestOrganizationScope } from '../helpers/stack.ts';
import { saveHistory } from '../helpers/histories.ts';
import { waitFor } from '../helpers/wait.ts';
import { present } from '../helpers/present.ts';

/** Drift as a bad deploy or a hand-written UPDATE would leave it: the row changes, the ledger does not. */
async function injectDrift(
  scope: TestOrganizationScope,
  variantId: string,
  warehouseId: string,
  units: number,
): Promise<void> {
  await scope.em.execute(
    'update stock set available = available + ?, total = total + ? where organization_id = ? and variant_id = ? and warehouse_id = ?',
    [units, units, scope.organizationId, variantId, warehouseId],
  );
}

async function outboxEvents(scope: TestOrganizationScope, name: string) {
  return await scope.em.execute<{ payload: any }[]>(
    'select payload from outbox_event where organization_id = ? and name = ? order by sequence',
    [scope.organizationId, name],
  );
}

describe('reconciliation', function () {
  this.timeout(90_000);
  const rest = restWithWorker();

  async function reconcile(organizationId: string, body: object) {
    const started = await rest.http.send('POST', '/api/v1/reconciliations', {
      organizationId,
      body,
      headers: {
        Authorization: `Bearer ${await tokenFor(organizationId, { subject: 'ana', name: 'Ana Ruiz', roles: ['admin'] })}`,
      },
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.headers.get('location'), `/api/v1/reconciliations/${started.body.reconciliation_id}`);
    assert.equal(started.body.status, 'running');
    assert.equal(started.body.requested_by, 'ana (Ana Ruiz)', 'the token subject and display name');
    const finished = await waitFor(
      () => rest.http.get(`/api/v1/reconciliations/${started.body.reconciliation_id}`, organizationId),
      (r) => r.body.status !== 'running',
      'the reconciliation to finish',
    );
    return finished.body;
  }

  it('finds a drift injected by a direct SQL update, reports it (result, REST, drift_detected) and repairs nothing unasked', async () => {
    const s = await stockedOrganization(10);
    const clean = randomUUID();
    await receiveStock(s.scope, clean, s.warehouseId, 4);
    await injectDrift(s.scope, s.variantId, s.warehouseId, 3);
    const before = await stockRow(s.scope, s.variantId, s.warehouseId);

    const run = await reconcile(s.organizationId, { settle_seconds: 0 });
    assert.equal(run.status, 'completed');
    assert.equal(run.trigger, 'request');
    assert.equal(run.rows_checked, 2);
    assert.equal(run.drifted, 1, 'the clean row is not reported');
    assert.equal(run.repaired, 0);

    const drifts = await rest.http.get(`/api/v1/reconciliations/${run.reconciliation_id}/drifts`, s.organizationId);
    assert.equal(drifts.body.data.length, 1);
    const [drift] = drifts.body.data;
    assert.equal(drift.variant_id, s.variantId);
    assert.equal(drift.warehouse_id, s.warehouseId);
    assert.deepEqual(
      drift.differences.map((d: { quantity: unknown; recorded: unknown; expected: unknown; source: unknown }) => [
        d.quantity,
        d.recorded,
        d.expected,
        d.source,
      ]),
      [
        ['total', 13, 10, 'ledger'],
        ['available', 13, 10, 'ledger'],
      ],
    );
    assert.equal(drift.repaired, false);
    assert.deepEqual(await stockRow(s.scope, s.variantId, s.warehouseId), before, 'not repaired unless asked');

    const [detected, ...more] = await outboxEvents(s.scope, 'inventory.stock.drift_detected');
    assert.equal(more.length, 0);
    assert.ok(detected, 'an inventory.stock.drift_detected event in the outbox');
    assert.equal(detected.payload.reconciliation_id, run.reconciliation_id);
    assert.equal(detected.payload.stock_id, drift.stock_id);
    assert.deepEqual(detected.payload.differences, drift.differences);

    const result = await testStack().temporal.client.workflow.getHandle(run.workflow_id).result();
    assert.equal(result.drifted, 1);
    assert.equal(result.reports[0].drifts[0].stockId, drift.stock_id, 'the workflow result carries the drift too');
    await saveHistory('reconciliation-report-only', run.workflow_id);
  });

  it('with repair, puts the row back to its ledger and says so (drift_repaired, stock-level events of the change)', async () => {
    const s = await stockedOrganization(10);
    await s.scope.em.execute('update stock set min_stock = 8 where organization_id = ?', [s.organizationId]);
    // The row claims 4 units fewer than its ledger: 6 on hand, below min_stock; the ledger's 10 is above it.
    await injectDrift(s.scope, s.variantId, s.warehouseId, -4);
    const drifted = present(await stockRow(s.scope, s.variantId, s.warehouseId), 'the drifted stock row');
    const replenishedBefore = (await outboxEvents(s.scope, 'inventory.stock.replenished')).length;

    const run = await reconcile(s.organizationId, { repair: true, settle_seconds: 0 });
    assert.equal(run.status, 'completed');
    assert.equal(run.drifted, 1);
    assert.equal(run.repaired, 1);
    const { version, ...repaired } = present(await stockRow(s.scope, s.variantId, s.warehouseId), 'the stock row');
    assert.deepEqual(
      repaired,
      await ledgerSums(s.scope, s.variantId, s.warehouseId),
      'the row equals its ledger again',
    );
    assert.equal(version, drifted.version + 1);
    const [event] = await outboxEvents(s.scope, 'inventory.stock.drift_repaired');
    assert.ok(event, 'an inventory.stock.drift_repaired event in the outbox');
    assert.equal(event.payload.before.available, 6);
    assert.equal(event.payload.quantities.available, 10);
    const replenished = (await outboxEvents(s.scope, 'inventory.stock.replenished')).slice(replenishedBefore);
    assert.deepEqual(
      replenished.map((e) => [e.payload.available_quantity, e.payload.min_stock]),
      [[10, 8]],
      'the repair crossed min_stock upwards: announced once, like any change',
    );

    // A second run finds nothing.
    const again = await reconcile(s.organizationId, { settle_seconds: 0 });
    assert.equal(again.drifted, 0);
    const list = await rest.http.get('/api/v1/reconciliations', s.organizationId);
    assert.deepEqual(
      list.body.data.map((r: { reconciliation_id: unknown }) => r.reconciliation_id),
      [again.reconciliation_id, run.reconciliation_id],
      'newest first',
    );
    await saveHistory('reconciliation-repair', run.workflow_id);
  });

  it('does not report a drift that is gone by the second look (a saga between two steps)', async () => {
    const s = await stockedOrganization(10);
    await injectDrift(s.scope, s.variantId, s.warehouseId, 2);
    const started = await rest.http.send('POST', '/api/v1/reconciliations', {
      organizationId: s.organizationId,
      body: { settle_seconds: 2 },
    });
    const handle = testStack().temporal.client.workflow.getHandle(started.body.workflow_id);
    await waitFor(
      () => handle.query(reconciliationProgressQuery),
      (p) => p.phase === 'settling',
      'the first pass to find the row',
    );
    await injectDrift(s.scope, s.variantId, s.warehouseId, -2); // the second step lands
    const result = await handle.result();
    assert.equal(result.rowsChecked, 1);
    assert.equal(result.drifted, 0);
    assert.deepEqual(await outboxEvents(s.scope, 'inventory.stock.drift_detected'), []);
    assert.equal(
      (await rest.http.get(`/api/v1/reconciliations/${started.body.reconciliation_id}`, s.organizationId)).body.drifted,
      0,
    );
  });

  it('reports reserved units that no open reservation or transfer holds, and leaves them for a person', async () => {
    const s = await stockedOrganization(10);
    await s.scope.em.execute(
      'update stock set available = available - 2, reserved = reserved + 2 where organization_id = ?',
      [s.organizationId],
    );
    const run = await reconcile(s.organizationId, { repair: true, settle_seconds: 0 });
    const { body } = await rest.http.get(`/api/v1/reconciliations/${run.reconciliation_id}/drifts`, s.organizationId);
    const sources = body.data[0].differences.map(
      (d: { quantity: string; source: string }) => `${d.quantity}:${d.source}`,
    );
    assert.ok(sources.includes('reserved:holds'), sources.join(', '));
    assert.equal(body.data[0].repaired, true, 'the row went back to its ledger (no hold)');
    assert.deepEqual(present(await stockRow(s.scope, s.variantId, s.warehouseId), 'the stock row').reserved, 0);
  });

  it('refuses a bad request with a problem and starts nothing', async () => {
    const org = randomUUID();
    const bad = await rest.http.send('POST', '/api/v1/reconciliations', {
      organizationId: org,
      body: { repair: 'yes', settle_seconds: -1 },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.contentType, 'application/problem+json; charset=utf-8');
    assert.deepEqual((await rest.http.get('/api/v1/reconciliations', org)).body.data, []);
    assert.equal((await rest.http.get(`/api/v1/reconciliations/${randomUUID()}`, org)).status, 404);
  });

  it('records a run that fails for good as failed, with the reason, and the workflow fails naming the organization', async () => {
    const scanFails = async () => {
      throw ApplicationFailure.create({
        type: 'InvalidArgumentError',
        message: 'injected: the scan cannot run',
        nonRetryable: true,
      });
    };
    const failing = await startWorker({
      activities: { scanStockChunkForDrift: scanFails, scanStockForDrift: scanFails },
    });
    const failingHttp = await startHttp({ taskQueue: failing.taskQueue });
    try {
      const s = await stockedOrganization(1);
      const started = await failingHttp.send('POST', '/api/v1/reconciliations', {
        organizationId: s.organizationId,
        body: {},
      });
      const finished = await waitFor(
        () => failingHttp.get(`/api/v1/reconciliations/${started.body.reconciliation_id}`, s.organizationId),
        (r) => r.body.status !== 'running',
        'the run to fail',
      );
      assert.equal(finished.body.status, 'failed');
      assert.match(finished.body.failure, /InvalidArgumentError: injected: the scan cannot run/);
      await assert.rejects(
        testStack().temporal.client.workflow.getHandle(started.body.workflow_id).result(),
        (error: any) => {
          assert.equal(error.cause?.type, 'ReconciliationFailedError');
          assert.match(error.cause.message, new RegExp(s.organizationId));
          return true;
        },
      );
      await saveHistory('reconciliation-failed', started.body.workflow_id);
    } finally {
      await failingHttp.close();
      await failing.stop();
    }
  });

  describe('the nightly Temporal Schedule', () => {
    // Its runs cover every organization, so they get a database of their own holding only this test's.
    let orm: Orm;
    let dropDatabase: () => Promise<void>;
    let scheduledWorker: RunningWorker;

    before(async () => {
      const database = await createScratchDatabase(testStack().observerDatabaseUrl, 'inventory_test_schedule');
      dropDatabase = database.drop;
      // A superuser's pool, for the activities too: this test is about the schedule, not the roles.
      orm = await openOrm(database.url, 5);
      await migrate(orm);
      scheduledWorker = await startWorker({ activities: createActivities({ orm, systemOrm: orm }) });
    });
    after(async () => {
      await scheduledWorker?.stop();
      await testStack()
        .temporal.client.schedule.getHandle(reconciliationScheduleId)
        .delete()
        .catch(() => undefined);
      await orm?.close(true);
      await dropDatabase?.();
    });

    it('is created from the configuration, runs every organization when triggered, and goes when set off', async () => {
      const { client } = testStack().temporal;
      // Organizations in the schedule's own database (a superuser's pool there: `em` may read everything).
      const inScratch = (): TestOrganizationScope => ({ ...scopeTo(orm.em, randomUUID()), em: orm.em.fork() });
      const drifting = inScratch();
      const clean = inScratch();
      for (const scope of [drifting, clean]) {
        const warehouse = await createWarehouse(scope);
        const variant = randomUUID();
        await receiveStock(scope, variant, warehouse.id, 5);
        if (scope === drifting) await injectDrift(scope, variant, warehouse.id, 1);
      }

      const options = { client, taskQueue: scheduledWorker.taskQueue, logger: testStack().logger };
      await ensureReconciliationSchedule({ ...options, cron: '0 3 * * *' });
      await ensureReconciliationSchedule({ ...options, cron: '30 2 * * *' }); // a restart with another setting updates it
      const handle = client.schedule.getHandle(reconciliationScheduleId);
      const described = await handle.describe();
      assert.deepEqual(described.spec.calendars?.[0]?.hour, [{ start: 2, end: 2, step: 1 }]);
      assert.deepEqual(described.spec.calendars?.[0]?.minute, [{ start: 30, end: 30, step: 1 }]);
      assert.equal(described.action.type, 'startWorkflow');

      await handle.trigger();
      const workflowId = present(
        await waitFor(
          async () => (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId,
          Boolean,
          'the schedule to start a run',
        ),
        "the scheduled run's workflow id",
      );
      const result = await client.workflow.getHandle(workflowId).result();
      assert.equal(result.organizationsChecked, 2);
      assert.equal(result.drifted, 1);
      assert.deepEqual(
        result.reports.map((r: { organizationId: unknown }) => r.organizationId),
        [drifting.organizationId],
        'a nightly result keeps only the organizations with drift',
      );
      const [run] = await drifting.em.execute<{ trigger: string; status: string }[]>(
        'select trigger, status from reconciliation where organization_id = ?',
        [drifting.organizationId],
      );
      assert.deepEqual(run, { trigger: 'schedule', status: 'completed' });
      await saveHistory('reconciliation-scheduled', workflowId);

      await ensureReconciliationSchedule({ ...options, cron: 'off' });
      await assert.rejects(handle.describe(), /not found/i);
    });
  });
});
