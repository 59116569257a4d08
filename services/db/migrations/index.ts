import { Migration20261124025530_initial } from './Migration20261124025530_initial.ts';
import { Migration20261124032134_reservation } from './Migration20261124032134_reservation.ts';
import { Migration20261124040458_idempotency_key } from './Migration20261124040458_idempotency_key.ts';
import { Migration20261124040616_transfer } from './Migration20261124040616_transfer.ts';
import { Migration20261124041245_location } from './Migration20261124041245_location.ts';
import { Migration20261124043045_inbox_event } from './Migration20261124043045_inbox_event.ts';
import { Migration20261124043840_stock_archived } from './Migration20261124043840_stock_archived.ts';
import { Migration20261125063628_reconciliation } from './Migration20261125063628_reconciliation.ts';
import { Migration20261130080000_inbox_source } from './Migration20261130080000_inbox_source.ts';
import { Migration20261130090000_organization_keys } from './Migration20261130090000_organization_keys.ts';
import { Migration20261130103000_limits } from './Migration20261130103000_limits.ts';
import { Migration20261130110000_retention_indexes } from './Migration20261130110000_retention_indexes.ts';
import { Migration20261130120000_movement_columns } from './Migration20261130120000_movement_columns.ts';
import { Migration20261130130000_row_level_security } from './Migration20261130130000_row_level_security.ts';
import { Migration20261130140000_open_holds } from './Migration20261130140000_open_holds.ts';
import { Migration20261130150000_outbox_trace_context } from './Migration20261130150000_outbox_trace_context.ts';
import { Migration20261130160000_availability_read } from './Migration20261130160000_availability_read.ts';
import { Migration20261130173214_reconciliation_ledger_index } from './Migration20261130173214_reconciliation_ledger_index.ts';

/** The committed migrations, oldest first. A new one is written by `npm run migration:create -- <name>`. */
export const migrations = [
  Migration20261124025530_initial,
  Migration20261124032134_reservation,
  Migration20261124040458_idempotency_key,
  Migration20261124040616_transfer,
  Migration20261124041245_location,
  Migration20261124043045_inbox_event,
  Migration20261124043840_stock_archived,
  Migration20261125063628_reconciliation,
  Migration20261130080000_inbox_source,
  Migration20261130090000_organization_keys,
  Migration20261130103000_limits,
  Migration20261130110000_retention_indexes,
  Migration20261130120000_movement_columns,
  // Grants on every table that existed then and enables row-level security on each with organization_id; a later
  // migration adding a table adds its own (npm run migration:create writes the policy from the entities).
  Migration20261130130000_row_level_security,
  Migration20261130140000_open_holds,
  Migration20261130150000_outbox_trace_context,
  Migration20261130160000_availability_read,
  Migration20261130173214_reconciliation_ledger_index,
];
