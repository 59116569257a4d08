/**
 * `npm start`: the whole stack in the foreground. Finds or starts PostgreSQL, RabbitMQ and the
 * Temporal dev server, creates the database roles, applies the migrations as the owner role, seeds the
 * demo data on an empty database, then runs each part of the service as its own process (as production
 * would, as the runtime role) and streams their logs.
 * Ctrl-C (or SIGTERM) stops every process it started; a part that dies is restarted with backoff while
 * the others keep serving.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, ConfigError } from '../services/config.ts';
import { prepareDatabase } from './migrate.ts';
import { resolvePostgres, resolveRabbitMq, resolveTemporal, stopChild, type Started } from './infrastructure.ts';
import { loadOrCreateDevIssuer } from '../services/auth/dev-issuer.ts';
import { startTemporalCluster } from './temporal-cluster.ts';
import { roles } from '../services/auth/access.ts';
import { databaseRoles, urlForRole, type DatabaseRole } from '../services/db/roles.ts';
import { bundleWorkflows } from './bundle-workflows.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = path.join(root, '.data');
/** The service's parts, each an entry point of its own under services/, in the order they start. */
export const parts = ['worker', 'grpc-server', 'http-server', 'relay', 'consumer'] as const;
export type Part = (typeof parts)[number];
const say = (line: string) => process.stdout.write(`[start] ${line}\n`);

const started: Started[] = [];
const children = new Map<string, ChildProcess>();
let stopping = false;

async function main(): Promise<void> {
  // Validate what the user set before starting anything, so a typo fails in a second, not after a minute.
  loadConfig();
  const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);

  const database = await resolveDatabase();
  const postgres = database.postgres;
  if (postgres.started) started.push(postgres.started);

  const rabbit = await resolveRabbitMq(process.env, say);
  if (rabbit.started) started.push(rabbit.started);

  const temporal =
    process.env.TEMPORAL_MODE === 'cluster' && !process.env.TEMPORAL_ADDRESS
      ? await startCluster(database.admin ?? postgres.url)
      : await resolveTemporal(process.env, dataDir, uiPort);
  if (temporal.started) started.push(temporal.started);
  temporal.process?.once('exit', (code) => void shutdown(`the Temporal server exited (code ${code})`, 1));

  // Without an identity provider configured, the stack trusts a development issuer kept in .data/auth/
  // (created once); `npm run token` signs with it. Never silently without authentication.
  const ownIssuer =
    !process.env.AUTH_JWKS_URL && !process.env.AUTH_JWKS_FILE && process.env.AUTH_VERIFY_SIGNATURES !== 'false';
  const authEnv = ownIssuer
    ? { AUTH_JWKS_FILE: (await loadOrCreateDevIssuer(path.join(dataDir, 'auth'))).jwksFile }
    : {};

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...database.env,
    AMQP_URL: rabbit.url,
    TEMPORAL_ADDRESS: temporal.address,
    ...authEnv,
  };
  const config = loadConfig(env);

  const urls = { runtime: config.DATABASE_URL, owner: config.DATABASE_OWNER_URL, system: config.DATABASE_SYSTEM_URL };
  await prepareDatabase({ ...urls, ...(database.admin ? { admin: database.admin } : {}) }, config.SEED_DEMO_DATA, say);

  let partsEnv = env;
  if (!env.WORKFLOW_BUNDLE_PATH) {
    // A directory of this start's own: a second `npm start` or a test run never writes the file this one's
    // worker reloads after a crash.
    const bundleDir = mkdtempSync(path.join(os.tmpdir(), 'inventory-workflows-'));
    started.push({
      description: 'the workflow bundle',
      stop: async () => rmSync(bundleDir, { recursive: true, force: true }),
    });
    partsEnv = { ...env, ...(await workflowBundleEnv(env, bundleDir)) };
  }
  for (const part of parts) supervise(part, partsEnv);

  const amqpShown = new URL(config.AMQP_URL);
  if (amqpShown.password) amqpShown.password = '***';
  say('the inventory service is starting:');
  say(
    `  REST         http://localhost:${config.HTTP_PORT}   (try: TOKEN=$(npm run -s token -- --role operator); curl -H "Authorization: Bearer $TOKEN" 'localhost:${config.HTTP_PORT}/api/v1/stock?low=true')`,
  );
  say(
    `  gRPC         localhost:${config.GRPC_PORT}          (try: grpcurl -plaintext localhost:${config.GRPC_PORT} list)`,
  );
  say(
    ownIssuer
      ? `  Auth         development issuer, keys in .data/auth/; tokens: npm run -s token -- --role <${roles.join('|')}> [--org <uuid>] [--warehouses <uuid,...>]`
      : `  Auth         ${config.AUTH_JWKS_URL ?? config.AUTH_JWKS_FILE ?? 'AUTH_VERIFY_SIGNATURES=false: signatures NOT checked (development only)'}`,
  );
  say(`  Temporal     ${config.TEMPORAL_ADDRESS}${temporal.uiUrl ? `   UI ${temporal.uiUrl}` : ''}`);
  say(
    `  RabbitMQ     ${amqpShown}${rabbit.reachable ? '' : '   (not reachable: events wait in the outbox)'}   exchange ${config.EVENTS_EXCHANGE}`,
  );
  const migrator = new URL(config.DATABASE_OWNER_URL).username;
  say(
    `  PostgreSQL   ${config.DATABASE_URL.replace(/:[^:@/]+@/, ':***@')}   (runtime role; migrations as ${migrator})`,
  );
  say('Ctrl-C stops everything.');
}

