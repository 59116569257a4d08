import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ScopedTransaction } from '../inventory/organization-scope.ts';
import type { OutboxRow } from './envelope.ts';
import type { OutboxBacklog } from '../metrics/relay.ts';
import { firstRow } from '../guaranteed.ts';
import { activeTraceCarrier } from '../tracing/messages.ts';

/**
 * The outbox (transactional outbox pattern), its one data-access module: the writer every use case calls
 * inside its own transaction (`enqueueEvent`, `enqueueEventOnce`), so an event exists iff its change
 * committed, and below, the relay's reads. Hand-written SQL throughout: one insert per event (an entity
 * would add a flush of the unit of work for a row nothing reads back), `on conflict do nothing` for the
 * events announced once, and the relay's batch reads (see there).
 */

/** An event to queue: its name, what it is about, and its `data` (the envelope is added by the relay). */
export interface OutboxDraft {
  name: string;
  aggregateType: string;
  aggregateId: string;
  data: Record<string, unknown>;
}

const insertEvent =
  'insert into outbox_event (id, organization_id, name, aggregate_type, aggregate_id, payload, trace_context) values (?, ?, ?, ?, ?, ?, ?)';

/**
 * The row's values. It keeps the trace context of the transaction that writes it (null outside a trace), so the
 * relay publishes the event in the same trace (README, Traces).
 */
function valuesOf(tx: ScopedTransaction, id: string, event: OutboxDraft): unknown[] {
  const trace = activeTraceCarrier();
  const { name, aggregateType, aggregateId, data } = event;
  return [
    id,
    tx.organizationId,
    name,
    aggregateType,
    aggregateId,
    JSON.stringify(data),
    trace && JSON.stringify(trace),
  ];
}

/** Queues an event for the relay inside the caller's transaction, so it is published iff that commits. Returns its event id. */
export async function enqueueEvent(tx: ScopedTransaction, event: OutboxDraft): Promise<string> {
  const id = randomUUID();
  await tx.em.execute(insertEvent, valuesOf(tx, id, event));
  return id;
}

/**
 * Queues an event at most once: `id` is derived from what makes the event unique (a name-based UUID, e.g. of
 * the reservation it reports), and a second call with the same id adds nothing. True when this call queued it.
 */
export async function enqueueEventOnce(tx: ScopedTransaction, id: string, event: OutboxDraft): Promise<boolean> {
  const rows = await tx.em.execute<{ id: string }[]>(
    `${insertEvent} on conflict (id) do nothing returning id`,
    valuesOf(tx, id, event),
  );
  return rows.length > 0;
}

/**
 * The relay's side. Its reads and writes span every organization on purpose: the relay is the one
 * process that publishes all tenants' events, so `em` is the system role's (DATABASE_SYSTEM_URL, which
 * bypasses row-level security and may read the outbox, mark it published and nothing else of note). As
 * the runtime role they would see no rows. Hand-written SQL: the batch read is one indexed range scan on
 * the partial index of unpublished events, the mark one statement for the batch.
 */

/** The oldest unpublished events of every organization, in sequence (commit) order. `em`: the system role's. */
export function nextBatch(em: EntityManager, size: number): Promise<OutboxRow[]> {
  return em.execute<OutboxRow[]>(
    `select id, sequence, organization_id, name, payload, created_at, trace_context
     from outbox_event where published_at is null order by sequence limit ?`,
    [size],
  );
}

/** Marks the events published (the broker confirmed them). `em`: the system role's. */
export async function markPublished(em: EntityManager, ids: string[]): Promise<void> {
  await em.execute('update outbox_event set published_at = clock_timestamp() where id in (?)', [ids]);
}

/** How many events wait to be published (all organizations). `em`: the system role's. */
export async function pendingOutboxCount(em: EntityManager): Promise<number> {
  const rows = await em.execute<{ pending: number }[]>(
    'select count(*)::int as pending from outbox_event where published_at is null',
  );
  return firstRow(rows, 'counting the outbox').pending;
}

/**
 * How many events wait in the outbox (all organizations) and how old the oldest is: what the relay's gauges
 * and /ready show. `em`: the system role's (the runtime role would count only its bound organization's).
 */
export async function outboxBacklog(em: EntityManager): Promise<OutboxBacklog> {
  const rows = await em.fork().execute<{ pending: number; oldest_age_seconds: number | null }[]>(
    `select count(*)::int as pending, extract(epoch from clock_timestamp() - min(created_at))::float8 as oldest_age_seconds
     from outbox_event where published_at is null`,
  );
  const row = firstRow(rows, 'measuring the outbox backlog');
  return { pending: row.pending, oldestAgeSeconds: Math.max(0, row.oldest_age_seconds ?? 0) };
}
