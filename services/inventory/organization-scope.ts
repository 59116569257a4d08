import type { EntityManager } from '@mikro-orm/postgresql';
import type { QueryResultRow } from 'pg';
import { ormPool, type Orm } from '../db/orm.ts';

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
 * What a one-statement read takes instead of a transaction: the organization, which the statement binds itself
 * (a database function that sets `app.organization_id` with is_local before its query and puts it back after),
 * and the runner of such statements. Run alone on a pooled connection, the statement's implicit transaction
 * ends with it, so no setting outlives it (README, Security model). For the hot path only.
 */
export interface OrganizationRead {
  readonly organizationId: string;
  readonly run: OneStatement;
}

/** Runs one statement alone on a pooled connection, outside any transaction, prepared once per connection by `name`. */
export type OneStatement = <Row>(name: string, text: string, values: unknown[]) => Promise<Row[]>;

/**
 * The one-statement runner of an ORM: its own pg pool (the sessions' statement_timeout applies), without the ORM's
 * query building, transaction context or identity map, which a read that binds itself and loads no entities does not
 * use. Each statement still goes to the ORM's logger, so it is a span of the caller's trace when tracing is on.
 */
export function oneStatementOn(orm: Orm): OneStatement {
  const pool = ormPool(orm);
  const logger = orm.config.getLogger();
  return async <Row>(name: string, text: string, values: unknown[]) => {
    const started = performance.now();
    let failed = false;
    try {
      const { rows } = await pool.query<Row & QueryResultRow>({ name, text, values });
      return rows;
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      logger.logQuery({
        query: text,
        took: Math.round(performance.now() - started),
        ...(failed ? { level: 'error' } : {}),
      });
    }
  };
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
