import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * The one place where a request's organization is bound to database access. Every read and write runs
 * in `scope.transaction(…)`, which opens a transaction and sets `app.organization_id` for it
 * (`set_config(…, true)`, so it ends with the transaction and never leaks to the pooled connection's
 * next user). Row-level security reads that setting: a query outside such a transaction sees no rows.
 * Queries still name `organization_id` explicitly, as a second layer and for the indexes.
 *
 * A caller limited to some warehouses (an operator's token scope) also carries `warehouseIds`: lists
 * show only those warehouses' rows.
 */
export interface OrganizationScope {
  readonly organizationId: string;
  /** Lower-case warehouse ids the caller may see; undefined for all of the organization's. */
  readonly warehouseIds?: readonly string[];
  /** Runs `work` in one transaction bound to the organization; a call made inside another runs within it. */
  transaction<T>(work: (tx: ScopedTransaction) => Promise<T>): Promise<T>;
}

/** An open transaction bound to one organization: what the data-access leaves (ledger, outbox, stores) take. */
export interface ScopedTransaction {
  readonly em: EntityManager;
  readonly organizationId: string;
}

/**
 * The scope of one organization for one request or message: its own fork of `em` (its own identity map), so
 * two requests never share entities; every `transaction` of it is bound to the organization.
 */
export function scopeTo(
  em: EntityManager,
  organizationId: string,
  warehouseIds?: readonly string[],
): OrganizationScope {
  const forked = em.fork();
  return {
    organizationId,
    ...(warehouseIds ? { warehouseIds } : {}),
    transaction: (work) =>
      forked.transactional(async (transactionEm) => {
        await bindOrganization(transactionEm, organizationId);
        return await work({ em: transactionEm, organizationId });
      }),
  };
}

/** Binds the open transaction to an organization for row-level security. */
export async function bindOrganization(em: EntityManager, organizationId: string): Promise<void> {
  await em.execute("select set_config('app.organization_id', ?, true)", [organizationId]);
}

/**
 * The condition that keeps a list inside the scope's warehouses, for a query's `where` (a row passes
 * when any of the columns names one of them), or undefined when the scope sees every warehouse.
 */
export function warehouseCondition(
  scope: Pick<OrganizationScope, 'warehouseIds'>,
  ...columns: string[]
): { sql: string; params: unknown[] } | undefined {
  const ids = scope.warehouseIds;
  if (!ids) return undefined;
  if (ids.length === 0) return { sql: 'false', params: [] };
  return {
    sql: `(${columns.map((c) => `${c} in (?)`).join(' or ')})`,
    params: columns.map(() => [...ids]),
  };
}
