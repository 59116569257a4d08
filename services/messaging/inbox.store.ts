import type { ScopedTransaction } from '../inventory/organization-scope.ts';
import { ConsumerAttempt } from './consumer-attempt.entity.ts';
import { InboxEvent } from './inbox-event.entity.ts';
import { firstRow } from '../guaranteed.ts';

/**
 * The consumer's own tables: `inbox_event` (events applied, by source, organization and event id) and
 * `consumer_attempt` (failures counted per event). Every call takes a transaction bound to the event's
 * organization, so row-level security holds here as everywhere else.
 *
 * Through MikroORM: the lookups (`em.count`) and the reset (`em.nativeUpdate`) on the entities.
 * Hand-written SQL where MikroORM has no single statement for it: the inbox insert (`on conflict do
 * nothing`: a concurrent redelivery must not fail the transaction that applied the event) and the
 * attempt counter (`on conflict … do update … returning`, one round trip that is safe under races).
 */

/** An event as the consumer admitted it: its inbox row's key and name (the organization is the transaction's). */
export interface ConsumedEvent {
  /** The producing service ('order', 'catalog', 'purchasing'). */
  source: string;
  eventId: string;
  /** The event's name (its routing key). */
  name: string;
}

/** Whether the event was already applied (or refused) and recorded. */
export async function isConsumed(
  tx: ScopedTransaction,
  event: Pick<ConsumedEvent, 'source' | 'eventId'>,
): Promise<boolean> {
  const n = await tx.em.count(InboxEvent, {
    source: event.source,
    organizationId: tx.organizationId,
    eventId: event.eventId,
  });
  return n > 0;
}

/**
 * Records the event as consumed with its outcome, in the transaction of its effect: the effect and the
 * row commit together, which is what makes the consumer exactly-once per (source, organization, event id).
 * Recording it twice is a no-op.
 */
export async function recordConsumedEvent(tx: ScopedTransaction, event: ConsumedEvent, outcome: string): Promise<void> {
  await tx.em.execute(
    `insert into inbox_event (source, organization_id, event_id, name, outcome) values (?, ?, ?, ?, ?)
     on conflict do nothing`,
    [event.source, tx.organizationId, event.eventId, event.name, outcome],
  );
}

/** Whether this consumer counted a failure of the message with that fingerprint (so a retry copy is its own). */
export async function hasAttemptWithFingerprint(
  tx: ScopedTransaction,
  event: Pick<ConsumedEvent, 'source' | 'eventId'>,
  fingerprint: string,
): Promise<boolean> {
  const n = await tx.em.count(ConsumerAttempt, {
    source: event.source,
    organizationId: tx.organizationId,
    eventId: event.eventId,
    fingerprint,
  });
  return n > 0;
}

/** Counts one more failure of the event (keeping the message's fingerprint and the error); returns the count. */
export async function countFailedAttempt(
  tx: ScopedTransaction,
  event: Pick<ConsumedEvent, 'source' | 'eventId'>,
  fingerprint: string,
  error: string,
): Promise<number> {
  const rows = await tx.em.execute<{ attempts: number }[]>(
    `insert into consumer_attempt (source, organization_id, event_id, attempts, fingerprint, last_error)
     values (?, ?, ?, 1, ?, ?)
     on conflict (source, organization_id, event_id) do update
       set attempts = consumer_attempt.attempts + 1, fingerprint = excluded.fingerprint,
           last_error = excluded.last_error, updated_at = now()
     returning attempts`,
    [event.source, tx.organizationId, event.eventId, fingerprint, error.slice(0, 4000)],
  );
  return firstRow(rows, 'insert into consumer_attempt').attempts;
}

/** Sets the event's failure count back to zero (after it is dead-lettered, so a replay gets its attempts again). */
export async function resetAttempts(
  tx: ScopedTransaction,
  event: Pick<ConsumedEvent, 'source' | 'eventId'>,
): Promise<void> {
  await tx.em.nativeUpdate(
    ConsumerAttempt,
    { source: event.source, organizationId: tx.organizationId, eventId: event.eventId },
    { attempts: 0 },
  );
}
