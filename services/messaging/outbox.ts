import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ScopedTransaction } from '../inventory/organization-scope.ts';
import type { OutboxRow } from './envelope.ts';

export interface OutboxDraft {
  name: string;
  aggregateType: string;
  aggregateId: string;
  data: Record<string, unknown>;
}

/** Queues an event for the relay inside the caller's transaction, so it is published iff that commits. Returns its event id. */
export async function enqueueEvent(tx: ScopedTransaction, event: OutboxDraft): Promise<string> {
  return insertOutboxEvent(tx.em, tx.organizationId, event);
}

/**
 * Queues an event at most once: `id` is derived from what makes the event unique (a name-based UUID, e.g. of
 * the reservation it reports), and a second call with the same id adds nothing. True when this call queued it.
 */
export async function enqueueEventOnce(tx: ScopedTransaction, id: string, event: OutboxDraft): Promise<boolean> {
  const rows = await tx.em.execute<{ id: string }[]>(
    `insert into outbox_event (id, organization_id, name, aggregate_type, aggregate_id, payload) values (?, ?, ?, ?, ?, ?)
     on conflict (id) do nothing returning id`,
    [id, tx.organizationId, event.name, event.aggregateType, event.aggregateId, JSON.stringify(event.data)],
  );
  return rows.length > 0;
}

/** @deprecated Transitional (issue #11): use enqueueEvent(tx, event). */
export async function insertOutboxEvent(em: EntityManager, organizationId: string, event: OutboxDraft): Promise<string> {
  const id = randomUUID();
  await em.execute(
    'insert into outbox_event (id, organization_id, name, aggregate_type, aggregate_id, payload) values (?, ?, ?, ?, ?, ?)',
    [id, organizationId, event.name, event.aggregateType, event.aggregateId, JSON.stringify(event.data)],
  );
  return id;
}

/**
 * Outbox reads and writes for the relay. They span every organization on purpose: the relay is the
 * one system process that publishes all tenants' events, so these are raw SQL outside the ORM's
 * organization filter.
 */

/** The oldest unpublished events, in sequence (commit) order. */
export function nextBatch(em: EntityManager, size: number): Promise<OutboxRow[]> {
  return em.execute<OutboxRow[]>(
    'select id, sequence, organization_id, name, payload, created_at from outbox_event where published_at is null order by sequence limit ?',
    [size],
  );
}

export async function markPublished(em: EntityManager, ids: string[]): Promise<void> {
  await em.execute('update outbox_event set published_at = clock_timestamp() where id in (?)', [ids]);
}

/** How many events wait to be published (all organizations). */
export async function pendingOutboxCount(em: EntityManager): Promise<number> {
  const [row] = await em.execute<{ pending: number }[]>('select count(*)::int as pending from outbox_event where published_at is null');
  return row.pending;
}
