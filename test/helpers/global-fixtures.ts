/**
 * Mocha global fixtures: one hermetic stack for the whole run. A fresh PostgreSQL database built by
 * the committed migrations, a private exchange name on the real RabbitMQ, and a Temporal dev server
 * on free ports with the service's search attributes. Everything is removed at the end, so a running
 * `npm start` is never touched. Tests isolate from each other by using their own organization id.
 */
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime } from '@temporalio/worker';
import { createScratchDatabase } from '../../scripts/scratch-database.ts';
import { migrate, openOrm } from '../../services/db/orm.ts';
import { createLogger, temporalLoggerFrom } from '../../services/logger.ts';
import { searchAttributes } from '../../workflows/search-attributes.ts';
import { dynamicConfigFlags } from '../../services/temporal-dev-server.ts';
import { createDevIssuer } from '../../services/auth/dev-issuer.ts';
import { createTokenVerifier, devAudience, devIssuer } from '../../services/auth/token-verifier.ts';
import { setStack, type TestStack } from './stack.ts';

let dropDatabase: (() => Promise<void>) | undefined;
let stack: TestStack | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  const logger = createLogger({ LOG_LEVEL: (process.env.TEST_LOG_LEVEL as 'warn') ?? 'error', LOG_FORMAT: 'json' }, 'test');
  Runtime.install({ logger: temporalLoggerFrom(logger), telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } } });

  const serverUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const database = await createScratchDatabase(serverUrl, 'inventory_test');
  dropDatabase = database.drop;
  const orm = await openOrm(database.url, 20);
  await migrate(orm);

  const temporalCli = process.env.TEMPORAL_CLI_PATH;
  if (!temporalCli) throw new Error('TEMPORAL_CLI_PATH is not set: run the tests with `npm test`, which builds or finds the Temporal CLI');
  const temporal = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCli },
      searchAttributes,
      log: { format: 'json', level: 'error' },
      extraArgs: dynamicConfigFlags(),
    },
  });

  const issuer = await createDevIssuer();
  stack = {
    issuer,
    verifyToken: createTokenVerifier({ keys: { jwks: issuer.jwks }, issuer: devIssuer, audience: devAudience, clockToleranceSeconds: 30 }),
    databaseUrl: database.url,
    orm,
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
