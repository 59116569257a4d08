import { Migration } from '@mikro-orm/migrations';

export class Migration20261124025530_initial extends Migration {
  override name = 'Migration20261124025530_initial';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "outbox_event" ("id" uuid not null, "sequence" bigserial, "organization_id" uuid not null, "name" varchar(100) not null, "aggregate_type" varchar(32) not null, "aggregate_id" varchar(200) not null, "payload" jsonb not null, "created_at" timestamptz not null default clock_timestamp(), "published_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(`alter table "outbox_event" add constraint "outbox_event_sequence_unique" unique ("sequence");`);
    this.addSql(
      `create index "outbox_event_unpublished_index" on "outbox_event" ("sequence") where "published_at" is null;`,
    );

    this.addSql(
      `create table "stock_movement" ("id" uuid not null default gen_random_uuid(), "organization_id" uuid not null, "stock_id" uuid not null, "variant_id" uuid not null, "warehouse_id" uuid not null, "type" varchar(32) not null, "total_delta" int not null, "available_delta" int not null, "reserved_delta" int not null, "damaged_delta" int not null, "in_transit_delta" int not null, "incoming_delta" int not null, "total_after" int not null, "available_after" int not null, "reserved_after" int not null, "damaged_after" int not null, "in_transit_after" int not null, "incoming_after" int not null, "reason" text null, "reference_type" varchar(32) null, "reference_id" varchar(200) null, "actor" varchar(200) not null, "workflow_id" varchar(300) null, "workflow_run_id" varchar(64) null, "operation_key" varchar(400) not null, "created_at" timestamptz not null default clock_timestamp(), primary key ("id"));`,
    );
    this.addSql(
      `create index "stock_movement_variant_history_index" on "stock_movement" ("organization_id", "variant_id", "warehouse_id", "created_at");`,
    );
    this.addSql(
      `create index "stock_movement_reference_index" on "stock_movement" ("organization_id", "reference_type", "reference_id");`,
    );
    this.addSql(`create index "stock_movement_created_index" on "stock_movement" ("organization_id", "created_at");`);
    this.addSql(
      `alter table "stock_movement" add constraint "stock_movement_operation_key_unique" unique ("organization_id", "operation_key");`,
    );

    this.addSql(
      `create table "warehouse" ("id" uuid not null default gen_random_uuid(), "organization_id" uuid not null, "code" varchar(32) not null, "name" varchar(200) not null, "region" varchar(64) not null, "active" boolean not null default true, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "warehouse_organization_id_index" on "warehouse" ("organization_id");`);
    this.addSql(
      `alter table "warehouse" add constraint "warehouse_organization_code_unique" unique ("organization_id", "code");`,
    );

    this.addSql(
      `create table "stock" ("id" uuid not null default gen_random_uuid(), "organization_id" uuid not null, "variant_id" uuid not null, "warehouse_id" uuid not null, "total" int not null default 0, "available" int not null default 0, "reserved" int not null default 0, "damaged" int not null default 0, "in_transit" int not null default 0, "incoming" int not null default 0, "min_stock" int not null default 0, "max_stock" int not null default 0, "reorder_point" int not null default 0, "version" int not null default 1, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "stock_organization_warehouse_index" on "stock" ("organization_id", "warehouse_id");`);
    this.addSql(
      `alter table "stock" add constraint "stock_organization_variant_warehouse_unique" unique ("organization_id", "variant_id", "warehouse_id");`,
    );

    this.addSql(
      `create or replace function "stock_movement_stock_movement_append_only_fn"() returns trigger as $$ begin raise exception 'stock_movement is append-only: % refused', tg_op using errcode = 'restrict_violation'; end; $$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "stock_movement_append_only" BEFORE UPDATE OR DELETE on "stock_movement" for each ROW execute function "stock_movement_stock_movement_append_only_fn"();`,
    );

    this.addSql(
      `alter table "stock" add constraint "stock_warehouse_id_foreign" foreign key ("warehouse_id") references "warehouse" ("id") on delete restrict;`,
    );
    this.addSql(
      `alter table "stock" add constraint "stock_quantities_non_negative" check (total >= 0 and available >= 0 and reserved >= 0 and damaged >= 0 and in_transit >= 0 and incoming >= 0);`,
    );
    this.addSql(
      `alter table "stock" add constraint "stock_total_is_sum_of_parts" check (total = available + reserved + damaged + in_transit);`,
    );
    this.addSql(
      `alter table "stock" add constraint "stock_thresholds_non_negative" check (min_stock >= 0 and max_stock >= 0 and reorder_point >= 0);`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "stock" drop constraint "stock_warehouse_id_foreign";`);

    this.addSql(`drop table if exists "outbox_event" cascade;`);
    this.addSql(`drop trigger if exists "stock_movement_append_only" on "stock_movement";`);
    this.addSql(`drop function if exists "stock_movement_stock_movement_append_only_fn"();`);
    this.addSql(`drop table if exists "stock_movement" cascade;`);
    this.addSql(`drop table if exists "warehouse" cascade;`);
    this.addSql(`drop table if exists "stock" cascade;`);
  }
}
