/**
 * The service's parts as separate processes, started as `npm start` starts them (scripts/start.ts,
 * `spawnPart`), and a Temporal dev server of the run's own: for the benchmarks that need the real process
 * boundaries (the soak, the `npm start` stack, and ReserveStock with one and two worker and gRPC processes).
 * Each process writes its output to a log file; a part counts as started once its GET /ready answers 200.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Channel } from 'amqplib';
import { Connection } from '@temporalio/client';
import { parts, spawnPart, workflowBundleEnv, type Part } from '../scripts/start.ts';
import { stopChild } from '../scripts/infrastructure.ts';
import { freePort } from '../scripts/temporal-cluster.ts';
import { itemAt } from '../services/guaranteed.ts';
import { devServerArgs } from '../services/temporal-dev-server.ts';

export interface RunningProcess {
  /** The part's name, numbered when several run (`grpc-server 2`). */
  name: string;
  pid: number;
  /** How it ended, if it ended before `stop`. */
  exited(): string | undefined;
  /** SIGTERM (the part drains), SIGKILL after `graceMs`; resolves once it is gone. Safe to call again. */
  stop(graceMs?: number): Promise<void>;
}

/** The environment variable naming the port where each part answers GET /ready. */
const readyPortVariable: Record<Part, string> = {
  worker: 'WORKER_HEALTH_PORT',
  'grpc-server': 'GRPC_METRICS_PORT',
  'http-server': 'HTTP_PORT',
  relay: 'RELAY_METRICS_PORT',
  consumer: 'CONSUMER_METRICS_PORT',
};

/**
 * Free loopback ports for one process of each part (API, health and metrics ports), so that several
 * stacks and the shared test runs on this machine never collide. The worker's SDK metrics exporter is off.
 */
export async function partPorts(): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {
    HTTP_HOST: '127.0.0.1',
    GRPC_HOST: '127.0.0.1',
    METRICS_HOST: '127.0.0.1',
    WORKER_METRICS_PORT: '0',
  };
  const names = ['GRPC_PORT', ...Object.values(readyPortVariable)];
  // Each port is free when asked, but the OS may hand the same one out twice in a row: the configuration
  // refuses two parts' ports alike (services/config.ts), so ask until they all differ.
  const ports = new Set<number>();
  while (ports.size < names.length) ports.add(await freePort());
  for (const [i, port] of [...ports].entries()) env[itemAt(names, i, 'the port variables')] = String(port);
  return env;
}

