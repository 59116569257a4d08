import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { databaseRoles } from '../../services/db/roles.ts';
import { testStack } from '../helpers/stack.ts';
import { present } from '../helpers/present.ts';

/**
 * Tenancy held by PostgreSQL itself (README, Security model), checked with raw SQL on the roles' own
 * connections, below any application code. The tables are those of the catalog that carry organization_id,
 * so a table added later is covered at once: its fixture row must be added to `fixtureRows` below.
 */

/** One row per table with organization_id, for an organization, in an order that satisfies the foreign keys. */
function fixtureRows(organizationId: string): Record<string, { sql: string; params: unknown[] }> {
  const [warehouse, other, stock, location, reconciliation] = Array.from({ length: 5 }, () => randomUUID());
  const variant = randomUUID();
  const org = organizationId;
  const zeros = Array.from({ length: 12 }, () => 0);
  return {
    warehouse: {
      sql: `insert into warehouse (id, organization_id, code, name, region)
            values ($1, $2, 'W1', 'One', 'r'), ($3, $2, 'W2', 'Two', 'r')`,
      params: [warehouse, org, other],
    },
    location: {
      sql: `insert into location (id, organization_id, warehouse_id, code, name) values ($1, $2, $3, 'L1', 'Bin')`,
      params: [location, org, warehouse],
    },
    stock: {
      sql: 'insert into stock (id, organization_id, variant_id, warehouse_id) values ($1, $2, $3, $4)',
      params: [stock, org, variant, warehouse],
    },
    stock_movement: {
      sql: `insert into stock_movement (organization_id, stock_id, variant_id, warehouse_id, type,
              total_delta, available_delta, reserved_delta, damaged_delta, in_transit_delta, incoming_delta,
              total_after, available_after, reserved_after, damaged_after, in_transit_after, incoming_after,
              actor, operation_key)
            values ($1, $2, $3, $4, 'adjustment', ${zeros.map((_, i) => `$${i + 5}`).join(', ')}, 'test', $17)`,
      params: [org, stock, variant, warehouse, ...zeros, `rls-${randomUUID()}`],
    },
    outbox_event: {
      sql: `insert into outbox_event (id, organization_id, name, aggregate_type, aggregate_id, payload, published_at)
            values ($1, $2, 'test.rls', 'stock', $3, '{}', clock_timestamp())`,
      params: [randomUUID(), org, stock],
    },
    reservation: {
      sql: `insert into reservation (id, organization_id, order_id, status, items, allocations, request_fingerprint,
              transitions, workflow_id, workflow_run_id)
            values ($1, $2, $3, 'released', '[]', '[]', 'f', '[]', $3, 'run')`,
      params: [randomUUID(), org, `order-${randomUUID()}`],
    },
    idempotency_key: {
      sql: `insert into idempotency_key (organization_id, key, request_hash, state) values ($1, $2, 'h', 'completed')`,
      params: [org, randomUUID()],
    },
    transfer: {
      sql: `insert into transfer (id, organization_id, origin_warehouse_id, destination_warehouse_id, status, lines,
              transitions, workflow_id)
            values ($1, $2, $3, $4, 'cancelled', '[]', '[]', $5)`,
      params: [randomUUID(), org, warehouse, other, `transfer-${randomUUID()}`],
    },
    inbox_event: {
      sql: `insert into inbox_event (event_id, name, organization_id, outcome, source)
            values ($1, 'test.rls', $2, 'applied', 'order')`,
      params: [randomUUID(), org],
    },
    consumer_attempt: {
      sql: `insert into consumer_attempt (source, organization_id, event_id, fingerprint)
            values ('order', $1, $2, 'f')`,
      params: [org, randomUUID()],
    },
    reconciliation: {
      sql: `insert into reconciliation (id, organization_id, trigger, repair, status, workflow_id)
            values ($1, $2, 'request', false, 'completed', $3)`,
      params: [reconciliation, org, `reconciliation-${reconciliation}`],
    },
    stock_drift: {
      sql: `insert into stock_drift (reconciliation_id, organization_id, stock_id, variant_id, warehouse_id, recorded,
              expected, differences, repaired)
            values ($1, $2, $3, $4, $5, '{}', '{}', '[]', false)`,
      params: [reconciliation, org, stock, variant, warehouse],
    },
    customer_hold: {
      sql: `insert into customer_hold (organization_id, order_id, customer_id) values ($1, $2, 'customer')`,
      params: [org, randomUUID()],
    },
  };
}

