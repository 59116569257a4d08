import { MikroORM, type EntityMetadata, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { Pool } from 'pg';
import { entities } from './entities.ts';
import { migrations } from './migrations/index.ts';
import { defaultDbSessionLimits, type DbSessionLimits } from '../limits/settings.ts';
import { SqlSpanLogger } from '../tracing/sql.ts';

export type Orm = MikroORM;

/** The one row-level security policy of every table with organization_id (see the migration of that name). */
export const organizationIsolation = {
  name: 'organization_isolation',
  expression: `organization_id = nullif(current_setting('app.organization_id', true), '')::uuid`,
} as const;

function withOrganizationIsolation(meta: EntityMetadata): void {
  if (!meta.properties['organizationId' as keyof typeof meta.properties]) return;
  meta.rowLevelSecurity = 'force';
  const { name, expression } = organizationIsolation;
  meta.policies = [{ name, using: expression, check: expression }];
}

/** How long a query waits for a pooled connection (or for a new one to connect) before it fails. */
const poolAcquireTimeoutMs = 10_000;

/**
 * ORM options for a database URL: entities, the committed migrations, no schema sync. Every session of
 * the pool starts with `session`'s statement_timeout and idle_in_transaction_session_timeout (sent as
 * startup parameters, so they are the session's defaults and survive a RESET ALL); 0 sends none.
 */
export function ormOptions(
  databaseUrl: string,
  poolMax = 10,
  session: DbSessionLimits = defaultDbSessionLimits,
): Options {
  return {
    clientUrl: databaseUrl,
    entities,
    extensions: [Migrator],
    pool: { max: poolMax },
    driverOptions: {
      // pg-pool waits for a free connection forever by default: a pool run dry (a leak, or more demand than
      // connections) would hang every caller. Past this, the attempt fails with a retryable error instead.
      connectionTimeoutMillis: poolAcquireTimeoutMs,
      ...(session.statementTimeoutMs > 0 ? { statement_timeout: session.statementTimeoutMs } : {}),
      ...(session.idleInTransactionTimeoutMs > 0
        ? { idle_in_transaction_session_timeout: session.idleInTransactionTimeoutMs }
        : {}),
    },
    migrations: {
      tableName: 'schema_migration',
      migrationsList: migrations,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      snapshotOnMigrate: false,
      silent: true,
    },
    // The database functions are hand-written in their migrations (Migration20261130160000_availability_read), not
    // declared as routines: the schema diff must neither drop them nor want them declared twice.
    schemaGenerator: { ignoreRoutines: true },
    // Entities are plain objects built by defineEntity: metadata comes from them, not from reflection.
    // Every entity with an organization carries the row-level security that the migration
    // Migration20261130130000_row_level_security gives its table, so the schema diff knows it.
    discovery: { warnWhenNoEntities: true, onMetadata: withOrganizationIsolation },
    debug: false,
    // Each statement run inside a trace becomes a span of it (README, Traces); nothing when tracing is off.
    loggerFactory: (options) => new SqlSpanLogger(options),
  };
}

// Each ORM's pg pool, taken once at open: asking the connection for it later would open a closed ORM again.
const pools = new WeakMap<Orm, Pool>();

/** Opens the ORM (connection pool) for a database URL, its sessions limited by `session` (default: the documented defaults). */
export async function openOrm(databaseUrl: string, poolMax?: number, session?: DbSessionLimits): Promise<Orm> {
  const orm = await MikroORM.init(ormOptions(databaseUrl, poolMax, session));
  pools.set(orm, await orm.em.getConnection().getNativeClient());
  return orm;
}

/** A pool's connections right now: `total` open, of which `idle`; `waiting`: queries queued for one; `max`: its size. */
export interface PoolUse {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

/** The `pg` pool of an ORM opened by `openOrm`: for a statement that needs none of the ORM's work around it. */
export function ormPool(orm: Orm): Pool {
  const pool = pools.get(orm);
  if (!pool) throw new Error('this ORM was not opened by openOrm');
  return pool;
}

/** What the `pg` pool of an ORM opened by `openOrm` holds right now (its own counters; no query is sent). */
export function poolUse(orm: Orm): PoolUse {
  const pool = ormPool(orm);
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max ?? 10 };
}

/**
 * Opens the runtime role's pool (DATABASE_URL) and refuses to go on when its user is one row-level security
 * does not hold: a superuser, a BYPASSRLS role, or the owner of the tables (it could turn the policies
 * off). A misconfigured DATABASE_URL then stops the process at start instead of serving every organization's
 * rows. When PostgreSQL does not answer yet, the check is skipped with a warning (the pool reconnects later).
 */
export async function openRuntimeOrm(
  databaseUrl: string,
  poolMax: number,
  session: DbSessionLimits,
  warn: (message: string) => void,
): Promise<Orm> {
  const orm = await openOrm(databaseUrl, poolMax, session);
  let role: { name: string; superuser: boolean; bypass: boolean; owned: number } | undefined;
  try {
    [role] = await orm.em.fork().execute<{ name: string; superuser: boolean; bypass: boolean; owned: number }[]>(
      `select r.rolname as name, r.rolsuper as superuser, r.rolbypassrls as bypass,
              (select count(*)::int from pg_class c
               where c.relowner = r.oid and c.relnamespace = current_schema()::regnamespace) as owned
       from pg_roles r where r.rolname = current_user`,
    );
  } catch (error) {
    warn(`could not check the database role of DATABASE_URL yet: ${(error as Error).message}`);
    return orm;
  }
  const unsafe = !role
    ? undefined
    : role.superuser
      ? 'a superuser'
      : role.bypass
        ? 'BYPASSRLS'
        : role.owned > 0
          ? 'the owner of the tables'
          : undefined;
  if (unsafe && role) {
    await orm.close();
    const fix = 'use the runtime role (README, Security model)';
    throw new Error(`DATABASE_URL's user ${role.name} is ${unsafe}: row-level security would not hold; ${fix}`);
  }
  return orm;
}

/**
 * Applies every pending migration, all in one transaction; returns the names applied. Safe to run at
 * every start. The migration's transaction has no statement or idle timeout: rewriting a large table
 * may take longer than any request should.
 */
export async function migrate(orm: Orm): Promise<string[]> {
  const connection = orm.em.getConnection();
  const applied = await connection.transactional(async (trx) => {
    await connection.execute('set local statement_timeout = 0', [], 'run', trx);
    await connection.execute('set local idle_in_transaction_session_timeout = 0', [], 'run', trx);
    return await orm.migrator.up({ transaction: trx });
  });
  return applied.map((m) => m.name);
}
