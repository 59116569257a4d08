import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities, type Activities } from '../../activities/index.ts';
import {
  CompensationFailedError,
  InvalidDataError,
  RetriesExhaustedError,
  WorkflowUnavailableError,
} from '../../services/inventory/errors.ts';
import { createTransferClient, type TransferClientDeps } from '../../services/workflow-clients/transfer-client.ts';
import { transferWorkflowId } from '../../workflows/transfer-definitions.ts';
import { createWarehouse, receiveStock, stockRow } from '../helpers/fixtures.ts';
import { saveHistory } from '../helpers/histories.ts';
import { newOrganization, testStack, type TestOrganizationScope } from '../helpers/stack.ts';
import { startWorker } from '../helpers/temporal.ts';
import { waitFor } from '../helpers/wait.ts';
import { present } from '../helpers/present.ts';
import { startFastRetryWorker } from '../workflows/fast-retries.ts';

const clientOn = (taskQueue: string, deps: Partial<TransferClientDeps> = {}) => {
  const stack = testStack();
  return createTransferClient({ client: stack.temporal.client, taskQueue, orm: stack.orm, ...deps });
};

async function twoWarehouses(quantity: number) {
  const scope = newOrganization();
  const origin = (await createWarehouse(scope)).id;
  const destination = (await createWarehouse(scope)).id;
  const variant = randomUUID();
  await receiveStock(scope, variant, origin, quantity);
  const request = (extra: object = {}) => ({
    originWarehouseId: origin,
    destinationWarehouseId: destination,
    lines: [{ variant_id: variant, quantity: 4 }],
    ...extra,
  });
  return { scope, org: scope.organizationId, origin, destination, variant, request };
}

const zero = { total: 0, available: 0, reserved: 0, damaged: 0, in_transit: 0, incoming: 0 };
async function quantities(scope: TestOrganizationScope, variant: string, warehouse: string) {
  const row = await stockRow(scope, variant, warehouse);
  if (!row) return zero;
  const { version: _version, ...rest } = row;
  return rest;
}

async function outbox(scope: TestOrganizationScope, name: string): Promise<Record<string, any>[]> {
  const rows = await scope.em.execute<{ payload: Record<string, any> }[]>(
    'select payload from outbox_event where organization_id = ? and name = ? order by sequence',
    [scope.organizationId, name],
  );
  return rows.map((r) => r.payload);
}

/** The organization's workflows, by id (from Temporal's visibility, OrganizationId search attribute). */
async function workflowsOf(organizationId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of testStack().temporal.client.workflow.list({
    query: `OrganizationId = '${organizationId}'`,
  }))
    ids.push(execution.workflowId);
  return ids;
}

async function workflowFailureType(workflowId: string): Promise<string | undefined> {
  try {
    await testStack().temporal.client.workflow.getHandle(workflowId).result();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure, String(error));
    return error.cause.type ?? undefined;
  }
}

