import { Migration } from '@mikro-orm/migrations';

/**
 * The ledger's (organization, variant, warehouse, created_at) index carries the six deltas as well (INCLUDE), so
 * reconciliation sums a key range of stock rows from the index alone, already grouped by row: one index-only range
 * scan per chunk instead of a sort or random heap reads (README, Reconciliation). It replaces the index of the same
 * key rather than adding one, so a ledger write still updates as many indexes. The new one is built before the old
 * one goes, so a row's history never loses its index; the build holds writes to stock_movement while it runs
 * (about a second per 500 000 movements on this machine): on a large ledger, run it in a quiet hour.
 */
export class Migration20261130173214_reconciliation_ledger_index extends Migration {
  override name = 'Migration20261130173214_reconciliation_ledger_index';

  override up(): void | Promise<void> {
    this.addSql(`create index "stock_movement_variant_ledger_index" on "stock_movement"
      ("organization_id", "variant_id", "warehouse_id", "created_at")
      include ("total_delta", "available_delta", "reserved_delta", "damaged_delta", "in_transit_delta", "incoming_delta");`);
    this.addSql(`drop index "stock_movement_variant_history_index";`);
  }

  override down(): void | Promise<void> {
    this.addSql(`create index "stock_movement_variant_history_index" on "stock_movement"
      ("organization_id", "variant_id", "warehouse_id", "created_at");`);
    this.addSql(`drop index "stock_movement_variant_ledger_index";`);
  }
}
