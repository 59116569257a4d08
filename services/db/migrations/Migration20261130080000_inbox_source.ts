import { Migration } from '@mikro-orm/migrations';

export class Migration20261130080000_inbox_source extends Migration {
  override name = 'Migration20261130080000_inbox_source';

  override up(): void | Promise<void> {
    this.addSql(`alter table "inbox_event" add "source" varchar(32) null;`);
    // Until now a source's events were named after it, so the name says where a row came from.
    this.addSql(
      `update "inbox_event" set "source" = case split_part("name", '.', 1) when 'purchase_order' then 'purchasing' else split_part("name", '.', 1) end;`,
    );
    // Never written (a handler records only an event it parsed, organization included); the nil uuid keeps such a row as a duplicate guard all the same.
    this.addSql(
      `update "inbox_event" set "organization_id" = '00000000-0000-0000-0000-000000000000' where "organization_id" is null;`,
    );
    this.addSql(
      `alter table "inbox_event" alter column "source" set not null, alter column "organization_id" set not null;`,
    );
    this.addSql(`alter table "inbox_event" drop constraint "inbox_event_pkey";`);
    this.addSql(`alter table "inbox_event" add primary key ("source", "organization_id", "event_id");`);

    this.addSql(
      `create table "consumer_attempt" ("source" varchar(32) not null, "organization_id" uuid not null, "event_id" varchar(200) not null, "attempts" int not null default 0, "fingerprint" varchar(64) not null, "last_error" text null, "updated_at" timestamptz not null default now(), primary key ("source", "organization_id", "event_id"));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "consumer_attempt" cascade;`);

    // The narrower key may meet one event id twice (two sources or organizations): the first received stays.
    this.addSql(
      `delete from "inbox_event" a using "inbox_event" b where a."event_id" = b."event_id" and (a."received_at", a."source", a."organization_id") > (b."received_at", b."source", b."organization_id");`,
    );
    this.addSql(`alter table "inbox_event" drop constraint "inbox_event_pkey";`);
    this.addSql(`alter table "inbox_event" drop column "source";`);
    this.addSql(`alter table "inbox_event" alter column "organization_id" drop not null;`);
    this.addSql(`alter table "inbox_event" add primary key ("event_id");`);
  }
}