/**
 * Where the database is, and who sets it up. DATABASE_URL set without DATABASE_ADMIN_URL: the roles and the
 * database exist already (a managed server), and the three URLs are used as given. Otherwise the
 * administrator (DATABASE_ADMIN_URL, else the local server's or an embedded server's postgres user) creates
 * the roles and the database, and the roles' URLs not given are derived from its address with development
 * passwords (each role's name: local servers only; README, Security model).
 */
async function resolveDatabase(): Promise<{
  postgres: Awaited<ReturnType<typeof resolvePostgres>>;
  admin?: string;
  env: NodeJS.ProcessEnv;
}> {
  if (process.env.DATABASE_URL && !process.env.DATABASE_ADMIN_URL) {
    return { postgres: { url: process.env.DATABASE_URL }, env: {} };
  }
  const postgres = await resolvePostgres({ ...process.env, DATABASE_URL: process.env.DATABASE_ADMIN_URL }, dataDir);
  const derived = (role: DatabaseRole) => urlForRole(postgres.url, role, databaseRoles[role]);
  const env = {
    DATABASE_URL: process.env.DATABASE_URL || derived('runtime'),
    DATABASE_OWNER_URL: process.env.DATABASE_OWNER_URL || derived('owner'),
    DATABASE_SYSTEM_URL: process.env.DATABASE_SYSTEM_URL || derived('system'),
  };
  return { postgres, admin: postgres.url, env };
}

/**
 * Runs a part and restarts it when it exits, with backoff (1 s doubling to 30 s; back to 1 s once it has
 * run for a minute), so one crash leaves the others serving. Each part runs in its own process group: a
 * Ctrl-C reaches this script only, which then stops each part once, in order.
 */
function supervise(part: Part, env: NodeJS.ProcessEnv, delayMs = 1000): void {
  const startedAt = Date.now();
  const child = spawnPart(part, env, 'inherit');
  children.set(part, child);
  child.once('exit', (code, signal) => {
    children.delete(part);
    if (stopping) return;
    const wait = Date.now() - startedAt > 60_000 ? 1000 : delayMs;
    say(
      `${part} exited (${signal ?? `code ${code}`}): restarting it in ${wait / 1000} s; the other parts keep serving`,
    );
    setTimeout(() => !stopping && supervise(part, env, Math.min(wait * 2, 30_000)), wait);
  });
}

/**
 * The worker loads its workflows from a bundle made once here, as the image's is made at build time, unless
 * WORKFLOW_BUNDLE_PATH names one already: bundling at every worker start costs it about 90 MiB of memory for
 * good (the bundler's modules and a copy of the bundle) and seconds at each restart after a crash.
 */
export async function workflowBundleEnv(env: NodeJS.ProcessEnv, dir: string): Promise<NodeJS.ProcessEnv> {
  if (env.WORKFLOW_BUNDLE_PATH) return {};
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  await bundleWorkflows(bundlePath);
  return { WORKFLOW_BUNDLE_PATH: bundlePath };
}

/**
 * Runs one part's entry point in a process of its own, in its own process group (a Ctrl-C at the terminal
 * reaches the parent alone, which stops its parts in order). The benchmark's soak runs the parts this way too.
 */
export function spawnPart(part: Part, env: NodeJS.ProcessEnv, stdio: StdioOptions): ChildProcess {
  return spawn(process.execPath, [path.join(root, 'services', `${part}.ts`)], { env, stdio, detached: true });
}

/** TEMPORAL_MODE=cluster: a real Temporal server on this PostgreSQL instead of the dev server (scripts/temporal-cluster.ts). */
async function startCluster(postgresUrl: string) {
  const cluster = await startTemporalCluster({
    postgresUrl,
    dir: path.join(dataDir, 'temporal-cluster'),
    frontendPort: 7233,
    databasePrefix: 'temporal_inventory',
    shards: Number(process.env.TEMPORAL_HISTORY_SHARDS ?? 4),
    processes: process.env.TEMPORAL_CLUSTER_PROCESSES === '4' ? 4 : 1,
    say,
  });
  for (const child of cluster.processes)
    child.once('exit', (code) => !stopping && void shutdown(`a Temporal server process exited (code ${code})`, 1));
  return {
    address: cluster.address,
    uiUrl: undefined,
    process: undefined,
    started: { description: 'the Temporal server', stop: cluster.stop },
  };
}

async function shutdown(reason: string, exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  say(`stopping (${reason})`);
  // Each part drains within SHUTDOWN_GRACE_MS; it is killed only well after that.
  await Promise.all(
    [...children.entries()].map(([name, child]) =>
      stopChild(child, name, Number(process.env.SHUTDOWN_GRACE_MS ?? 10_000) + 5000),
    ),
  );
  for (const part of started.reverse()) {
    await part.stop().catch((error: unknown) => say(`could not stop ${part.description}: ${String(error)}`));
  }
  say('stopped');
  process.exit(exitCode);
}

// Imported (by the benchmark's soak, for `parts` and `spawnPart`), it starts nothing.
if (import.meta.main) {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => void shutdown(signal, 0));
  }

  main().catch((error: unknown) => {
    process.stderr.write(
      `[start] ${error instanceof ConfigError ? error.message : ((error as Error).stack ?? String(error))}\n`,
    );
    void shutdown('start-up failed', 1);
  });
}
