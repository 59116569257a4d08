import { Migration } from '@mikro-orm/migrations';

// Fixed name (services/db/roles.ts).
const runtime = 'inventory_runtime';

/**
 * CheckAvailability's read as one statement (README, Security model): `available_in_active_warehouses`
 * binds the organization and then reads, so a call is one round trip instead of BEGIN, set_config, the
 * query and COMMIT. It keeps every guarantee of a bound transaction:
 * - SECURITY INVOKER: it runs as its caller, the runtime role, so row-level security holds its queries as
 *   it holds any other (bound to the organization it was given, it sees no other organization's rows);
 * - plpgsql runs its statements in order, so the binding is in place before the queries run (a CTE or an
 *   SQL function gives no such order between `set_config` and the policy's `current_setting`);
 * - the binding is `set_config(…, true)`, local to the transaction, and the function puts back what it
 *   found before it returns: called alone (the implicit transaction of one statement), nothing is left on
 *   the pooled connection; called inside a bound transaction, that transaction stays bound as it was.
 * An unknown preferred warehouse (or another organization's, which is none) raises SQLSTATE IW404, which
 * the store turns into WarehouseNotFoundError; the warehouse may be inactive, as before.
 * Only the runtime role may execute it (functions are PUBLIC's by default).
 */
export class Migration20261130160000_availability_read extends Migration {
  override name = 'Migration20261130160000_availability_read';

  override up(): void | Promise<void> {
    this.addSql(`create function available_in_active_warehouses(
  organization uuid, variant_ids uuid[], preferred_warehouse uuid default null
) returns table (variant_id uuid, warehouse_id uuid, available int)
language plpgsql volatile security invoker as $$
#variable_conflict use_column
declare
  previous text := current_setting('app.organization_id', true);
begin
  perform set_config('app.organization_id', organization::text, true);
  if preferred_warehouse is not null and not exists (
    select 1 from warehouse w where w.organization_id = organization and w.id = preferred_warehouse
  ) then
    raise exception 'warehouse % does not exist in this organization', preferred_warehouse
      using errcode = 'IW404';
  end if;
  return query
    select s.variant_id, s.warehouse_id, s.available from stock s
    join warehouse w on w.id = s.warehouse_id and w.organization_id = s.organization_id and w.active
    where s.organization_id = organization and s.variant_id = any (variant_ids) and s.archived_at is null
    order by s.variant_id, s.available desc, w.code;
  perform set_config('app.organization_id', coalesce(previous, ''), true);
end $$;`);
    this.addSql(`revoke all on function available_in_active_warehouses(uuid, uuid[], uuid) from public;`);
    this.addSql(`grant execute on function available_in_active_warehouses(uuid, uuid[], uuid) to ${runtime};`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop function available_in_active_warehouses(uuid, uuid[], uuid);`);
  }
}
