import { Migration } from '@mikro-orm/migrations';

export class Migration20261124032134_reservation extends Migration {
  override name = 'Migration20261124032134_reservation';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "reservation" ("id" uuid not null, "organization_id" uuid not null, "order_id" varchar(200) not null, "status" varchar(16) not null, "items" jsonb not null, "preferred_warehouse_id" uuid null, "allocations" jsonb not null, "request_fingerprint" varchar(64) not null, "expires_at" timestamptz null, "release_reason" text null, "failure" jsonb null, "transitions" jsonb not null, "workflow_id" varchar(300) not null, "workflow_run_id" varchar(64) not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `create index "reservation_status_expiry_index" on "reservation" ("organization_id", "status", "expires_at");`,
    );
    this.addSql(
      `alter table "reservation" add constraint "reservation_organization_order_unique" unique ("organization_id", "order_id");`,
    );

    this.addSql(
      `alter table "reservation" add constraint "reservation_status_known" check (status in ('active', 'confirmed', 'released', 'expired', 'fulfilled', 'failed'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "reservation" cascade;`);
  }
}
