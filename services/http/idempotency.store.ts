import type { ScopedTransaction } from '../inventory/organization-scope.ts';
import { IdempotencyKey } from './idempotency-key.entity.ts';

/**
 * Idempotency keys of REST writes (idempotency_key): claim, read back, complete or forget. Every
 * function takes an open transaction (`scope.transaction`), so row-level security sees the organization.
 *
 * Hand-written SQL for the claim only: `insert … on conflict … do update … where … returning` claims a
 * new key or takes over a stale in-flight one atomically, in one statement, which neither em.insert nor
 * em.upsert can express (the takeover is conditional). The reads and the completion go through the
 * IdempotencyKey entity (em.findOne, em.nativeUpdate, em.nativeDelete).
 */

/** A key's stored state, as a replay needs it. */
export interface StoredKey {
  requestHash: string;
  state: 'in_flight' | 'completed';
  responseStatus: number | null;
  responseBody: unknown;
}

/**
 * Claims the key for a request, or takes over a claim left in flight longer than `staleSeconds` by a request
 * with the same hash (one that died); false when the key is held or completed.
 */
export async function claimKey(
  tx: ScopedTransaction,
  key: string,
  requestHash: string,
  staleSeconds: number,
): Promise<boolean> {
  const claimed = await tx.em.execute<{ key: string }[]>(
    `insert into idempotency_key (organization_id, key, request_hash, state) values (?, ?, ?, 'in_flight')
     on conflict (organization_id, key) do update set created_at = now()
       where idempotency_key.state = 'in_flight' and idempotency_key.request_hash = excluded.request_hash
         and idempotency_key.created_at < now() - make_interval(secs => ?)
     returning key`,
    [tx.organizationId, key, requestHash, staleSeconds],
  );
  return claimed.length > 0;
}

/** The key's state, or null when there is none (it was forgotten meanwhile). */
export async function findKey(tx: ScopedTransaction, key: string): Promise<StoredKey | null> {
  const row = await tx.em.findOne(
    IdempotencyKey,
    { organizationId: tx.organizationId, key },
    { fields: ['requestHash', 'state', 'responseStatus', 'responseBody'], disableIdentityMap: true },
  );
  return row
    ? {
        requestHash: row.requestHash,
        state: row.state,
        responseStatus: row.responseStatus ?? null,
        responseBody: row.responseBody,
      }
    : null;
}

/** Stores the response a replay will return. */
export async function completeKey(tx: ScopedTransaction, key: string, status: number, body: unknown): Promise<void> {
  await tx.em.nativeUpdate(
    IdempotencyKey,
    { organizationId: tx.organizationId, key },
    { state: 'completed', responseStatus: status, responseBody: body ?? null, completedAt: new Date() },
  );
}

/** Forgets the key (after a 5xx), so the client may retry it. */
export async function forgetKey(tx: ScopedTransaction, key: string): Promise<void> {
  await tx.em.nativeDelete(IdempotencyKey, { organizationId: tx.organizationId, key });
}
