import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { transferWorkflowId } from '../../workflows/transfer-definitions.ts';
import { restWithWorker, startHttp } from '../helpers/http.ts';
import { createTransferClient } from '../../services/workflow-clients/transfer-client.ts';
import { InvalidTransferStateError } from '../../services/inventory/errors.ts';
import { startWorker } from '../helpers/temporal.ts';
import { createWarehouse, receiveStock, stockRow } from '../helpers/fixtures.ts';
import { newOrganization, testStack, type TestOrganizationScope } from '../helpers/stack.ts';
import { saveHistory } from '../helpers/histories.ts';
import { present } from '../helpers/present.ts';
import { waitFor } from '../helpers/wait.ts';

interface Setup {
  scope: TestOrganizationScope;
  org: string;
  origin: string;
  destination: string;
  variant: string;
}

async function twoWarehouses(quantity = 20): Promise<Setup> {
  const scope = newOrganization();
  const origin = await createWarehouse(scope, { region: 'north' });
  const destination = await createWarehouse(scope, { region: 'south' });
  const variant = randomUUID();
  await receiveStock(scope, variant, origin.id, quantity);
  return { scope, org: scope.organizationId, origin: origin.id, destination: destination.id, variant };
}

const zero = { total: 0, available: 0, reserved: 0, damaged: 0, in_transit: 0, incoming: 0 };
async function quantities(s: Setup, warehouseId: string) {
  const row = await stockRow(s.scope, s.variant, warehouseId);
  if (!row) return zero;
  const { version: _version, ...rest } = row;
  return rest;
}

/** Conservation: across all warehouses, total units change only by recorded losses (damage stays in total). */
async function assertConserved(s: Setup, initialTotal: number): Promise<void> {
  const [sums] = await s.scope.em.execute<{ total: number; lost: number }[]>(
    `select (select coalesce(sum(total), 0)::int from stock where organization_id = ? and variant_id = ?) as total,
            (select coalesce(-sum(total_delta), 0)::int from stock_movement where organization_id = ? and variant_id = ? and type = 'loss') as lost`,
    [s.org, s.variant, s.org, s.variant],
  );
  const { total, lost } = present(sums, 'the totals');
  assert.equal(total + lost, initialTotal, `conservation: ${total} on hand + ${lost} lost should be ${initialTotal}`);
}

