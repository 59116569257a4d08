import { canonicalLines, type ReserveRequest } from '../vocabulary.ts';

/**
 * A stable digest (SHA-256, hex) of a reservation request as two requests are compared: lines merged and
 * sorted, and the preferred warehouse; not the TTL, not the actor. The hold activity stores it with the
 * reservation and the client compares it once the order's workflow has closed. Free of Node imports (Web
 * Crypto), so the activities and the workflow client share it without importing each other.
 */
export async function requestFingerprint(
  request: Pick<ReserveRequest, 'items' | 'preferredWarehouseId'>,
): Promise<string> {
  const text = JSON.stringify([canonicalLines(request.items), request.preferredWarehouseId ?? null]);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
