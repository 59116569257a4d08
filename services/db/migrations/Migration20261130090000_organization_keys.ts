import { Migration } from '@mikro-orm/migrations';

/**
 * Composite foreign keys that carry organization_id: a stock row, bin, movement or transfer can only
 * name a warehouse (bin, stock row) of its own organization, whatever the application code does.
 */
export class Migration20261130090000_organization_keys extends Migration {
  override name = 'Migration20261130090000_organization_keys';

  override up(): void | Promise<void> {
    // A row that already crosses organizations cannot be repaired here: which side is wrong is a
    // decision for a person, and the ledger refuses UPDATE and DELETE anyway. Stop with the counts
    // (the transaction rolls back whole) rather than let a constraint error name only the first row.
    this.addSql(`do $$
declare
  found text := '';
  n bigint;
begin
  select count(*) into n from "stock" s where not exists (select 1 from "warehouse" w where w.organization_id = s.organization_id and w.id = s.warehouse_id);
  if n > 0 then found := found || format(' %s stock rows naming a warehouse;', n); end if;
  select count(*) into n from "location" l where not exists (select 1 from "warehouse" w where w.organization_id = l.organization_id and w.id = l.warehouse_id);
  if n > 0 then found := found || format(' %s locations naming a warehouse;', n); end if;
  select count(*) into n from "transfer" t where not exists (select 1 from "warehouse" w where w.organization_id = t.organization_id and w.id = t.origin_warehouse_id)
    or not exists (select 1 from "warehouse" w where w.organization_id = t.organization_id and w.id = t.destination_warehouse_id);
  if n > 0 then found := found || format(' %s transfers naming a warehouse;', n); end if;
  select count(*) into n from "stock_movement" m where not exists (select 1 from "warehouse" w where w.organization_id = m.organization_id and w.id = m.warehouse_id);
  if n > 0 then found := found || format(' %s stock movements naming a warehouse;', n); end if;
  select count(*) into n from "stock_movement" m where not exists (select 1 from "stock" s where s.organization_id = m.organization_id and s.id = m.stock_id);
  if n > 0 then found := found || format(' %s stock movements naming a stock row;', n); end if;
  select count(*) into n from "stock_movement" m where m.location_id is not null
    and not exists (select 1 from "location" l where l.organization_id = m.organization_id and l.warehouse_id = m.warehouse_id and l.id = m.location_id);
  if n > 0 then found := found || format(' %s stock movements naming a location (of their warehouse);', n); end if;
  if found <> '' then
    raise exception 'organization keys: rows reference something outside their own organization, or that does not exist:%', found
      using hint = 'find them with the same NOT EXISTS queries as this migration, settle each by hand, then migrate again', errcode = 'foreign_key_violation';
  end if;
end $$;`);

    this.addSql(`alter table "stock" drop constraint "stock_warehouse_id_foreign";`);
    this.addSql(`alter table "location" drop constraint "location_warehouse_id_foreign";`);

    this.addSql(
      `alter table "warehouse" add constraint "warehouse_organization_id_unique" unique ("organization_id", "id");`,
    );
    this.addSql(`alter table "stock" add constraint "stock_organization_id_unique" unique ("organization_id", "id");`);
    this.addSql(
      `alter table "location" add constraint "location_organization_warehouse_id_unique" unique ("organization_id", "warehouse_id", "id");`,
    );

    this.addSql(
      `alter table "stock" add constraint "stock_warehouse_foreign" foreign key ("organization_id", "warehouse_id") references "warehouse" ("organization_id", "id") on delete restrict;`,
    );
    this.addSql(
      `alter table "location" add constraint "location_warehouse_foreign" foreign key ("organization_id", "warehouse_id") references "warehouse" ("organization_id", "id") on delete restrict;`,
    );
    this.addSql(
      `alter table "transfer" add constraint "transfer_origin_warehouse_foreign" foreign key ("organization_id", "origin_warehouse_id") references "warehouse" ("organization_id", "id") on delete restrict;`,
    );
    this.addSql(
      `alter table "transfer" add constraint "transfer_destination_warehouse_foreign" foreign key ("organization_id", "destination_warehouse_id") references "warehouse" ("organization_id", "id") on delete restrict;`,
    );
    // Adding a constraint only reads stock_movement (its append-only trigger fires on UPDATE and DELETE);
    // none of these keys cascades, so nothing can ever try to rewrite the ledger through them.
    this.addSql(
      `alter table "stock_movement" add constraint "stock_movement_stock_foreign" foreign key ("organization_id", "stock_id") references "stock" ("organization_id", "id") on delete restrict;`,
    );
    this.addSql(
      `alter table "stock_movement" add constraint "stock_movement_warehouse_foreign" foreign key ("organization_id", "warehouse_id") references "warehouse" ("organization_id", "id") on delete restrict;`,
    );
    this.addSql(
      `alter table "stock_movement" add constraint "stock_movement_location_foreign" foreign key ("organization_id", "warehouse_id", "location_id") references "location" ("organization_id", "warehouse_id", "id") on delete restrict;`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "stock_movement" drop constraint "stock_movement_location_foreign";`);
    this.addSql(`alter table "stock_movement" drop constraint "stock_movement_warehouse_foreign";`);
    this.addSql(`alter table "stock_movement" drop constraint "stock_movement_stock_foreign";`);
    this.addSql(`alter table "transfer" drop constraint "transfer_destination_warehouse_foreign";`);
    this.addSql(`alter table "transfer" drop constraint "transfer_origin_warehouse_foreign";`);
    this.addSql(`alter table "location" drop constraint "location_warehouse_foreign";`);
    this.addSql(`alter table "stock" drop constraint "stock_warehouse_foreign";`);

    this.addSql(`alter table "location" drop constraint "location_organization_warehouse_id_unique";`);
    this.addSql(`alter table "stock" drop constraint "stock_organization_id_unique";`);
    this.addSql(`alter table "warehouse" drop constraint "warehouse_organization_id_unique";`);

    this.addSql(
      `alter table "location" add constraint "location_warehouse_id_foreign" foreign key ("warehouse_id") references "warehouse" ("id") on delete restrict;`,
    );
    this.addSql(
      `alter table "stock" add constraint "stock_warehouse_id_foreign" foreign key ("warehouse_id") references "warehouse" ("id") on delete restrict;`,
    );
  }
}
