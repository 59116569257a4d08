import { Migration } from '@mikro-orm/migrations';

export class Migration20261124040616_transfer extends Migration {
  override name = 'Migration20261124040616_transfer';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "transfer" ("id" uuid not null, "organization_id" uuid not null, "origin_warehouse_id" uuid not null, "destination_warehouse_id" uuid not null, "status" varchar(32) not null, "lines" jsonb not null, "notes" text null, "ship_by" timestamptz null, "reason" text null, "transitions" jsonb not null, "workflow_id" varchar(300) not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "transfer_status_index" on "transfer" ("organization_id", "status", "created_at");`);
    this.addSql(`create index "transfer_origin_index" on "transfer" ("organization_id", "origin_warehouse_id");`);
    this.addSql(
      `create index "transfer_destination_index" on "transfer" ("organization_id", "destination_warehouse_id");`,
    );

    this.addSql(
      `alter table "transfer" add constraint "transfer_status_known" check (status in ('reserved', 'in_transit', 'completed', 'completed_with_discrepancy', 'cancelled', 'compensated'));`,
    );
    this.addSql(
      `alter table "transfer" add constraint "transfer_between_two_warehouses" check (origin_warehouse_id <> destination_warehouse_id);`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "transfer" cascade;`);
  }
}
