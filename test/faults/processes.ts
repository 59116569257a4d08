/**
 * Processes the fault tests kill with SIGKILL: a worker in a child process (child-worker.ts), the gRPC
 * server's own entry point (services/grpc-server.ts) in a child process, and a Temporal dev server of a
 * test's own, on a SQLite file it can be restarted on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { dynamicConfigFlags, searchAttributeFlags } from '../../services/temporal-dev-server.ts';
import { workflowBundle } from '../helpers/temporal.ts';
import { sleep } from '../helpers/wait.ts';
import { present } from '../helpers/present.ts';

const childWorkerPath = fileURLToPath(new URL('./child-worker.ts', import.meta.url));
const grpcServerPath = fileURLToPath(new URL('../../services/grpc-server.ts', import.meta.url));

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
export async function spawnChildWorker(options: {
  address: string;
  taskQueue: string;
  databaseUrl: string;
  bundlePath: string;
  /** Activities replaced in this worker: `fail` for good (non-retryable), or `hang` (never answer). */
  activityFaults?: Record<string, 'fail' | 'hang'>;
}): Promise<ChildProcessHandle> {
  const child = spawn(process.execPath, [childWorkerPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      FAULT_TEMPORAL_ADDRESS: options.address,
      FAULT_TASK_QUEUE: options.taskQueue,
      FAULT_DATABASE_URL: options.databaseUrl,
      FAULT_WORKFLOW_BUNDLE: options.bundlePath,
      FAULT_ACTIVITY_FAULTS: JSON.stringify(options.activityFaults ?? {}),
    },
  });
  const handle = track(child);
  const polling = new Promise<void>((resolve, reject) => {
    present(child.stdout, "the child worker's stdout").on(
      'data',
      () => handle.output().includes('polling') && resolve(),
    );
    void handle.exited.then(() => reject(new Error(`the child worker exited before polling:\n${handle.output()}`)));
  });
  const timeout = sleep(30_000).then(() => {
    throw new Error(`the child worker did not poll within 30 s:\n${handle.output()}`);
  });
  try {
    await Promise.race([polling, timeout]);
  } catch (error) {
    await handle.kill();
    throw error;
  }
  return handle;
}

/**
 * Starts the service's gRPC server (services/grpc-server.ts, configured by the environment as in
 * production) on 127.0.0.1:`port`, and resolves once it listens. Tokens are checked against `jwksFile`
 * (the run's issuer's key set); no metrics port.
 */
export async function spawnGrpcServer(options: {
  port: number;
  address: string;
  taskQueue: string;
  databaseUrl: string;
  jwksFile: string;
}): Promise<ChildProcessHandle> {
  const child = spawn(process.execPath, [grpcServerPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      DATABASE_URL: options.databaseUrl,
      TEMPORAL_ADDRESS: options.address,
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(options.port),
      GRPC_METRICS_PORT: '0',
      AUTH_JWKS_FILE: options.jwksFile,
    },
  });
  const handle = track(child);
  const listening = new Promise<void>((resolve, reject) => {
    present(child.stdout, "the gRPC server's stdout").on(
      'data',
      () => handle.output().includes('gRPC listening on') && resolve(),
    );
    void handle.exited.then(() => reject(new Error(`the gRPC server exited before listening:\n${handle.output()}`)));
  });
  const timeout = sleep(30_000).then(() => {
    throw new Error(`the gRPC server did not listen within 30 s:\n${handle.output()}`);
  });
  try {
    await Promise.race([listening, timeout]);
  } catch (error) {
    await handle.kill();
    throw error;
  }
  return handle;
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
  const child = spawn(
    cli,
    [
      'server',
      'start-dev',
      '--db-filename',
      options.dbFile,
      '--ip',
      '127.0.0.1',
      '--port',
      String(options.port),
      '--headless',
      '--namespace',
      'default',
      '--log-level',
      'error',
      ...searchAttributeFlags(),
      ...dynamicConfigFlags(),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
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
