import { Migration } from '@mikro-orm/migrations';

// Fixed names (services/db/roles.ts): the bootstrap creates them before any migration runs.
const owner = 'inventory_owner';
const runtime = 'inventory_runtime';
const system = 'inventory_system';

// The organization a transaction is bound to (OrganizationScope.transaction sets it with is_local); NULL
// when unbound. An emptied setting (after a bound transaction ended on the same pooled session) is '',
// which must also mean "none", not a cast error. The entities declare the same policy
// (organizationIsolation in services/db/orm.ts), so that the schema diff knows it.
const boundOrganization = `nullif(current_setting('app.organization_id', true), '')::uuid`;
// The same, inside the quoted text of a `format(…)` in a DO block.
const quotedBound = boundOrganization.replaceAll("'", "''");

/**
 * Tenancy held by PostgreSQL (README, Security model):
 * - every table with an `organization_id` gets row-level security, ENABLEd and FORCEd (so the owner is held
 *   too), with one policy: a row is seen and written only by a transaction bound to its organization;
 *   unbound, nothing is seen and nothing can be written;
 * - the runtime role gets SELECT, INSERT, UPDATE on the tables, DELETE only where the service deletes, and
 *   on the ledger (stock_movement) only SELECT and INSERT: the grants, not only the trigger, keep it
 *   append-only (no UPDATE, DELETE or TRUNCATE). The outbox is written by the runtime role and published by
 *   the system role: the runtime role may not mark or delete events;
 * - the system role (BYPASSRLS) gets exactly what the cross-organization work reads and writes, down to
 *   the columns: the relay's outbox reads and marks, retention's deletes, the list of organizations with
 *   stock. It cannot read a stock level, a reservation's lines or an idempotent response;
 * - every table belongs to the owner role; tables the owner creates later give the runtime role the same
 *   SELECT, INSERT, UPDATE by default (their migration enables row-level security: a test checks every one).
 */
export class Migration20261130130000_row_level_security extends Migration {
  override name = 'Migration20261130130000_row_level_security';

  override up(): void | Promise<void> {
    // Tables created by a superuser (before the roles existed) become the owner's; run by the owner, this
    // finds nothing to change (the bootstrap has already handed them over).
    this.addSql(`do $$
declare
  item record;
begin
  for item in select tablename from pg_tables where schemaname = current_schema() and tableowner <> '${owner}' loop
    execute format('alter table %I owner to ${owner}', item.tablename);
  end loop;
end $$;`);

    this.addSql(`do $$
declare
  item record;
begin
  for item in
    select c.table_name from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema = current_schema() and c.column_name = 'organization_id' and t.table_type = 'BASE TABLE'
  loop
    execute format('alter table %I enable row level security', item.table_name);
    execute format('alter table %I force row level security', item.table_name);
    execute format('drop policy if exists organization_isolation on %I', item.table_name);
    execute format('create policy organization_isolation on %I
      using (organization_id = ${quotedBound}) with check (organization_id = ${quotedBound})', item.table_name);
  end loop;
end $$;`);

    this.addSql(`grant usage on schema public to ${runtime}, ${system};`);

    this.addSql(`grant select, insert, update on all tables in schema public to ${runtime};`);
    this.addSql(`revoke update on stock_movement, outbox_event from ${runtime};`);
    this.addSql(`revoke all on schema_migration from ${runtime};`);
    // Where the service deletes: a failed request's idempotency key, an empty bin, the rate limiter's old windows.
    this.addSql(`grant delete on idempotency_key, location, rate_limit to ${runtime};`);
    this.addSql(`grant usage, select on all sequences in schema public to ${runtime};`);

    this.addSql(`grant select, delete on outbox_event to ${system};`);
    this.addSql(`grant update (published_at) on outbox_event to ${system};`);
    this.addSql(`grant select (organization_id) on stock to ${system};`);
    this.addSql(`grant select (organization_id, key, created_at), delete on idempotency_key to ${system};`);
    this.addSql(`grant select (source, organization_id, event_id, received_at), delete on inbox_event to ${system};`);
    this.addSql(`grant select (organization_id, order_id, created_at), delete on customer_hold to ${system};`);
    this.addSql(`grant select (organization_id, order_id, status) on reservation to ${system};`);

    const futureObjects = `alter default privileges for role ${owner} in schema public`;
    this.addSql(`${futureObjects} grant select, insert, update on tables to ${runtime};`);
    this.addSql(`${futureObjects} grant usage, select on sequences to ${runtime};`);
  }

  override down(): void | Promise<void> {
    const futureObjects = `alter default privileges for role ${owner} in schema public`;
    this.addSql(`${futureObjects} revoke usage, select on sequences from ${runtime};`);
    this.addSql(`${futureObjects} revoke select, insert, update on tables from ${runtime};`);
    this.addSql(`revoke all on all tables in schema public from ${system};`);
    this.addSql(`revoke all on all tables in schema public from ${runtime};`);
    this.addSql(`revoke all on all sequences in schema public from ${runtime};`);
    this.addSql(`revoke usage on schema public from ${runtime}, ${system};`);
    this.addSql(`do $$
declare
  item record;
begin
  for item in select tablename from pg_policies
    where schemaname = current_schema() and policyname = 'organization_isolation'
  loop
    execute format('drop policy organization_isolation on %I', item.tablename);
    execute format('alter table %I no force row level security', item.tablename);
    execute format('alter table %I disable row level security', item.tablename);
  end loop;
end $$;`);
  }
}