/** A session of `url`'s role. */
async function session(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

/** Runs `work` in a transaction bound to the organization, as the service's are, then rolls it back. */
async function bound<T>(client: pg.Client, organizationId: string, work: () => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    await client.query(`select set_config('app.organization_id', $1, true)`, [organizationId]);
    return await work();
  } finally {
    await client.query('rollback');
  }
}

async function count(client: pg.Client, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from (${sql}) counted`, params);
  return present(rows[0], 'the count').n;
}

/** The error a statement fails with (SQLSTATE and message), or undefined when it succeeds. */
async function refusal(
  client: pg.Client,
  sql: string,
  params: unknown[] = [],
): Promise<{ code: string; message: string } | undefined> {
  await client.query('savepoint attempt');
  try {
    await client.query(sql, params);
    await client.query('release savepoint attempt');
    return undefined;
  } catch (error) {
    await client.query('rollback to savepoint attempt');
    const { code, message } = error as { code: string; message: string };
    return { code, message };
  }
}

describe('row-level security and the database roles', () => {
  const a = randomUUID();
  const b = randomUUID();
  let tables: string[];
  let observer: pg.Client;
  let runtime: pg.Client;
  let system: pg.Client;

  before(async () => {
    const stack = testStack();
    observer = await session(stack.observerDatabaseUrl);
    runtime = await session(stack.databaseUrl);
    system = await session(stack.systemDatabaseUrl);
    const { rows } = await observer.query<{ table_name: string }>(
      `select c.table_name from information_schema.columns c
       join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
       where c.table_schema = current_schema() and c.column_name = 'organization_id' and t.table_type = 'BASE TABLE'
       order by c.table_name`,
    );
    tables = rows.map((r) => r.table_name);
    for (const organizationId of [a, b]) {
      const fixtures = fixtureRows(organizationId);
      const missing = tables.filter((t) => !(t in fixtures));
      assert.deepEqual(missing, [], 'every table with organization_id has a fixture row (add new ones to fixtureRows)');
      // In dependency order (warehouse before stock, …): the object's order.
      for (const table of Object.keys(fixtures)) {
        const fixture = present(fixtures[table], `the ${table} fixture`);
        if (tables.includes(table)) await observer.query(fixture.sql, fixture.params);
      }
    }
  });
  after(async () => {
    await Promise.all([observer, runtime, system].map((c) => c?.end()));
  });

  it('every table with organization_id has row-level security enabled and forced, with its policy', async () => {
    assert.ok(tables.length >= 13, `found only ${tables.join(', ')}`);
    const { rows } = await observer.query<{ relname: string; enabled: boolean; forced: boolean; policies: number }>(
      `select c.relname, c.relrowsecurity as enabled, c.relforcerowsecurity as forced,
              (select count(*)::int from pg_policies p
               where p.tablename = c.relname and p.schemaname = current_schema()) as policies
       from pg_class c where c.relnamespace = current_schema()::regnamespace and c.relname = any($1)`,
      [tables],
    );
    assert.equal(rows.length, tables.length);
    for (const row of rows) {
      assert.deepEqual(row, { relname: row.relname, enabled: true, forced: true, policies: 1 }, row.relname);
    }
  });

  it('as the runtime role without the setting, every such table reads as empty, though rows exist', async () => {
    for (const table of tables) {
      const existing = await count(observer, `select 1 from ${table} where organization_id in ($1, $2)`, [a, b]);
      assert.ok(existing >= 2, `${table} has rows`);
      assert.equal(await count(runtime, `select 1 from ${table}`), 0, `${table}: unbound, nothing`);
    }
    // After a bound transaction, the same pooled session is unbound again (and the emptied setting is no error).
    await bound(runtime, a, async () => assert.ok((await count(runtime, 'select 1 from warehouse')) > 0));
    for (const table of tables) {
      assert.equal(await count(runtime, `select 1 from ${table}`), 0, `${table}: unbound again`);
    }
  });

  it("with organization A set, no table shows B's rows, and no row can be written as B's", async () => {
    await bound(runtime, a, async () => {
      for (const table of tables) {
        assert.ok((await count(runtime, `select 1 from ${table}`)) >= 1, `${table}: A sees its own rows`);
        const others = await count(runtime, `select 1 from ${table} where organization_id <> $1`, [a]);
        assert.equal(others, 0, `${table}: A sees nothing else`);

        // An insert naming B's organization, built from A's own row: refused by the policy (or by the grants).
        const insert = await refusal(
          runtime,
          `insert into ${table} select * from json_populate_record(null::${table},
             (select (to_jsonb(r) || jsonb_build_object('organization_id', $1::uuid))::json from ${table} r limit 1))`,
          [b],
        );
        assert.equal(insert?.code, '42501', `${table}: insert as B refused (${insert?.message ?? 'it succeeded'})`);
        assert.match(present(insert, 'a refusal').message, /row-level security/, table);

        // B's rows are invisible to updates and deletes; moving A's row to B is refused.
        const touch = `update ${table} set organization_id = organization_id where organization_id = $1`;
        const update = await refusal(runtime, touch, [b]);
        if (update) assert.equal(update.code, '42501', `${table}: ${update.message}`);
        const move = `update ${table} set organization_id = $1 where organization_id = $2`;
        const moved = await refusal(runtime, move, [b, a]);
        assert.equal(moved?.code, '42501', `${table}: moving A's row to B refused (${moved?.message ?? 'done'})`);
        const removed = await refusal(runtime, `delete from ${table} where organization_id = $1`, [b]);
        if (removed) assert.equal(removed.code, '42501', `${table}: ${removed.message}`);
      }
    });
    for (const table of tables) {
      const left = await count(observer, `select 1 from ${table} where organization_id = $1`, [b]);
      assert.ok(left >= 1, `${table}: B's rows are still there`);
    }
  });

  it('the runtime role may only select and insert the ledger: grants refuse update, delete and truncate', async () => {
    await bound(runtime, a, async () => {
      const writes = [
        'update stock_movement set actor = actor',
        'delete from stock_movement',
        'truncate stock_movement',
      ];
      for (const statement of writes) {
        const refused = await refusal(runtime, statement);
        assert.equal(refused?.code, '42501', `${statement}: ${refused?.message ?? 'it succeeded'}`);
        assert.match(
          present(refused, 'a refusal').message,
          /permission denied/,
          'the grants refuse it, before the append-only trigger',
        );
      }
    });
    const { rows } = await observer.query<{ privilege: string }>(
      `select privilege_type as privilege from information_schema.role_table_grants
       where grantee = $1 and table_name = 'stock_movement' order by 1`,
      [databaseRoles.runtime],
    );
    assert.deepEqual(
      rows.map((r) => r.privilege),
      ['INSERT', 'SELECT'],
    );
  });

  it('the runtime role is not superuser, not BYPASSRLS and owns nothing; the owner role owns every table', async () => {
    const { rows } = await runtime.query<{ role: string; superuser: boolean; bypass: boolean; owned: number }>(
      `select current_user as role, r.rolsuper as superuser, r.rolbypassrls as bypass,
              (select count(*)::int from pg_class c where c.relowner = r.oid) as owned
       from pg_roles r where r.rolname = current_user`,
    );
    assert.deepEqual(rows[0], { role: databaseRoles.runtime, superuser: false, bypass: false, owned: 0 });
    const owners = await observer.query<{ owner: string }>(
      'select distinct tableowner as owner from pg_tables where schemaname = current_schema()',
    );
    assert.deepEqual(
      owners.rows.map((r) => r.owner),
      [databaseRoles.owner],
    );
  });

  it("the system role reads and marks every organization's outbox, and of stock reads only who has some", async () => {
    const organizations = (table: string) =>
      count(system, `select distinct organization_id from ${table} where organization_id in ($1, $2)`, [a, b]);
    assert.equal(await organizations('outbox_event'), 2);
    assert.equal(await organizations('stock'), 2);
    await system.query('begin');
    try {
      const mark = 'update outbox_event set published_at = clock_timestamp() where organization_id in ($1, $2)';
      const marked = await system.query(mark, [a, b]);
      assert.equal(marked.rowCount, 2);
      for (const statement of [
        'select available from stock',
        'select * from stock',
        'select * from reservation',
        'select response_body from idempotency_key',
        'select * from stock_movement',
        "update outbox_event set payload = '{}'",
        'insert into stock_movement select * from stock_movement where false',
      ]) {
        const refused = await refusal(system, statement);
        assert.equal(refused?.code, '42501', `${statement}: ${refused?.message ?? 'it succeeded'}`);
      }
    } finally {
      await system.query('rollback');
    }
    const { rows } = await system.query<{ bypass: boolean; superuser: boolean }>(
      'select rolbypassrls as bypass, rolsuper as superuser from pg_roles where rolname = current_user',
    );
    assert.deepEqual(rows[0], { bypass: true, superuser: false });
  });
});
