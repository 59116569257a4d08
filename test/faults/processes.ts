/**
 * Processes the fault tests kill with SIGKILL: a worker in a child process (child-worker.ts), the gRPC
 * and REST servers' own entry points (services/grpc-server.ts, services/http-server.ts) in child
 * processes, and a Temporal dev server of a test's own, on a SQLite file it can be restarted on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { devServerArgs } from '../../services/temporal-dev-server.ts';
import { testStack } from '../helpers/stack.ts';
import { workflowBundle } from '../helpers/temporal.ts';
import { sleep } from '../helpers/wait.ts';
import { present } from '../helpers/present.ts';

const childWorkerPath = fileURLToPath(new URL('./child-worker.ts', import.meta.url));
const grpcServerPath = fileURLToPath(new URL('../../services/grpc-server.ts', import.meta.url));
const httpServerPath = fileURLToPath(new URL('../../services/http-server.ts', import.meta.url));

/** A scratch directory for a test's files (a workflow bundle, a server's SQLite file); `remove` deletes it. */
export async function scratchDirectory(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'inventory-faults-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Writes the service's workflow bundle (bundled once per run) to a file a child worker loads. */
export async function writeWorkflowBundle(directory: string): Promise<string> {
  const path = join(directory, 'workflow-bundle.js');
  await writeFile(path, (await workflowBundle()).code);
  return path;
}

export interface ChildProcessHandle {
  process: ChildProcess;
  /** What it wrote to stdout and stderr, for a failure's message. */
  output(): string;
  /** SIGKILL, then waits for it to be gone. Safe to call again. */
  kill(): Promise<void>;
}

function track(child: ChildProcess): ChildProcessHandle & { exited: Promise<void> } {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    process: child,
    exited,
    output: () => output.slice(-4000),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Starts child-worker.ts and resolves once it polls `taskQueue`. */
export function spawnChildWorker(options: {
  address: string;
  taskQueue: string;
  databaseUrl: string;
  bundlePath: string;
  /** Activities replaced in this worker: `fail` for good (non-retryable), or `hang` (never answer). */
  activityFaults?: Record<string, 'fail' | 'hang'>;
}): Promise<ChildProcessHandle> {
  return spawnEntryPoint(
    'child worker',
    childWorkerPath,
    {
      FAULT_TEMPORAL_ADDRESS: options.address,
      FAULT_TASK_QUEUE: options.taskQueue,
      FAULT_DATABASE_URL: options.databaseUrl,
      FAULT_WORKFLOW_BUNDLE: options.bundlePath,
      FAULT_ACTIVITY_FAULTS: JSON.stringify(options.activityFaults ?? {}),
    },
    'polling',
  );
}

/**
 * For a suite that kills child workers: mocha hooks that write the workflow bundle once before the suite
 * (removed after it) and kill every child worker a test started after the test. `start` spawns one on the
 * run's Temporal server, or on `address`.
 */
export function childWorkers(): {
  start(options: {
    taskQueue: string;
    address?: string;
    activityFaults?: Record<string, 'fail' | 'hang'>;
  }): Promise<ChildProcessHandle>;
} {
  let directory: Awaited<ReturnType<typeof scratchDirectory>> | undefined;
  let bundlePath: string | undefined;
  const started: ChildProcessHandle[] = [];
  before(async () => {
    directory = await scratchDirectory();
    bundlePath = await writeWorkflowBundle(directory.path);
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((c) => c.kill()));
  });
  after(async () => {
    await directory?.remove();
  });
  return {
    async start({ taskQueue, address, activityFaults }) {
      if (!bundlePath) throw new Error('childWorkers(): the suite has not started');
      const stack = testStack();
      const child = await spawnChildWorker({
        address: address ?? stack.temporal.address,
        taskQueue,
        databaseUrl: stack.databaseUrl,
        bundlePath,
        activityFaults,
      });
      started.push(child);
      return child;
    },
  };
}

/**
 * Starts one of the service's entry points (configured by the environment as in production) or the child
 * worker, and resolves once its output says `listeningLine`.
 */
async function spawnEntryPoint(what: string, path: string, env: NodeJS.ProcessEnv, listeningLine: string) {
  const child = spawn(process.execPath, [path], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', LOG_FORMAT: 'json', ...env },
  });
  const handle = track(child);
  const listening = new Promise<void>((resolve, reject) => {
    present(child.stdout, `the ${what}'s stdout`).on(
      'data',
      () => handle.output().includes(listeningLine) && resolve(),
    );
    void handle.exited.then(() => reject(new Error(`the ${what} exited before listening:\n${handle.output()}`)));
  });
  const timeout = sleep(30_000).then(() => {
    throw new Error(`the ${what} did not listen within 30 s:\n${handle.output()}`);
  });
  try {
    await Promise.race([listening, timeout]);
  } catch (error) {
    await handle.kill();
    throw error;
  }
  return handle;
}

