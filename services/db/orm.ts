import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { entities } from './entities.ts';
import { migrations } from './migrations/index.ts';

export type Orm = MikroORM;

/** ORM options for a database URL: entities, the committed migrations, no schema sync. */
export function ormOptions(databaseUrl: string, poolMax = 10): Options {
  return {
    clientUrl: databaseUrl,
    entities,
    extensions: [Migrator],
    pool: { max: poolMax },
    migrations: {
      tableName: 'schema_migration',
      migrationsList: migrations,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      snapshotOnMigrate: false,
      silent: true,
    },
    // Entities are plain objects built by defineEntity: metadata comes from them, not from reflection.
    discovery: { warnWhenNoEntities: true },
    debug: false,
  };
}

/** Opens the ORM (connection pool) for a database URL. */
export function openOrm(databaseUrl: string, poolMax?: number): Promise<Orm> {
  return MikroORM.init(ormOptions(databaseUrl, poolMax));
}

/** Applies every pending migration; returns the names applied. Safe to run at every start. */
export async function migrate(orm: Orm): Promise<string[]> {
  const applied = await orm.migrator.up();
  return applied.map((m) => m.name);
}
