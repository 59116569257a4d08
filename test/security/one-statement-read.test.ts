import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { databaseRoles } from '../../services/db/roles.ts';
import { openOrm, ormPool, type Orm } from '../../services/db/orm.ts';
import { oneStatementOn, type OrganizationRead } from '../../services/inventory/organization-scope.ts';
import { checkAvailability } from '../../services/inventory/stock/availability.ts';
import { availabilityReader, batchedAvailabilityReader } from '../../services/inventory/stock/availability-batch.ts';
import { availableInActiveWarehouses } from '../../services/inventory/stock/stock.store.ts';
import { WarehouseNotFoundError } from '../../services/inventory/errors.ts';
import { createWarehouse, receiveStock } from '../helpers/fixtures.ts';
import { newOrganization, testStack } from '../helpers/stack.ts';
import { present } from '../helpers/present.ts';

/**
 * CheckAvailability's read binds the organization inside its one statement (available_in_active_warehouses,
 * README, Security model) instead of in a transaction of its own. These check that it keeps what a bound
 * transaction guarantees: it runs as the runtime role under row-level security, sees only the organization it
 * is given, and leaves nothing bound on the pooled connection it ran on.
 */
describe('the one-statement availability read', () => {
  // The runtime role with a pool of one connection: the statement after the read runs on the read's own session.
  let single: Orm;
  const setting = async () => {
    const { rows } = await ormPool(single).query<{ bound: string | null }>(
      "select current_setting('app.organization_id', true) as bound",
    );
    return present(rows[0], 'the setting').bound;
  };
  const unbound = (value: string | null) => value === null || value === '';

  before(async () => {
    single = await openOrm(testStack().databaseUrl, 1);
  });
  after(async () => {
    await single?.close();
  });

  /** Two organizations stocking the same variant, each in a warehouse of its own. */
  async function twoOrganizations() {
    const a = newOrganization();
    const b = newOrganization();
    const variantId = randomUUID();
    const onlyB = randomUUID();
    const warehouseA = await createWarehouse(a);
    const warehouseB = await createWarehouse(b);
    await receiveStock(a, variantId, warehouseA.id, 5);
    await receiveStock(b, variantId, warehouseB.id, 7);
    await receiveStock(b, onlyB, warehouseB.id, 9);
    return { a, b, variantId, onlyB, warehouseA, warehouseB };
  }

  it("bound to organization A, it reads A's stock and none of B's, even for B's variants and warehouses", async () => {
    const { a, variantId, onlyB, warehouseA } = await twoOrganizations();
    const read: OrganizationRead = { organizationId: a.organizationId, run: oneStatementOn(single) };
    const rows = await availableInActiveWarehouses(read, [variantId, onlyB]);
    assert.deepEqual(rows, [{ variantId, warehouseId: warehouseA.id, available: 5 }]);
  });

  it('right after it, on the same pooled connection, no organization is bound and the tables read as empty', async () => {
    const { a, variantId } = await twoOrganizations();
    const [result] = await checkAvailability(availabilityReader(oneStatementOn(single)), a.organizationId, [
      { variantId, quantity: 1 },
    ]);
    assert.equal(result?.available, 5);
    const bound = await setting();
    assert.ok(unbound(bound), `app.organization_id is ${bound} after the read`);
    const { rows } = await ormPool(single).query<{ n: number }>('select count(*)::int as n from stock');
    assert.equal(present(rows[0], 'the count').n, 0, 'unbound, the runtime role sees no stock row');
  });

  it("another organization's preferred warehouse is WarehouseNotFoundError, and nothing stays bound", async () => {
    const { a, variantId, warehouseB } = await twoOrganizations();
    await assert.rejects(
      checkAvailability(
        availabilityReader(oneStatementOn(single)),
        a.organizationId,
        [{ variantId, quantity: 1 }],
        warehouseB.id,
      ),
      (error: unknown) =>
        error instanceof WarehouseNotFoundError &&
        error.message === `warehouse ${warehouseB.id} does not exist in this organization` &&
        error.details?.warehouse_id === warehouseB.id,
    );
    assert.ok(unbound(await setting()));
  });

  it('an inactive preferred warehouse of the organization is known, and its stock is not offered', async () => {
    const a = newOrganization();
    const variantId = randomUUID();
    const closed = await createWarehouse(a, { active: false });
    const open = await createWarehouse(a);
    await receiveStock(a, variantId, closed.id, 50);
    await receiveStock(a, variantId, open.id, 2);
    const [result] = await checkAvailability(
      availabilityReader(oneStatementOn(single)),
      a.organizationId,
      [{ variantId, quantity: 1 }],
      closed.id,
    );
    assert.deepEqual(result, { variantId, requested: 1, available: 2, sufficient: true, warehouseId: open.id });
  });

  it('inside a transaction bound to B, a read for A sees only A, and the transaction is bound to B again after it', async () => {
    const { a, b, variantId, warehouseA } = await twoOrganizations();
    const client = await ormPool(single).connect();
    try {
      await client.query('begin');
      await client.query(`select set_config('app.organization_id', $1, true)`, [b.organizationId]);
      const { rows } = await client.query('select * from available_in_active_warehouses($1, $2, null)', [
        a.organizationId,
        [variantId],
      ]);
      assert.deepEqual(
        rows.map((r: { warehouse_id: string }) => r.warehouse_id),
        [warehouseA.id],
      );
      const after = await client.query<{ bound: string }>("select current_setting('app.organization_id') as bound");
      assert.equal(present(after.rows[0], 'the setting').bound, b.organizationId);
      await client.query('rollback');
    } finally {
      client.release();
    }
  });

  it('calls read together share a statement per organization and preferred warehouse, and each gets only its own', async () => {
    const { a, b, variantId, onlyB, warehouseA, warehouseB } = await twoOrganizations();
    let statements = 0;
    const run = oneStatementOn(single);
    const read = batchedAvailabilityReader((name, text, values) => {
      statements += 1;
      return run(name, text, values);
    });
    const [forA, forB, onlyOfB, refused] = await Promise.allSettled([
      read(a.organizationId, [variantId, onlyB]),
      read(b.organizationId, [variantId]),
      read(b.organizationId, [onlyB]),
      read(b.organizationId, [variantId], warehouseA.id),
    ]);
    assert.equal(statements, 3, 'one statement for A, one for B, one for B with its preferred warehouse');
    assert.deepEqual(forA, { status: 'fulfilled', value: [{ variantId, warehouseId: warehouseA.id, available: 5 }] });
    assert.deepEqual(forB, { status: 'fulfilled', value: [{ variantId, warehouseId: warehouseB.id, available: 7 }] });
    assert.deepEqual(onlyOfB, {
      status: 'fulfilled',
      value: [{ variantId: onlyB, warehouseId: warehouseB.id, available: 9 }],
    });
    assert.ok(refused.status === 'rejected' && refused.reason instanceof WarehouseNotFoundError);
    assert.ok(unbound(await setting()));
  });

  it('runs as its caller (SECURITY INVOKER), and only the runtime role may execute it', async () => {
    const observer = testStack().observerOrm.em.fork();
    const [fn] = await observer.execute<{ definer: boolean; runtime: boolean; system: boolean; owner: string }[]>(
      `select p.prosecdef as definer, pg_get_userbyid(p.proowner) as owner,
              has_function_privilege(?, p.oid, 'execute') as runtime,
              has_function_privilege(?, p.oid, 'execute') as system
       from pg_proc p where p.proname = 'available_in_active_warehouses'`,
      [databaseRoles.runtime, databaseRoles.system],
    );
    assert.deepEqual(fn, { definer: false, owner: databaseRoles.owner, runtime: true, system: false });
  });
});
