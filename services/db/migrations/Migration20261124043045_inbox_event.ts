import { Migration } from '@mikro-orm/migrations';

export class Migration20261124043045_inbox_event extends Migration {
  override name = 'Migration20261124043045_inbox_event';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "inbox_event" ("event_id" varchar(200) not null, "name" varchar(100) not null, "organization_id" uuid null, "outcome" varchar(64) not null, "received_at" timestamptz not null default now(), primary key ("event_id"));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "inbox_event" cascade;`);
  }
}
