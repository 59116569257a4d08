import { Migration } from '@mikro-orm/migrations';

export class Migration20261130103000_limits extends Migration {
  override name = 'Migration20261130103000_limits';

  override up(): void | Promise<void> {
    // The shared rate limiter's counters, in rate-limiter-flexible's RateLimiterPostgres layout (the service
    // passes tableCreated: true, so the library never creates or alters it).
    this.addSql(
      `create table "rate_limit" ("key" varchar(255) not null, "points" int not null default 0, "expire" bigint null, primary key ("key"));`,
    );

    // The customer an order's hold is for, written by ReserveStock before the hold starts (customer quota).
    this.addSql(
      `create table "customer_hold" ("organization_id" uuid not null, "order_id" varchar(200) not null, "customer_id" varchar(200) not null, "created_at" timestamptz not null default now(), primary key ("organization_id", "order_id"));`,
    );
    this.addSql(`create index "customer_hold_customer_index" on "customer_hold" ("organization_id", "customer_id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "customer_hold" cascade;`);
    this.addSql(`drop table if exists "rate_limit" cascade;`);
  }
}
