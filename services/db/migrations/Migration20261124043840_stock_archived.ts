import { Migration } from '@mikro-orm/migrations';

export class Migration20261124043840_stock_archived extends Migration {
  override name = 'Migration20261124043840_stock_archived';

  override up(): void | Promise<void> {
    this.addSql(`alter table "stock" add "archived_at" timestamptz null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "stock" drop column "archived_at";`);
  }
}
