import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * The one cross-organization read of the domain: which organizations have stock, for the nightly
 * reconciliation of every organization. `em` must be the system role's (DATABASE_SYSTEM_URL): it bypasses
 * row-level security and may read `stock.organization_id` and no other column of stock (as the runtime
 * role, unbound, this would list nobody). Hand-written SQL: a `distinct` keyset walk over the
 * (organization_id, …) indexes, which MikroORM's QueryBuilder would only wrap.
 */

const noOrganization = '00000000-0000-0000-0000-000000000000';

/** The organizations that have stock, in id order, `limit` at a time, after `after` (null: from the start). */
export async function listOrganizationsWithStock(
  em: EntityManager,
  after: string | null,
  limit: number,
): Promise<string[]> {
  const rows = await em.execute<{ organization_id: string }[]>(
    `select distinct organization_id from stock where organization_id > coalesce(?::uuid, ?::uuid)
     order by organization_id limit ?`,
    [after, noOrganization, limit],
  );
  return rows.map((r) => r.organization_id);
}
