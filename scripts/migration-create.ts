/**
 * Writes a migration for the difference between the entities and a scratch database built from the
 * committed migrations, then lists it in services/db/migrations/index.ts by hand (review the SQL first).
 * Usage: npm run migration:create -- <name>
 */
import { MikroORM } from '@mikro-orm/postgresql';
import { ormOptions } from '../services/db/orm.ts';
import { bootstrapDatabase, urlForRole } from '../services/db/roles.ts';
import { withScratchDatabase } from './scratch-database.ts';

const name = process.argv[2];
if (!name) {
  console.error('usage: npm run migration:create -- <name>');
  process.exit(2);
}

// A superuser's server (DATABASE_URL is the runtime role, which may not create databases); the migrations
// name the service's roles, so they are made sure of first.
await withScratchDatabase(
  process.env.DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  async (url) => {
    const roles = {
      owner: urlForRole(url, 'owner'),
      runtime: urlForRole(url, 'runtime'),
      system: urlForRole(url, 'system'),
    };
    await bootstrapDatabase(url, roles);
    const options = ormOptions(url);
    const orm = await MikroORM.init({
      ...options,
      migrations: { ...options.migrations, path: 'services/db/migrations', pathTs: 'services/db/migrations' },
    });
    try {
      await orm.migrator.up();
      const result = await orm.migrator.create(undefined, false, false, name);
      console.log(
        result.fileName ? `wrote services/db/migrations/${result.fileName}` : 'no schema difference: nothing written',
      );
    } finally {
      await orm.close();
    }
  },
);
