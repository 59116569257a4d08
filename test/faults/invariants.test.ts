import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { holdStock, releaseHold } from '../../services/inventory/reservations/reservations.ts';
import { applyOperation } from '../../services/inventory/stock/ledger.ts';
import { reserveAtOrigin } from '../../services/inventory/transfers/transfers.ts';
import { createWarehouse, stockedOrganization } from '../helpers/fixtures.ts';
import { violations } from './invariants.ts';

describe('faults: the invariants checker', () => {
  it('passes a consistent organization, then names each broken invariant: a hold committed after its expiry, a hold released twice, a row off its ledger', async () => {
    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
    const workflow = { workflowId: 'checker-test', runId: 'checker-test' };
    const hold = (orderId: string, expiresAt?: Date) =>
      holdStock(
        scope,
        {
          reservationId: randomUUID(),
          orderId,
          items: [{ variant_id: variantId, quantity: 1 }],
          fingerprint: orderId,
          ttlSeconds: 60,
          expiresAt,
        },
        workflow,
        new Date(),
      );

    await hold('kept');
    const released = await hold('released');
    await releaseHold(scope, released.reservationId, 'released', 'test', workflow, new Date());
    assert.deepEqual(await violations({ em: scope.em, organizationId }), []);

    await hold('late', new Date(Date.now() - 1000));
    await scope.transaction((tx) =>
      applyOperation(tx, {
        operationKey: `second-release-${randomUUID()}`,
        actor: 'test',
        reference: { type: 'reservation', id: released.reservationId },
        changes: [{ variantId, warehouseId, type: 'release', deltas: { available: 1, reserved: -1 } }],
      }),
    );
    await scope.em.execute(
      'update stock set available = available - 1, damaged = damaged + 1 where organization_id = ?',
      [organizationId],
    );

    const found = await violations({ em: scope.em, organizationId });
    const expected = [
      /order late.*committed after its expiry/,
      /order released.*released 2 times/,
      /available is \d+, its ledger sums to/,
      /damaged is 1, its ledger sums to 0/,
      /reserved is \d+, open holds add up to/,
    ];
    for (const pattern of expected)
      assert.ok(
        found.some((v) => pattern.test(v)),
        `${pattern} among:\n${found.join('\n')}`,
      );
  });

  it('names a transfer step written twice and a transfer whose movements do not conserve its units', async () => {
    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
    const destination = await createWarehouse(scope);
    const transferId = randomUUID();
    const workflow = { workflowId: 'checker-test', runId: 'checker-test' };
    await reserveAtOrigin(
      scope,
      {
        transferId,
        originWarehouseId: warehouseId,
        destinationWarehouseId: destination.id,
        lines: [{ variant_id: variantId, quantity: 2 }],
      },
      'test',
      workflow,
      new Date(),
    );
    assert.deepEqual(await violations({ em: scope.em, organizationId }), []);

    const write = (operationKey: string, type: 'reserve' | 'transfer_in', deltas: Record<string, number>) =>
      scope.transaction((tx) =>
        applyOperation(tx, {
          operationKey,
          actor: 'test',
          reference: { type: 'transfer', id: transferId },
          changes: [{ variantId, warehouseId, type, deltas }],
        }),
      );
    // The reserve step again under another movement key of the same step, and a unit that appears from nowhere.
    await write(`transfer/${transferId}/reserve#9`, 'reserve', { available: -2, reserved: 2 });
    await write(`transfer/${transferId}/bogus`, 'transfer_in', { available: 1 });

    const found = await violations({ em: scope.em, organizationId });
    for (const pattern of [/step transfer\/.*\/reserve wrote 2 reserve movements/, /change the units on hand by 1/])
      assert.ok(
        found.some((v) => pattern.test(v)),
        `${pattern} among:\n${found.join('\n')}`,
      );
  });
});
