import { Migration } from '@mikro-orm/migrations';

/**
 * The open holds of every organization, counted at each metrics scrape (inventory_holds_open,
 * inventory_holds_past_expiry): an index led by the status keeps that count to the open rows however many closed
 * reservations the table keeps, and the system role, which does the cross-organization reads, may now
 * read when a hold expires (it could read only its organization, order and status).
 */
export class Migration20261130140000_open_holds extends Migration {
  override name = 'Migration20261130140000_open_holds';

  override up(): void | Promise<void> {
    this.addSql(`create index "reservation_open_index" on "reservation" ("status", "expires_at");`);
    this.addSql('grant select (expires_at) on reservation to inventory_system;');
  }

  override down(): void | Promise<void> {
    this.addSql('revoke select (expires_at) on reservation from inventory_system;');
    this.addSql('drop index if exists "reservation_open_index";');
  }
}
