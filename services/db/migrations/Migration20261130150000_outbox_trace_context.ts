import { Migration } from '@mikro-orm/migrations';

/**
 * An outbox row keeps the W3C trace context (traceparent, tracestate) of the transaction that wrote it, which the
 * relay sends on as message headers (README, Traces); null for rows written outside a trace and for every row
 * before this migration. No grant is needed: the runtime role's INSERT and the system role's SELECT on
 * outbox_event are table-wide, so they cover the new column (and the runtime role still may not update it).
 */
export class Migration20261130150000_outbox_trace_context extends Migration {
  override name = 'Migration20261130150000_outbox_trace_context';

  override up(): void | Promise<void> {
    this.addSql(`alter table "outbox_event" add "trace_context" jsonb null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "outbox_event" drop column "trace_context";`);
  }
}
