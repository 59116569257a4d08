/**
 * Mocha global fixtures: one hermetic stack for the whole run. A fresh PostgreSQL database built by
 * the committed migrations (run by the owner role; the service's three roles are created when missing),
 * a private exchange name on the real RabbitMQ, and a Temporal dev server
 * on free ports with the service's search attributes. Everything is removed at the end, so a running
 * `npm start` is never touched. Tests isolate from each other by using their own organization id.
 */
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime } from '@temporalio/worker';
import { createScratchDatabase } from '../../scripts/scratch-database.ts';
import { migrate, openOrm } from '../../services/db/orm.ts';
import { bootstrapDatabase, databaseRoles, urlForRole, type DatabaseRole } from '../../services/db/roles.ts';
import { createLogger, temporalLoggerFrom } from '../../services/logger.ts';
import { searchAttributes } from '../../workflows/search-attributes.ts';
import { dynamicConfigFlags } from '../../services/temporal-dev-server.ts';
import { createDevIssuer } from '../../services/auth/dev-issuer.ts';
import { createTokenVerifier, devAudience, devIssuer } from '../../services/auth/token-verifier.ts';
import { setStack, type TestStack } from './stack.ts';
import { dropClusterDatabases, startTemporalCluster, type TemporalCluster } from '../../scripts/temporal-cluster.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

let dropDatabase: (() => Promise<void>) | undefined;
let cluster: (TemporalCluster & { prefix: string; dir: string; serverUrl: string }) | undefined;
let stack: TestStack | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  const logger = createLogger(
    { LOG_LEVEL: (process.env.TEST_LOG_LEVEL as 'warn') ?? 'error', LOG_FORMAT: 'json' },
    'test',
  );
  Runtime.install({
    logger: temporalLoggerFrom(logger),
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
  });

  // A superuser's server URL: it creates the scratch database and the roles, and observes (bypassing
  // row-level security).
  const serverUrl =
    process.env.TEST_DATABASE_URL ?? process.env.DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const database = await createScratchDatabase(serverUrl, 'inventory_test');
  dropDatabase = database.drop;
  // As in production: migrated by the owner role, run as the runtime role, the relay and retention as the system role.
  // Passwords only when the server asks for them (then each role's name, as `npm start` does).
  const roleUrl = (role: DatabaseRole) =>
    urlForRole(database.url, role, new URL(serverUrl).password ? databaseRoles[role] : undefined);
  const urls = { owner: roleUrl('owner'), runtime: roleUrl('runtime'), system: roleUrl('system') };
  await bootstrapDatabase(database.url, urls);
  const owner = await openOrm(urls.owner, 2);
  try {
    await migrate(owner);
  } finally {
    await owner.close();
  }
  const orm = await openOrm(urls.runtime, 20);
  const systemOrm = await openOrm(urls.system, 5);
  const observerOrm = await openOrm(database.url, 10);

  const temporalCli = process.env.TEMPORAL_CLI_PATH;
  if (!temporalCli)
    throw new Error(
      'TEMPORAL_CLI_PATH is not set: run the tests with `npm test`, which builds or finds the Temporal CLI',
    );
  // TEMPORAL_MODE=cluster runs the suite on a real Temporal server with PostgreSQL persistence
  // (scripts/temporal-cluster.ts), with databases of its own; otherwise on a dev server of its own.
  let temporal: TestWorkflowEnvironment;
  if (process.env.TEMPORAL_MODE === 'cluster') {
    const prefix = `temporal_test_${process.pid}_${randomBytes(3).toString('hex')}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'temporal-cluster-'));
    cluster = {
      ...(await startTemporalCluster({
        postgresUrl: serverUrl,
        dir,
        frontendPort: 0,
        databasePrefix: prefix,
        shards: Number(process.env.TEMPORAL_HISTORY_SHARDS ?? 4),
      })),
      prefix,
      dir,
      serverUrl,
    };
    temporal = await TestWorkflowEnvironment.createFromExistingServer({
      address: cluster.address,
      namespace: 'default',
    });
  } else {
    temporal = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: temporalCli },
        searchAttributes,
        log: { format: 'json', level: 'error' },
        extraArgs: dynamicConfigFlags(),
      },
    });
  }

  const issuer = await createDevIssuer();
  stack = {
    issuer,
    verifyToken: createTokenVerifier({
      keys: { jwks: issuer.jwks },
      issuer: devIssuer,
      audience: devAudience,
      clockToleranceSeconds: 30,
    }),
    databaseUrl: urls.runtime,
    systemDatabaseUrl: urls.system,
    ownerDatabaseUrl: urls.owner,
    observerDatabaseUrl: database.url,
    orm,
    systemOrm,
    observerOrm,
    temporal,
    amqpUrl: process.env.TEST_AMQP_URL ?? process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    exchange: `inventory.events.test.${process.pid}.${randomBytes(3).toString('hex')}`,
    logger,
  };
  setStack(stack);
}

export async function mochaGlobalTeardown(): Promise<void> {
  if (stack) {
    await deleteExchange(stack.amqpUrl, stack.exchange).catch(() => undefined);
    await stack.temporal.teardown();
    await stack.orm.close(true);
    await stack.systemOrm.close(true);
    await stack.observerOrm.close(true);
  }
  if (cluster) {
    await cluster.stop();
    await dropClusterDatabases(cluster.serverUrl, cluster.prefix, Number(process.env.TEMPORAL_HISTORY_SHARDS ?? 4));
    rmSync(cluster.dir, { recursive: true, force: true });
  }
  await dropDatabase?.();
}

async function deleteExchange(url: string, exchange: string): Promise<void> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    await channel.deleteExchange(exchange);
  } finally {
    await connection.close();
  }
}
