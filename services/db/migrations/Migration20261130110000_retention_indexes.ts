import { Migration } from '@mikro-orm/migrations';

/** Retention deletes idempotency keys and inbox rows by age, in batches: an index each, so a batch reads only what it deletes. */
export class Migration20261130110000_retention_indexes extends Migration {
  override name = 'Migration20261130110000_retention_indexes';

  override up(): void | Promise<void> {
    this.addSql(`create index "idempotency_key_created_index" on "idempotency_key" ("created_at");`);
    this.addSql(`create index "inbox_event_received_index" on "inbox_event" ("received_at");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index if exists "inbox_event_received_index";`);
    this.addSql(`drop index if exists "idempotency_key_created_index";`);
  }
}