describe('transfers: no poison work', function () {
  this.timeout(60_000);
  let real: Activities;
  before(() => {
    real = createActivities({ orm: testStack().orm, systemOrm: testStack().systemOrm });
  });

  it('notes PostgreSQL cannot store (a NUL character) fail the create at its first attempt with InvalidDataError, holding nothing', async () => {
    let attempts = 0;
    const worker = await startWorker({
      activities: {
        async reserveTransferAtOrigin(input) {
          attempts += 1;
          return await real.reserveTransferAtOrigin(input);
        },
      },
    });
    try {
      const s = await twoWarehouses(10);
      // Straight to the client, past the REST edge (which refuses a NUL before it gets this far).
      await assert.rejects(
        clientOn(worker.taskQueue).create(s.org, s.request({ notes: 'fragile\u0000' }), 'ana'),
        (error: unknown) => {
          assert.ok(error instanceof InvalidDataError, String(error));
          assert.match(error.message, /NUL character/);
          return true;
        },
      );

      assert.equal(attempts, 1, 'no retry of a value no retry can cure');
      assert.equal(
        (await s.scope.em.execute('select 1 from transfer where organization_id = ?', [s.org])).length,
        0,
        'no transfer row: the reserve rolled back',
      );
      assert.deepEqual(await quantities(s.scope, s.variant, s.origin), { ...zero, total: 10, available: 10 });
      const [workflowId] = await waitFor(
        () => workflowsOf(s.org),
        (ids) => ids.length === 1,
        "the transfer's workflow in visibility",
      );
      assert.ok(workflowId, "the transfer's workflow id");
      assert.equal(await workflowFailureType(workflowId), 'InvalidDataError');
      await saveHistory('transfer-invalid-data', workflowId);
    } finally {
      await worker.stop();
    }
  });

  it('a ship step whose transient failure never ends gives up after its bounded attempts: compensated with the reason, inventory.transfer.cancelled', async () => {
    let attempts = 0;
    const worker = await startFastRetryWorker({
      maximumAttempts: 3,
      activities: {
        async markTransferInTransit() {
          attempts += 1;
          throw new Error('the database is unreachable (on purpose)');
        },
      },
    });
    try {
      const s = await twoWarehouses(10);
      const client = clientOn(worker.taskQueue, { deadlineMs: 30_000 });
      const created = await client.create(s.org, s.request(), 'ana');
      assert.equal(created.status, 'reserved');

      await assert.rejects(client.ship(s.org, created.transferId, 'ana'), RetriesExhaustedError);

      assert.equal(attempts, 3);
      const read = await client.get(s.org, created.transferId);
      assert.equal(read.status, 'compensated');
      assert.match(read.reason ?? '', /^RetriesExhaustedError: step markTransferInTransit kept failing/);
      assert.deepEqual(await quantities(s.scope, s.variant, s.origin), { ...zero, total: 10, available: 10 });
      const [cancelled] = await outbox(s.scope, 'inventory.transfer.cancelled');
      assert.ok(cancelled, 'an inventory.transfer.cancelled event in the outbox');
      assert.equal(cancelled.status, 'compensated');
      assert.match(cancelled.reason, /RetriesExhaustedError/);
      assert.equal(
        await workflowFailureType(transferWorkflowId(s.org, created.transferId)),
        undefined,
        'the saga ended as designed: compensated',
      );
      await saveHistory('transfer-ship-retries-exhausted', transferWorkflowId(s.org, created.transferId));
    } finally {
      await worker.stop();
    }
  });

  it('a ship step that committed on an attempt whose answer was lost, then ran out of attempts, is undone too: the units back at the origin', async () => {
    let attempts = 0;
    const worker = await startFastRetryWorker({
      maximumAttempts: 3,
      activities: {
        async markTransferInTransit(ref) {
          attempts += 1;
          if (attempts === 1) await real.markTransferInTransit(ref);
          throw new Error(
            attempts === 1 ? 'connection lost after commit (on purpose)' : 'the database is unreachable (on purpose)',
          );
        },
      },
    });
    try {
      const s = await twoWarehouses(10);
      const client = clientOn(worker.taskQueue, { deadlineMs: 30_000 });
      const created = await client.create(s.org, s.request(), 'ana');

      await assert.rejects(client.ship(s.org, created.transferId, 'ana'), RetriesExhaustedError);

      assert.equal((await client.get(s.org, created.transferId)).status, 'compensated');
      assert.deepEqual(await quantities(s.scope, s.variant, s.origin), { ...zero, total: 10, available: 10 });
      assert.deepEqual(await quantities(s.scope, s.variant, s.destination), zero);
      const keys = await s.scope.em.execute<{ step: string }[]>(
        "select distinct split_part(split_part(operation_key, '/', 3), '#', 1) as step, min(created_at) as at from stock_movement where organization_id = ? and reference_type = 'transfer' group by 1 order by at",
        [s.org],
      );
      assert.deepEqual(
        keys.map((k) => k.step),
        ['reserve', 'ship', 'undo-ship', 'undo-reserve'],
      );
    } finally {
      await worker.stop();
    }
  });

  it('a create whose first attempt committed and lost its answer, then ran out of attempts, is compensated: the origin holds nothing', async () => {
    let attempts = 0;
    const worker = await startFastRetryWorker({
      maximumAttempts: 3,
      activities: {
        async reserveTransferAtOrigin(input) {
          attempts += 1;
          if (attempts === 1) await real.reserveTransferAtOrigin(input);
          throw new Error(
            attempts === 1 ? 'connection lost after commit (on purpose)' : 'the database is unreachable (on purpose)',
          );
        },
      },
    });
    try {
      const s = await twoWarehouses(10);
      await assert.rejects(
        clientOn(worker.taskQueue, { deadlineMs: 30_000 }).create(s.org, s.request(), 'ana'),
        RetriesExhaustedError,
      );

      const [transfer] = await s.scope.em.execute<{ id: string }[]>(
        'select id from transfer where organization_id = ?',
        [s.org],
      );
      const { id: transferId } = present(transfer, 'the transfer row');
      const workflowId = transferWorkflowId(s.org, transferId);
      assert.equal(
        await workflowFailureType(workflowId),
        'RetriesExhaustedError',
        'the create failed for good, after its compensation ran',
      );
      const [row] = await s.scope.em.execute<{ status: string; reason: string }[]>(
        'select status, reason from transfer where organization_id = ?',
        [s.org],
      );
      assert.ok(row, 'the transfer row');
      assert.equal(row.status, 'compensated');
      assert.match(row.reason, /RetriesExhaustedError/);
      assert.deepEqual(await quantities(s.scope, s.variant, s.origin), { ...zero, total: 10, available: 10 });
      assert.equal((await outbox(s.scope, 'inventory.transfer.cancelled')).length, 1);
      await saveHistory('transfer-create-retries-exhausted', workflowId);
    } finally {
      await worker.stop();
    }
  });

  it('a compensation that fails for good fails the workflow with CompensationFailedError and announces inventory.transfer.compensation_failed, without looping', async () => {
    let compensationAttempts = 0;
    const worker = await startFastRetryWorker({
      maximumAttempts: 3,
      activities: {
        async receiveTransferAtDestination() {
          throw ApplicationFailure.create({
            type: 'WarehouseInactiveError',
            message: 'the destination was deactivated (forced)',
            nonRetryable: true,
          });
        },
        async returnTransferToOriginIfInTransit() {
          compensationAttempts += 1;
          throw new Error('the database is unreachable (on purpose)');
        },
      },
    });
    try {
      const s = await twoWarehouses(10);
      const client = clientOn(worker.taskQueue, { deadlineMs: 30_000 });
      const created = await client.create(s.org, s.request(), 'ana');
      await client.ship(s.org, created.transferId, 'ana');

      await assert.rejects(
        client.receive(
          s.org,
          created.transferId,
          { lines: [{ variant_id: s.variant, received: 4, damaged: 0 }], close: false },
          'ana',
        ),
        (error: unknown) => {
          assert.ok(error instanceof CompensationFailedError, String(error));
          assert.match(
            error.message,
            /compensation returnTransferToOriginIfInTransit \(undoing because: WarehouseInactiveError: the destination was deactivated \(forced\)\)/,
          );
          return true;
        },
      );

      assert.equal(compensationAttempts, 3);
      const workflowId = transferWorkflowId(s.org, created.transferId);
      assert.equal(await workflowFailureType(workflowId), 'CompensationFailedError');
      const [announced] = await outbox(s.scope, 'inventory.transfer.compensation_failed');
      assert.ok(announced, 'an inventory.transfer.compensation_failed event in the outbox');
      assert.equal(announced.compensation, 'returnTransferToOriginIfInTransit');
      assert.equal(announced.status, 'in_transit', 'left as it was, for ops to repair');
      assert.match(announced.reason, /WarehouseInactiveError/);
      assert.deepEqual(await quantities(s.scope, s.variant, s.origin), {
        ...zero,
        total: 10,
        available: 6,
        in_transit: 4,
      });
      await saveHistory('transfer-compensation-failed', workflowId);
    } finally {
      await worker.stop();
    }
  });

  it('a create with no worker running answers WorkflowUnavailableError at its deadline; the same create with its Idempotency-Key once a worker runs makes one transfer', async () => {
    const taskQueue = `no-worker-${randomUUID()}`;
    const s = await twoWarehouses(10);
    const client = clientOn(taskQueue, { deadlineMs: 1500 });
    const key = `move-${randomUUID()}`;

    await assert.rejects(client.create(s.org, s.request(), 'ana', { idempotencyKey: key }), WorkflowUnavailableError);

    const worker = await startWorker({ taskQueue });
    try {
      const created = await client.create(s.org, s.request(), 'ana', { idempotencyKey: key });
      assert.equal(created.status, 'reserved');
      const again = await client.create(s.org, s.request(), 'ana', { idempotencyKey: key });
      assert.equal(again.transferId, created.transferId, 'the same key and request name the same transfer');
      assert.equal((await s.scope.em.execute('select 1 from transfer where organization_id = ?', [s.org])).length, 1);
      assert.deepEqual(await quantities(s.scope, s.variant, s.origin), {
        ...zero,
        total: 10,
        available: 6,
        reserved: 4,
      });
    } finally {
      await worker.stop();
    }
  });
});
