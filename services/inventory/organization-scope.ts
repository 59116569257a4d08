import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * The one place where a request's organization is bound to database access. Every read and write
 * takes a scope, and every query names `organizationId` explicitly (composite foreign keys make the
 * database refuse a row that mixes organizations). Row-level security will hook in here (issue #11).
 * A caller limited to some warehouses (an operator's token scope) also carries `warehouseIds`: lists
 * show only those warehouses' rows.
 */
export interface OrganizationScope {
  readonly organizationId: string;
  readonly em: EntityManager;
  /** Lower-case warehouse ids the caller may see; undefined for all of the organization's. */
  readonly warehouseIds?: readonly string[];
}

export function scopeTo(em: EntityManager, organizationId: string, warehouseIds?: readonly string[]): OrganizationScope {
  const scoped = em.fork();
  scoped.setFilterParams('organization', { organizationId });
  return { organizationId, em: scoped, ...(warehouseIds ? { warehouseIds } : {}) };
}

/**
 * The condition that keeps a list inside the scope's warehouses, for a query's `where` (a row passes
 * when any of the columns names one of them), or undefined when the scope sees every warehouse.
 */
export function warehouseCondition(scope: OrganizationScope, ...columns: string[]): { sql: string; params: unknown[] } | undefined {
  if (!scope.warehouseIds) return undefined;
  if (scope.warehouseIds.length === 0) return { sql: 'false', params: [] };
  return { sql: `(${columns.map((c) => `${c} in (?)`).join(' or ')})`, params: columns.map(() => [...scope.warehouseIds!]) };
}
