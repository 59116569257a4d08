import { Migration } from '@mikro-orm/migrations';

export class Migration20261124041245_location extends Migration {
  override name = 'Migration20261124041245_location';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "location" ("id" uuid not null default gen_random_uuid(), "organization_id" uuid not null, "warehouse_id" uuid not null, "code" varchar(64) not null, "name" varchar(200) not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `alter table "location" add constraint "location_warehouse_code_unique" unique ("organization_id", "warehouse_id", "code");`,
    );

    this.addSql(`alter table "stock_movement" add "location_id" uuid null;`);
    this.addSql(`create index "stock_movement_location_index" on "stock_movement" ("organization_id", "location_id");`);

    this.addSql(
      `alter table "location" add constraint "location_warehouse_id_foreign" foreign key ("warehouse_id") references "warehouse" ("id") on delete restrict;`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "location" cascade;`);

    this.addSql(`drop index "stock_movement_location_index";`);
    this.addSql(`alter table "stock_movement" drop column "location_id";`);
  }
}