/** Where a REST or gRPC server in a child process finds the stack, and the port it listens on (127.0.0.1). */
export interface ServiceProcessOptions {
  port: number;
  address: string;
  taskQueue: string;
  databaseUrl: string;
  /** The run's issuer's key set, in a file: tokens are checked against it. */
  jwksFile: string;
}

/**
 * Starts the service's gRPC server (services/grpc-server.ts) on 127.0.0.1:`port`, and resolves once it
 * listens. No metrics port.
 */
export function spawnGrpcServer(options: ServiceProcessOptions): Promise<ChildProcessHandle> {
  return spawnEntryPoint(
    'gRPC server',
    grpcServerPath,
    {
      DATABASE_URL: options.databaseUrl,
      TEMPORAL_ADDRESS: options.address,
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(options.port),
      GRPC_METRICS_PORT: '0',
      AUTH_JWKS_FILE: options.jwksFile,
    },
    'gRPC listening on',
  );
}

/**
 * Starts the service's REST server (services/http-server.ts) on 127.0.0.1:`port`, and resolves once it
 * listens; its /ready checks `amqpUrl` and the system role's `systemDatabaseUrl`.
 */
export function spawnHttpServer(
  options: ServiceProcessOptions & { systemDatabaseUrl: string; amqpUrl: string },
): Promise<ChildProcessHandle> {
  return spawnEntryPoint(
    'REST server',
    httpServerPath,
    {
      DATABASE_URL: options.databaseUrl,
      DATABASE_SYSTEM_URL: options.systemDatabaseUrl,
      AMQP_URL: options.amqpUrl,
      TEMPORAL_ADDRESS: options.address,
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(options.port),
      AUTH_JWKS_FILE: options.jwksFile,
    },
    'REST listening on',
  );
}

/** A free TCP port on 127.0.0.1 (free when asked: the caller binds it soon after). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * `temporal server start-dev` on `port`, its state in `dbFile` (so a restart on the same file and port
 * finds every workflow and timer again), headless, with the service's search attributes and dynamic
 * config, as the global fixtures start theirs. Resolves once the frontend answers.
 */
export async function startDevServer(options: { dbFile: string; port: number }): Promise<ChildProcessHandle> {
  const cli = process.env.TEMPORAL_CLI_PATH;
  if (!cli) throw new Error('TEMPORAL_CLI_PATH is not set: run the tests with `npm test`');
  const child = spawn(cli, devServerArgs({ port: options.port, dbFile: options.dbFile }), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const handle = track(child);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the dev server exited at start:\n${handle.output()}`);
    try {
      const connection = await Connection.connect({ address: `127.0.0.1:${options.port}`, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        return handle;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline) {
        await handle.kill();
        throw new Error(`the dev server did not answer within 30 s (${(error as Error).message}):\n${handle.output()}`);
      }
      await sleep(200);
    }
  }
}
