import { Migration } from '@mikro-orm/migrations';

/**
 * Fills the new columns of rows written before them: reservation movements take their reservation's order,
 * order movements (fulfilment, return) their reference, and adjustments are parsed from the joined text
 * `[reason_code, 'purchase order <id>'?, note].join(': ')` (read back, as before, by splitting on ': '),
 * leaving `reason` the operator's note alone. Only rows whose column is still empty are touched, so running
 * it again changes nothing. Exported for the test that checks it on rows in the old shape.
 */
export const movementColumnsBackfill = [
  `update "stock_movement" m set "order_id" = r."order_id" from "reservation" r
    where m."order_id" is null and m."reference_type" = 'reservation'
      and r."organization_id" = m."organization_id" and r."id"::text = m."reference_id";`,
  `update "stock_movement" set "order_id" = "reference_id" where "order_id" is null and "reference_type" = 'order';`,
  `with joined as (
      select id, split_part(reason, ': ', 1) as code,
        nullif(substr(reason, length(split_part(reason, ': ', 1)) + 3), '') as rest
      from "stock_movement" where "reference_type" = 'adjustment' and "reason_code" is null and "reason" is not null
    ), parsed as (
      select id, code,
        case when rest like 'purchase order %' then split_part(substr(rest, 16), ': ', 1) end as purchase_order_id,
        case when rest like 'purchase order %'
          then nullif(substr(rest, 16 + length(split_part(substr(rest, 16), ': ', 1)) + 2), '') else rest end as note
      from joined where code in ('cycle_count', 'receipt', 'damage', 'loss', 'found', 'return', 'correction')
    )
    update "stock_movement" m set "reason_code" = p.code, "purchase_order_id" = p.purchase_order_id, "reason" = p.note
    from parsed p where m.id = p.id;`,
];

/**
 * stock_movement names the order a change serves (so an order's stock history is one query) and keeps an
 * adjustment's reason code and purchase order in columns instead of text joined with ': '; existing rows
 * are backfilled (movementColumnsBackfill). The append-only trigger is set aside for the backfill only:
 * it guards the ledger against the application, not against the schema's own migration.
 */
export class Migration20261130120000_movement_columns extends Migration {
  override name = 'Migration20261130120000_movement_columns';

  override up(): void | Promise<void> {
    this.addSql(`alter table "stock_movement"
      add "reason_code" varchar(32) null, add "purchase_order_id" varchar(200) null, add "order_id" varchar(200) null;`);
    this.addSql(`create index "stock_movement_order_index"
      on "stock_movement" ("organization_id", "order_id", "created_at");`);
    this.addSql(`alter table "stock_movement" add constraint "stock_movement_reason_code_known"
      check (reason_code in ('cycle_count', 'receipt', 'damage', 'loss', 'found', 'return', 'correction'));`);
    this.addSql(`alter table "stock_movement" disable trigger "stock_movement_append_only";`);
    for (const statement of movementColumnsBackfill) this.addSql(statement);
    this.addSql(`alter table "stock_movement" enable trigger "stock_movement_append_only";`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "stock_movement" disable trigger "stock_movement_append_only";`);
    this.addSql(`update "stock_movement"
      set "reason" = concat_ws(': ', "reason_code", 'purchase order ' || "purchase_order_id", "reason")
      where "reason_code" is not null;`);
    this.addSql(`alter table "stock_movement" enable trigger "stock_movement_append_only";`);
    this.addSql(`drop index "stock_movement_order_index";`);
    this.addSql(`alter table "stock_movement" drop constraint "stock_movement_reason_code_known";`);
    this.addSql(`alter table "stock_movement"
      drop column "reason_code", drop column "purchase_order_id", drop column "order_id";`);
  }
}