describe('transfers (saga) over REST', function () {
  this.timeout(90_000);
  const rest = restWithWorker();

  const create = (s: Setup, quantity: number, extra: object = {}) =>
    rest.http.send('POST', '/api/v1/transfers', {
      organizationId: s.org,
      body: {
        origin_warehouse_id: s.origin,
        destination_warehouse_id: s.destination,
        items: [{ variant_id: s.variant, quantity }],
        ...extra,
      },
    });
  const act = (s: Setup, id: string, action: string, body?: object) =>
    rest.http.send('POST', `/api/v1/transfers/${id}/${action}`, { organizationId: s.org, body });

  it('a ship or receipt sent again with the same Idempotency-Key gets the first answer, also after the workflow closed', async () => {
    // The transfer client as the REST route drives it, called twice as a client would after a lost answer
    // (REST's own idempotency record is forgotten on a 5xx, so the repeat reaches Temporal).
    const transfers = createTransferClient({
      client: testStack().temporal.client,
      taskQueue: rest.worker.taskQueue,
      orm: testStack().orm,
    });
    const s = await twoWarehouses(10);
    const created = await create(s, 4);
    const id: string = created.body.transfer_id;
    const shipKey = `ship-${randomUUID()}`;
    const shipped = await transfers.ship(s.org, id, 'ana', { idempotencyKey: shipKey });
    assert.deepEqual(await transfers.ship(s.org, id, 'ana', { idempotencyKey: shipKey }), shipped);

    const receipt = { lines: [{ variant_id: s.variant, received: 4, damaged: 0 }], close: false };
    const receiveKey = `receive-${randomUUID()}`;
    const received = await transfers.receive(s.org, id, receipt, 'ana', { idempotencyKey: receiveKey });
    assert.equal(received.status, 'completed');
    assert.deepEqual(await transfers.receive(s.org, id, receipt, 'ana', { idempotencyKey: receiveKey }), received);
    // Without the key a repeat is refused, as before, and so is another request under the same key: it is
    // another update, not the first one's answer. Nothing is ever applied twice.
    await assert.rejects(transfers.receive(s.org, id, receipt, 'ana'), InvalidTransferStateError);
    const otherReceipt = { ...receipt, lines: [{ variant_id: s.variant, received: 3, damaged: 1 }] };
    await assert.rejects(
      transfers.receive(s.org, id, otherReceipt, 'ana', { idempotencyKey: receiveKey }),
      InvalidTransferStateError,
    );
    assert.deepEqual(await quantities(s, s.destination), { ...zero, total: 4, available: 4 });
    await assertConserved(s, 10);
  });

  it('moves goods end to end: reserved, in transit (incoming at the destination), completed', async () => {
    const s = await twoWarehouses(20);
    const created = await create(s, 8);
    assert.equal(created.status, 201);
    assert.equal(created.body.status, 'reserved');
    assert.deepEqual(await quantities(s, s.origin), { ...zero, total: 20, available: 12, reserved: 8 });

    const shipped = await act(s, created.body.transfer_id, 'ship');
    assert.equal(shipped.body.status, 'in_transit');
    assert.deepEqual(await quantities(s, s.origin), { ...zero, total: 20, available: 12, in_transit: 8 });
    assert.deepEqual(await quantities(s, s.destination), { ...zero, incoming: 8 });

    const received = await act(s, created.body.transfer_id, 'receive', {
      lines: [{ variant_id: s.variant, received: 8 }],
    });
    assert.equal(received.body.status, 'completed');
    assert.deepEqual(await quantities(s, s.origin), { ...zero, total: 12, available: 12 });
    assert.deepEqual(await quantities(s, s.destination), { ...zero, total: 8, available: 8 });
    await assertConserved(s, 20);

    const read = await rest.http.get(`/api/v1/transfers/${created.body.transfer_id}`, s.org);
    assert.deepEqual(
      read.body.transitions.map((t: { status: unknown }) => t.status),
      ['reserved', 'in_transit', 'completed'],
    );
    await saveHistory('transfer-complete', transferWorkflowId(s.org, created.body.transfer_id));
  });

  it('cancelled before shipping, releases the hold at the origin', async () => {
    const s = await twoWarehouses(10);
    const created = await create(s, 4);
    const busy = await rest.http.send('POST', `/api/v1/warehouses/${s.destination}/deactivate`, {
      organizationId: s.org,
    });
    assert.equal(busy.status, 409, 'a warehouse with an open transfer cannot be deactivated');
    assert.equal(busy.body.open_transfers, 1);
    const cancelled = await act(s, created.body.transfer_id, 'cancel', { reason: 'wrong destination' });
    assert.equal(cancelled.body.status, 'cancelled');
    assert.equal(cancelled.body.reason, 'wrong destination');
    assert.deepEqual(await quantities(s, s.origin), { ...zero, total: 10, available: 10 });
    await assertConserved(s, 10);
    await saveHistory('transfer-cancel-before-ship', transferWorkflowId(s.org, created.body.transfer_id));
  });

  it('cancelled in transit, returns the units to the origin and the destination stops expecting them', async () => {
    const s = await twoWarehouses(10);
    const created = await create(s, 6);
    await act(s, created.body.transfer_id, 'ship');
    const cancelled = await act(s, created.body.transfer_id, 'cancel', { reason: 'truck broke down' });
    assert.equal(cancelled.body.status, 'cancelled');
    assert.deepEqual(await quantities(s, s.origin), { ...zero, total: 10, available: 10 });
    assert.deepEqual(await quantities(s, s.destination), zero);
    await assertConserved(s, 10);
    await saveHistory('transfer-cancel-in-transit', transferWorkflowId(s.org, created.body.transfer_id));
  });

  it('takes a partial receipt over two calls, then a discrepant close: damaged and missing units are accounted for', async () => {
    const s = await twoWarehouses(20);
    const created = await create(s, 10);
    const id = created.body.transfer_id;
    await act(s, id, 'ship');

    const first = await act(s, id, 'receive', { lines: [{ variant_id: s.variant, received: 4, damaged: 1 }] });
    assert.equal(first.body.status, 'in_transit');
    const second = await act(s, id, 'receive', { lines: [{ variant_id: s.variant, received: 3 }], close: true });

    assert.equal(second.body.status, 'completed_with_discrepancy');
    assert.deepEqual(second.body.lines, [{ variant_id: s.variant, quantity: 10, received: 7, damaged: 1, missing: 2 }]);
    assert.deepEqual(await quantities(s, s.origin), { ...zero, total: 10, available: 10 });
    assert.deepEqual(await quantities(s, s.destination), { ...zero, total: 8, available: 7, damaged: 1 });
    await assertConserved(s, 20);
    await saveHistory('transfer-partial-discrepancy', transferWorkflowId(s.org, id));
  });

  it('not shipped by ship_by, cancels itself with reason expired', async () => {
    const s = await twoWarehouses(10);
    const created = await create(s, 5, { ship_by: new Date(Date.now() + 2000).toISOString() });
    assert.equal(created.body.status, 'reserved');
    const read = await waitFor(
      () => rest.http.get(`/api/v1/transfers/${created.body.transfer_id}`, s.org),
      (r) => r.body.status !== 'reserved',
      'the transfer to leave reserved after its ship-by',
    );
    assert.equal(read.body.status, 'cancelled');
    assert.equal(read.body.reason, 'expired');
    assert.deepEqual(await quantities(s, s.origin), { ...zero, total: 10, available: 10 });
    await assertConserved(s, 10);
    await saveHistory('transfer-ship-by-expired', transferWorkflowId(s.org, created.body.transfer_id));
  });

  it('refuses invalid actions with 409 naming the state, and bad requests with 422 or 400, changing nothing', async () => {
    const s = await twoWarehouses(5);
    const insufficient = await create(s, 6);
    assert.equal(insufficient.status, 409);
    assert.equal(insufficient.body.type, 'urn:inventory:problem:InsufficientStockError');
    assert.deepEqual(insufficient.body.shortages, [
      { variant_id: s.variant, warehouse_id: s.origin, requested: 6, available: 5 },
    ]);

    const same = await rest.http.send('POST', '/api/v1/transfers', {
      organizationId: s.org,
      body: {
        origin_warehouse_id: s.origin,
        destination_warehouse_id: s.origin,
        items: [{ variant_id: s.variant, quantity: 1 }],
      },
    });
    assert.equal(same.status, 422);
    const unknownVariant = await rest.http.send('POST', '/api/v1/transfers', {
      organizationId: s.org,
      body: {
        origin_warehouse_id: s.origin,
        destination_warehouse_id: s.destination,
        items: [{ variant_id: randomUUID(), quantity: 1 }],
      },
    });
    assert.equal(unknownVariant.status, 422);
    const serverOwned = await create(s, 1, { status: 'completed' });
    assert.equal(serverOwned.status, 400);

    const created = await create(s, 2);
    const id = created.body.transfer_id;
    const early = await act(s, id, 'receive', { lines: [{ variant_id: s.variant, received: 2 }] });
    assert.equal(early.status, 409);
    assert.match(early.body.detail, /is reserved: cannot receive/);
    await act(s, id, 'ship');
    const over = await act(s, id, 'receive', { lines: [{ variant_id: s.variant, received: 3 }] });
    assert.equal(over.status, 422);
    await act(s, id, 'cancel', { reason: 'test' });
    const again = await act(s, id, 'cancel', { reason: 'again' });
    assert.equal(again.status, 409);
    assert.match(again.body.detail, /is cancelled: cannot cancel/);
    const shipAfterCancel = await act(s, id, 'ship');
    assert.equal(shipAfterCancel.status, 409);
    assert.equal((await rest.http.get(`/api/v1/transfers/${randomUUID()}`, s.org)).status, 404);
    assert.deepEqual(await quantities(s, s.origin), { ...zero, total: 5, available: 5 });
    await assertConserved(s, 5);
  });

  it('lists transfers by status, origin and destination', async () => {
    const s = await twoWarehouses(10);
    const a = await create(s, 1);
    const b = await create(s, 1);
    await act(s, b.body.transfer_id, 'cancel', { reason: 'x' });
    const reserved = await rest.http.get(`/api/v1/transfers?status=reserved&origin_warehouse_id=${s.origin}`, s.org);
    assert.deepEqual(
      reserved.body.data.map((t: { transfer_id: unknown }) => t.transfer_id),
      [a.body.transfer_id],
    );
    const all = await rest.http.get(`/api/v1/transfers?destination_warehouse_id=${s.destination}&limit=1`, s.org);
    assert.equal(all.body.data.length, 1);
    assert.ok(all.body.next_cursor);
  });

  it('a step failing for good runs the compensations in reverse and leaves both warehouses exactly as before', async () => {
    const failing = await startWorker({
      activities: {
        async receiveTransferAtDestination() {
          throw ApplicationFailure.create({
            type: 'WarehouseInactiveError',
            message: 'the destination was deactivated (forced)',
            nonRetryable: true,
          });
        },
      },
    });
    const failingHttp = await startHttp({ taskQueue: failing.taskQueue });
    try {
      const s = await twoWarehouses(10);
      const created = await failingHttp.send('POST', '/api/v1/transfers', {
        organizationId: s.org,
        body: {
          origin_warehouse_id: s.origin,
          destination_warehouse_id: s.destination,
          items: [{ variant_id: s.variant, quantity: 4 }],
        },
      });
      await failingHttp.send('POST', `/api/v1/transfers/${created.body.transfer_id}/ship`, { organizationId: s.org });

      const failed = await failingHttp.send('POST', `/api/v1/transfers/${created.body.transfer_id}/receive`, {
        organizationId: s.org,
        body: { lines: [{ variant_id: s.variant, received: 4 }] },
      });

      assert.equal(failed.status, 422);
      const read = await failingHttp.get(`/api/v1/transfers/${created.body.transfer_id}`, s.org);
      assert.equal(read.body.status, 'compensated');
      assert.match(read.body.reason, /WarehouseInactiveError/);
      assert.deepEqual(await quantities(s, s.origin), { ...zero, total: 10, available: 10 });
      assert.deepEqual(await quantities(s, s.destination), zero);
      const steps = await s.scope.em.execute<{ operation_key: string }[]>(
        'select operation_key from stock_movement where organization_id = ? and reference_type = ? order by created_at, operation_key',
        [s.org, 'transfer'],
      );
      const kinds = [
        ...new Set(
          steps.map((m) =>
            present(m.operation_key.split('/')[2], `the step of ${m.operation_key}`).replace(/#\d+$/, ''),
          ),
        ),
      ];
      assert.deepEqual(kinds, ['reserve', 'ship', 'undo-ship', 'undo-reserve'], 'compensations ran in reverse');
      await assertConserved(s, 10);
      await saveHistory('transfer-compensated', transferWorkflowId(s.org, created.body.transfer_id));
    } finally {
      await failingHttp.close();
      await failing.stop();
    }
  });

  it('continues on a new worker after its worker stops between ship and receive', async () => {
    const first = await startWorker();
    const firstHttp = await startHttp({ taskQueue: first.taskQueue });
    const s = await twoWarehouses(10);
    const created = await firstHttp.send('POST', '/api/v1/transfers', {
      organizationId: s.org,
      body: {
        origin_warehouse_id: s.origin,
        destination_warehouse_id: s.destination,
        items: [{ variant_id: s.variant, quantity: 3 }],
      },
    });
    await firstHttp.send('POST', `/api/v1/transfers/${created.body.transfer_id}/ship`, { organizationId: s.org });
    await first.stop();

    const second = await startWorker({ taskQueue: first.taskQueue });
    try {
      const received = await firstHttp.send('POST', `/api/v1/transfers/${created.body.transfer_id}/receive`, {
        organizationId: s.org,
        body: { lines: [{ variant_id: s.variant, received: 3 }] },
      });
      assert.equal(received.body.status, 'completed');
      assert.deepEqual(await quantities(s, s.destination), { ...zero, total: 3, available: 3 });
      await assertConserved(s, 10);
    } finally {
      await firstHttp.close();
      await second.stop();
    }
  });
});
