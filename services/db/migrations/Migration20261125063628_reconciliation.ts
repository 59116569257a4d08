import { Migration } from '@mikro-orm/migrations';

export class Migration20261125063628_reconciliation extends Migration {
  override name = 'Migration20261125063628_reconciliation';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "reconciliation" ("id" uuid not null, "organization_id" uuid not null, "trigger" varchar(16) not null, "repair" boolean not null, "status" varchar(16) not null, "rows_checked" int not null default 0, "drifted" int not null default 0, "repaired" int not null default 0, "requested_by" varchar(200) null, "failure" text null, "workflow_id" varchar(300) not null, "started_at" timestamptz not null default now(), "finished_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(`create index "reconciliation_started_index" on "reconciliation" ("organization_id", "started_at");`);

    this.addSql(
      `create table "stock_drift" ("id" uuid not null default gen_random_uuid(), "reconciliation_id" uuid not null, "organization_id" uuid not null, "stock_id" uuid not null, "variant_id" uuid not null, "warehouse_id" uuid not null, "recorded" jsonb not null, "expected" jsonb not null, "differences" jsonb not null, "repaired" boolean not null, "repair_note" text null, "detected_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "stock_drift_stock_index" on "stock_drift" ("organization_id", "stock_id");`);
    this.addSql(
      `alter table "stock_drift" add constraint "stock_drift_reconciliation_stock_unique" unique ("reconciliation_id", "stock_id");`,
    );

    this.addSql(
      `alter table "reconciliation" add constraint "reconciliation_status_known" check (status in ('running', 'completed', 'failed'));`,
    );
    this.addSql(
      `alter table "reconciliation" add constraint "reconciliation_trigger_known" check (trigger in ('schedule', 'request'));`,
    );

    this.addSql(
      `alter table "stock_drift" add constraint "stock_drift_reconciliation_id_foreign" foreign key ("reconciliation_id") references "reconciliation" ("id") on delete cascade;`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "stock_drift" drop constraint "stock_drift_reconciliation_id_foreign";`);

    this.addSql(`drop table if exists "reconciliation" cascade;`);
    this.addSql(`drop table if exists "stock_drift" cascade;`);
  }
}
