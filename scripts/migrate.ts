/**
 * Applies the pending migrations, and seeds the demo data when SEED_DEMO_DATA is on. Run alone
 * (`node scripts/migrate.ts`) it is the one-off job a deployment runs before rolling out a version;
 * `npm start` calls `prepareDatabase` before starting the service's processes.
 */
import { loadConfig } from '../services/config.ts';
import { migrate, openOrm } from '../services/db/orm.ts';
import { seedDemoData } from './demo-data.ts';
import { createLogger } from '../services/logger.ts';

export async function prepareDatabase(databaseUrl: string, seed: boolean, log: (line: string) => void): Promise<void> {
  const orm = await openOrm(databaseUrl, 2);
  try {
    const applied = await migrate(orm);
    log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
    if (seed) {
      const { created } = await seedDemoData(orm.em.fork());
      if (created) log('seeded the demo data (README, "Demo data")');
    }
  } finally {
    await orm.close();
  }
}

if (import.meta.main) {
  const config = loadConfig();
  const logger = createLogger(config, 'migrate');
  await prepareDatabase(config.DATABASE_URL, config.SEED_DEMO_DATA, (line) => logger.info(line));
}
