/**
 * Prepares the database, then applies the pending migrations as the owner role, and seeds the demo data
 * (as the runtime role) when SEED_DEMO_DATA is on. Run alone (`node scripts/migrate.ts`) it is the one-off
 * job a deployment runs before rolling out a version; `npm start` calls `prepareDatabase` before starting
 * the service's processes. With DATABASE_ADMIN_URL it first creates the three roles and the database
 * (services/db/roles.ts); without it they must exist already (README, Security model).
 */
import { MikroORM } from '@mikro-orm/postgresql';
import { loadConfig } from '../services/config.ts';
import { migrate, openOrm, ormOptions } from '../services/db/orm.ts';
import { bootstrapDatabase } from '../services/db/roles.ts';
import { demo, seedDemoData } from './demo-data.ts';
import { createLogger } from '../services/logger.ts';

export interface DatabaseUrls {
  /** The runtime role's (DATABASE_URL). */
  runtime: string;
  owner: string;
  system: string;
  /** A superuser's, to create the roles and the database first; none: they exist. */
  admin?: string;
}

export async function prepareDatabase(urls: DatabaseUrls, seed: boolean, log: (line: string) => void): Promise<void> {
  const { owner, runtime, system } = urls;
  if (urls.admin) await bootstrapDatabase(urls.admin, { owner, runtime, system });
  const orm = await openOrm(urls.owner, 2);
  try {
    const applied = await migrate(orm);
    log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
  } finally {
    await orm.close();
  }
  if (seed && (await seedAsRuntime(urls.runtime))) log('seeded the demo data (README, "Demo data")');
}

/**
 * The demo data is the demo organization's data: written as the runtime role, on a session bound to that
 * organization for good (row-level security lets nothing else through).
 */
async function seedAsRuntime(runtimeUrl: string): Promise<boolean> {
  const options = ormOptions(runtimeUrl, 1);
  const bound = `-c app.organization_id=${demo.organizationId}`;
  const orm = await MikroORM.init({ ...options, driverOptions: { ...options.driverOptions, options: bound } });
  try {
    return (await seedDemoData(orm.em.fork())).created;
  } finally {
    await orm.close();
  }
}

if (import.meta.main) {
  const config = loadConfig();
  const logger = createLogger(config, 'migrate');
  const urls = {
    runtime: config.DATABASE_URL,
    owner: config.DATABASE_OWNER_URL,
    system: config.DATABASE_SYSTEM_URL,
    ...(config.DATABASE_ADMIN_URL ? { admin: config.DATABASE_ADMIN_URL } : {}),
  };
  await prepareDatabase(urls, config.SEED_DEMO_DATA, (line) => logger.info(line));
}
