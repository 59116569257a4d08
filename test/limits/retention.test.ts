import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { retentionScheduleId, retentionWorkflow, type RetentionResult } from '../../workflows/retention.ts';
import { ensureRetentionSchedule } from '../../services/workflow-clients/retention-schedule.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import { newOrganization, testStack } from '../helpers/stack.ts';
import { saveHistory } from '../helpers/histories.ts';

describe('retention', function () {
  this.timeout(60_000);
  let worker: RunningWorker;
  before(async () => {
    worker = await startWorker();
  });
  after(async () => {
    await testStack()
      .temporal.client.schedule.getHandle(retentionScheduleId)
      .delete()
      .catch(() => undefined);
    await worker.stop();
  });

  it('deletes, in bounded batches, only idempotency keys, inbox rows, published outbox rows and customer rows older than their periods', async () => {
    const scope = newOrganization();
    const org = scope.organizationId;
    const em = scope.em;
    const ago = (interval: string) => `now() - interval '${interval}'`;
    // Three old and one young of each, so a batch of 2 needs several activities.
    for (const age of ['49 hours', '50 hours', '60 days', '47 hours']) {
      await em.execute(
        `insert into idempotency_key (organization_id, key, request_hash, state, created_at) values (?, ?, 'h', 'completed', ${ago(age)})`,
        [org, `key-${age}`],
      );
    }
    for (const age of ['15 days', '16 days', '400 days', '13 days']) {
      await em.execute(
        `insert into inbox_event (source, organization_id, event_id, name, outcome, received_at) values ('order', ?, ?, 'order.confirmed', 'confirmed', ${ago(age)})`,
        [org, `event-${age}`],
      );
    }
    for (const [age, published] of [
      ['8 days', true],
      ['9 days', true],
      ['30 days', true],
      ['6 days', true],
      ['30 days', false],
    ] as const) {
      await em.execute(
        `insert into outbox_event (id, organization_id, name, aggregate_type, aggregate_id, payload, created_at, published_at)
         values (?, ?, 'inventory.test', 'test', ?, '{}', ${ago(age)}, ${published ? ago(age) : 'null'})`,
        [randomUUID(), org, `${age}-${published}`],
      );
    }
    for (const age of ['2 days', '3 days', '4 days', '1 hour']) {
      await em.execute(
        `insert into customer_hold (organization_id, order_id, customer_id, created_at) values (?, ?, 'c-1', ${ago(age)})`,
        [org, `order-${age}`],
      );
    }

    const workflowId = `retention-test-${randomUUID()}`;
    const result: RetentionResult = await testStack().temporal.client.workflow.execute(retentionWorkflow, {
      workflowId,
      taskQueue: worker.taskQueue,
      args: [{ idempotencyHours: 48, inboxDays: 14, outboxDays: 7, batchSize: 2 }],
    });
    for (const target of ['idempotency_key', 'inbox_event', 'outbox_event', 'customer_hold'] as const) {
      assert.ok(result.deleted[target] >= 3, `${target}: ${result.deleted[target]} deleted`);
    }

    const left = async (table: string, column: string) =>
      (
        await em.execute<{ v: string }[]>(`select ${column} as v from ${table} where organization_id = ? order by 1`, [
          org,
        ])
      ).map((r) => r.v);
    assert.deepEqual(await left('idempotency_key', 'key'), ['key-47 hours']);
    assert.deepEqual(await left('inbox_event', 'event_id'), ['event-13 days']);
    assert.deepEqual(
      await left('outbox_event', 'aggregate_id'),
      ['30 days-false', '6 days-true'],
      'an unpublished event is kept however old',
    );
    assert.deepEqual(await left('customer_hold', 'order_id'), ['order-1 hour']);
    await saveHistory('retention', workflowId);
  });

  it('the worker keeps its Temporal Schedule in line with the configuration, and removes it when off', async () => {
    const { client } = testStack().temporal;
    const options = {
      client,
      taskQueue: worker.taskQueue,
      logger: testStack().logger,
      retention: { idempotencyHours: 24, inboxDays: 10, outboxDays: 3 },
    };
    await ensureRetentionSchedule({ ...options, cron: '17 * * * *' });
    await ensureRetentionSchedule({ ...options, cron: '45 * * * *' });
    const handle = client.schedule.getHandle(retentionScheduleId);
    const described = await handle.describe();
    assert.deepEqual(described.spec.calendars?.[0]?.minute, [{ start: 45, end: 45, step: 1 }]);
    assert.equal(described.action.type, 'startWorkflow');
    assert.deepEqual(described.action.type === 'startWorkflow' ? described.action.args : undefined, [
      { idempotencyHours: 24, inboxDays: 10, outboxDays: 3 },
    ]);
    await ensureRetentionSchedule({ ...options, cron: 'off' });
    await assert.rejects(handle.describe(), /not found/i);
  });
});
