import type { EntityManager } from '@mikro-orm/postgresql';
import { firstRow } from '../../guaranteed.ts';

/**
 * The open holds of every organization, for the metrics. Cross-organization on purpose, so `em` is the system
 * role's (DATABASE_SYSTEM_URL: it may read a reservation's organization, order, status and expiry, nothing else).
 * Hand-written SQL: one aggregate over the (status, expires_at) index, read at each scrape.
 */
export interface OpenHolds {
  active: number;
  confirmed: number;
  /** Active holds whose expires_at has passed: each should be released within a second or two. */
  pastExpiry: number;
}

export async function openHolds(em: EntityManager): Promise<OpenHolds> {
  const rows = await em.fork().execute<{ active: number; confirmed: number; past_expiry: number }[]>(
    `select count(*) filter (where status = 'active')::int as active,
            count(*) filter (where status = 'confirmed')::int as confirmed,
            count(*) filter (where status = 'active' and expires_at < clock_timestamp())::int as past_expiry
     from reservation where status in ('active', 'confirmed')`,
  );
  const row = firstRow(rows, 'counting the open holds');
  return { active: row.active, confirmed: row.confirmed, pastExpiry: row.past_expiry };
}
