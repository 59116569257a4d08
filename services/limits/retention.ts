import type { EntityManager } from '@mikro-orm/postgresql';

/** What retention prunes; each kind keeps rows younger than its own period. */
export type RetentionTarget = 'idempotency_key' | 'inbox_event' | 'outbox_event' | 'customer_hold';

// Each statement deletes at most `limit` rows older than `seconds`, oldest first where an index allows.
// A row changed between the inner select and the delete (a new ctid) is simply left for the next run.
const statements: Record<RetentionTarget, string> = {
  // A key older than this is forgotten: the same key again is a new request.
  idempotency_key: `delete from idempotency_key where ctid = any(array(
      select ctid from idempotency_key where created_at < now() - make_interval(secs => ?) limit ?))`,
  // An event redelivered after its inbox row is gone would be applied again: keep rows far longer than any redelivery.
  inbox_event: `delete from inbox_event where ctid = any(array(
      select ctid from inbox_event where received_at < now() - make_interval(secs => ?) limit ?))`,
  // Only rows the relay has published; an unpublished event is never pruned, however old.
  outbox_event: `delete from outbox_event where id in (
      select id from outbox_event where published_at is not null and published_at < now() - make_interval(secs => ?) order by sequence limit ?)`,
  // A customer's row counts only while the order's reservation is open; once it is not, the row is history.
  customer_hold: `delete from customer_hold where ctid = any(array(
      select c.ctid from customer_hold c
      where c.created_at < now() - make_interval(secs => ?)
        and not exists (select 1 from reservation r where r.organization_id = c.organization_id and r.order_id = c.order_id and r.status in ('active', 'confirmed'))
      limit ?))`,
};

/**
 * Deletes up to `limit` rows of `target` older than `olderThanSeconds` (by the database's clock) and
 * returns how many it deleted: fewer than `limit` means none that old is left. One short statement,
 * across every organization; safe to repeat.
 */
export async function pruneOldRows(em: EntityManager, target: RetentionTarget, olderThanSeconds: number, limit: number): Promise<number> {
  const result = await em.execute<{ affectedRows: number }>(statements[target], [olderThanSeconds, limit], 'run');
  return result.affectedRows;
}
