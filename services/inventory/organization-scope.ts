import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * The one place where a request's organization is bound to database access. Every read and write
 * takes a scope; the ORM's `organization` filter (services/db/organization-filter.ts) restricts
 * entity queries to it, and raw SQL uses `organizationId`. Row-level security will hook in here.
 */
export interface OrganizationScope {
  readonly organizationId: string;
  readonly em: EntityManager;
}

export function scopeTo(em: EntityManager, organizationId: string): OrganizationScope {
  const scoped = em.fork();
  scoped.setFilterParams('organization', { organizationId });
  return { organizationId, em: scoped };
}
