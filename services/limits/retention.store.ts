import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Retention's deletes (hand-written SQL: bounded batch deletes by age that MikroORM's QueryBuilder cannot
 * express with a limit). They span every organization and run as the system role, whose grants on these
 * tables are DELETE and SELECT of the key and age columns only (Migration20261130130000_row_level_security).
 */
/** What retention prunes; each kind keeps rows younger than its own period. */
export type RetentionTarget = 'idempotency_key' | 'inbox_event' | 'outbox_event' | 'customer_hold';

// Each statement deletes at most `limit` rows older than `seconds`, oldest first where an index allows. Rows
// are picked by primary key and the age is checked again by the delete itself, so a row renewed in between is
// kept. Primary keys rather than ctid: the system role may read only these keys and the age columns (a ctid
// read needs the whole row's SELECT), never an idempotent response, an event's outcome or a customer.
const statements: Record<RetentionTarget, string> = {
  // A key older than this is forgotten: the same key again is a new request.
  idempotency_key: `delete from idempotency_key where created_at < now() - make_interval(secs => ?)
      and (organization_id, key) in (
      select organization_id, key from idempotency_key where created_at < now() - make_interval(secs => ?) limit ?)`,
  // An event redelivered after its inbox row is gone would be applied again: keep rows far longer than any redelivery.
  inbox_event: `delete from inbox_event where received_at < now() - make_interval(secs => ?)
      and (source, organization_id, event_id) in (
      select source, organization_id, event_id from inbox_event
      where received_at < now() - make_interval(secs => ?) limit ?)`,
  // Only rows the relay has published; an unpublished event is never pruned, however old.
  outbox_event: `delete from outbox_event where published_at < now() - make_interval(secs => ?) and id in (
      select id from outbox_event where published_at is not null and published_at < now() - make_interval(secs => ?)
      order by sequence limit ?)`,
  // A customer's row counts only while the order's reservation is open; once it is not, the row is history.
  customer_hold: `delete from customer_hold where created_at < now() - make_interval(secs => ?)
      and (organization_id, order_id) in (
      select c.organization_id, c.order_id from customer_hold c
      where c.created_at < now() - make_interval(secs => ?)
        and not exists (select 1 from reservation r
          where r.organization_id = c.organization_id and r.order_id = c.order_id
            and r.status in ('active', 'confirmed'))
      limit ?)`,
};

/**
 * Deletes up to `limit` rows of `target` older than `olderThanSeconds` (by the database's clock) and
 * returns how many it deleted: fewer than `limit` means none that old is left. One short statement,
 * across every organization; safe to repeat. `em` is the system role's (DATABASE_SYSTEM_URL): as the
 * runtime role, row-level security would leave it nothing to delete.
 */
export async function pruneOldRows(
  em: EntityManager,
  target: RetentionTarget,
  olderThanSeconds: number,
  limit: number,
): Promise<number> {
  const params = [olderThanSeconds, olderThanSeconds, limit];
  const result = await em.execute<{ affectedRows: number }>(statements[target], params, 'run');
  return result.affectedRows;
}
