import { Migration } from '@mikro-orm/migrations';

export class Migration20261124040458_idempotency_key extends Migration {
  override name = 'Migration20261124040458_idempotency_key';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "idempotency_key" ("organization_id" uuid not null, "key" varchar(200) not null, "request_hash" varchar(64) not null, "state" varchar(16) not null, "response_status" int null, "response_body" jsonb null, "created_at" timestamptz not null default now(), "completed_at" timestamptz null, primary key ("organization_id", "key"));`,
    );

    this.addSql(
      `alter table "idempotency_key" add constraint "idempotency_key_state_known" check (state in ('in_flight', 'completed'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "idempotency_key" cascade;`);
  }
}