/** Starts one part with `env` (which names its ports, see `partPorts`) and waits until it is ready. */
export async function startPart(
  part: Part,
  env: NodeJS.ProcessEnv,
  options: { logFile: string; name?: string; readyWithinMs?: number },
): Promise<RunningProcess> {
  const port = env[readyPortVariable[part]];
  if (!port || port === '0') throw new Error(`${part} needs ${readyPortVariable[part]} set to say when it is ready`);
  const log = openSync(options.logFile, 'a');
  const child = spawnPart(part, env, ['ignore', log, log]);
  closeSync(log);
  const running = tracked(options.name ?? part, child, options.logFile);
  const deadline = Date.now() + (options.readyWithinMs ?? 180_000);
  for (;;) {
    const ended = running.exited();
    if (ended) throw new Error(`${running.name} ${ended} while starting:\n${tail(options.logFile)}`);
    const ready = await fetch(`http://127.0.0.1:${port}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return running;
    if (Date.now() > deadline) {
      await running.stop(1000);
      throw new Error(`${running.name} was not ready within ${options.readyWithinMs ?? 180_000} ms`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Every part of the service, one process each, started in `npm start`'s order with `env` (see `stackEnv`),
 * each logging to `dir`/<part>.log, the worker on a workflow bundle made in `dir` as `npm start` makes one;
 * resolves once all are ready. The caller stops them.
 */
export async function startParts(
  env: NodeJS.ProcessEnv,
  dir: string,
  log: (line: string) => void,
  running: RunningProcess[] = [],
): Promise<RunningProcess[]> {
  const partsEnv = { ...env, ...(await workflowBundleEnv(env, dir)) };
  for (const part of parts) {
    const started = await startPart(part, partsEnv, { logFile: path.join(dir, `${part}.log`) });
    running.push(started);
    log(`${part} ready (pid ${started.pid})`);
  }
  return running;
}

/** Exchange and queue names of a stack's own, so that its relay and consumer touch nobody else's. */
export function privateExchanges(prefix: string) {
  return {
    EVENTS_EXCHANGE: `${prefix}.inventory.events`,
    ORDER_EVENTS_EXCHANGE: `${prefix}.order.events`,
    CATALOG_EVENTS_EXCHANGE: `${prefix}.catalog.events`,
    PURCHASING_EVENTS_EXCHANGE: `${prefix}.purchasing.events`,
    CONSUMER_QUEUE_PREFIX: prefix,
  };
}

/** Deletes what a stack on `privateExchanges` declared: the consumer's queues, then the exchanges. */
export async function deletePrivateExchanges(
  channel: Channel,
  names: ReturnType<typeof privateExchanges>,
): Promise<void> {
  for (const source of ['order-events', 'catalog-events', 'purchasing-events', 'dead-letter'])
    await channel.deleteQueue(`${names.CONSUMER_QUEUE_PREFIX}.${source}`);
  for (const [key, exchange] of Object.entries(names))
    if (key.endsWith('EXCHANGE')) await channel.deleteExchange(exchange);
}

/**
 * The environment of a stack's parts as `npm start` gives it, on a run's own database, broker names and
 * Temporal server, each part on free ports, logging warnings and up as JSON.
 */
export async function stackEnv(options: {
  databaseUrls: { runtime: string; owner: string; system: string };
  amqpUrl: string;
  exchanges: ReturnType<typeof privateExchanges>;
  temporalAddress: string;
  jwksFile: string;
}): Promise<NodeJS.ProcessEnv> {
  return {
    ...process.env,
    ...(await partPorts()),
    ...options.exchanges,
    DATABASE_URL: options.databaseUrls.runtime,
    DATABASE_OWNER_URL: options.databaseUrls.owner,
    DATABASE_SYSTEM_URL: options.databaseUrls.system,
    AMQP_URL: options.amqpUrl,
    TEMPORAL_ADDRESS: options.temporalAddress,
    AUTH_JWKS_FILE: options.jwksFile,
    SEED_DEMO_DATA: 'false',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    SHUTDOWN_GRACE_MS: '5000',
  };
}

/**
 * `temporal server start-dev` on a free port with its state in `dbFile` (as `npm start` keeps it in a file),
 * headless, with the service's search attributes, dynamic config and SQLite pragmas (`sqlitePragmas` replaces
 * the latter, to compare). Resolves once the namespace answers.
 */
export async function startTemporalDevServer(options: {
  dbFile: string;
  logFile: string;
  sqlitePragmas?: Record<string, string>;
}): Promise<RunningProcess & { address: string }> {
  const port = await freePort();
  const log = openSync(options.logFile, 'a');
  const args = devServerArgs({
    port,
    dbFile: options.dbFile,
    ...(options.sqlitePragmas ? { sqlitePragmas: options.sqlitePragmas } : {}),
  });
  const child = spawn(process.env.TEMPORAL_CLI_PATH ?? 'temporal', args, {
    stdio: ['ignore', log, log],
    detached: true,
  });
  closeSync(log);
  const running = { ...tracked('temporal', child, options.logFile), address: `127.0.0.1:${port}` };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ended = running.exited();
    if (ended) throw new Error(`the Temporal dev server ${ended} while starting:\n${tail(options.logFile)}`);
    try {
      const connection = await Connection.connect({ address: running.address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        return running;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline) {
        await running.stop(1000);
        throw new Error(`the Temporal dev server did not answer within 60 s: ${(error as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

function tracked(name: string, child: ChildProcess, logFile: string): RunningProcess {
  let ended: string | undefined;
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) ended = `exited (${signal ?? `code ${code}`}); its log: ${logFile}`;
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} did not start`);
  return {
    name,
    pid,
    exited: () => ended,
    stop: (graceMs = 15_000) => {
      stopping = true;
      return stopChild(child, name, graceMs);
    },
  };
}

function tail(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').slice(-3000);
  } catch {
    return '(no log)';
  }
}
