/**
 * A real Temporal server (go.temporal.io/server, built by the bootstrap) with PostgreSQL persistence, the
 * way production runs Temporal, as an alternative to the dev server: `TEMPORAL_MODE=cluster npm start`,
 * `TEMPORAL_MODE=cluster npm test`. Its two databases are created and migrated with Temporal's own SQL tool
 * on the PostgreSQL the service uses; the frontend, history, matching and worker services run in one
 * process, or each in its own (`TEMPORAL_CLUSTER_PROCESSES=4`); the history shard count is
 * `TEMPORAL_HISTORY_SHARDS` (fixed for the life of the databases, so it is part of their names).
 * The namespace and the service's search attributes are registered with the Temporal CLI.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { dynamicConfigYaml, searchAttributeFlags } from '../services/temporal-dev-server.ts';
import { itemAt } from '../services/guaranteed.ts';

export interface TemporalCluster {
  address: string;
  processes: ChildProcess[];
  stop(): Promise<void>;
}

export interface TemporalClusterOptions {
  /** Any database URL of the PostgreSQL server to keep Temporal's databases on. */
  postgresUrl: string;
  /** Where the generated configuration (and the server's logs of a failed start) go. */
  dir: string;
  /** The frontend's port (0 = a free one). */
  frontendPort: number;
  /** Database name prefix, so test runs and `npm start` never share Temporal's state. */
  databasePrefix: string;
  shards?: number;
  processes?: 1 | 4;
  say?: (line: string) => void;
}

const run = promisify(execFile);
const services = ['frontend', 'history', 'matching', 'worker'] as const;

function tool(
  name: 'TEMPORAL_SERVER_PATH' | 'TEMPORAL_SQL_TOOL_PATH' | 'TEMPORAL_SCHEMA_DIR' | 'TEMPORAL_CLI_PATH',
): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: run through npm (scripts/toolchain.sh builds the Temporal server when TEMPORAL_MODE=cluster)`,
    );
  return value;
}

/** A free port; below 32768 for membership ports, which Temporal stores as a smallint. */
export async function freePort(below?: number): Promise<number> {
  for (;;) {
    const wanted = below ? 20_000 + Math.floor(Math.random() * (below - 20_000)) : 0;
    const port = await new Promise<number | undefined>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(undefined));
      server.listen(wanted, '127.0.0.1', () => {
        const { port: bound } = server.address() as net.AddressInfo;
        server.close(() => resolve(bound));
      });
    });
    if (port) return port;
  }
}

/** Creates (once) and migrates Temporal's two databases with its SQL tool; safe to run at every start. */
async function prepareDatabases(url: URL, names: [string, string]): Promise<void> {
  const schemaDir = tool('TEMPORAL_SCHEMA_DIR');
  const sqlTool = tool('TEMPORAL_SQL_TOOL_PATH');
  const env = {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: url.hostname,
    SQL_PORT: url.port || '5432',
    SQL_USER: decodeURIComponent(url.username || 'postgres'),
    SQL_PASSWORD: decodeURIComponent(url.password),
  };
  for (const [database, schema] of [
    [names[0], 'temporal'],
    [names[1], 'visibility'],
  ] as const) {
    await run(sqlTool, ['--db', database, 'create-database'], { env }).catch(() => undefined); // exists already
    await run(sqlTool, ['--db', database, 'setup-schema', '-v', '0.0'], { env }).catch(() => undefined); // set up already
    await run(
      sqlTool,
      ['--db', database, 'update-schema', '-d', path.join(schemaDir, 'postgresql', 'v12', schema, 'versioned')],
      { env },
    );
  }
}

function configYaml(
  url: URL,
  names: [string, string],
  shards: number,
  ports: Record<(typeof services)[number], { grpc: number; membership: number }>,
  frontendAddress: string,
  dynamicConfigPath: string,
): string {
  const datastore = (database: string, maxConns: number) => `
      sql:
        pluginName: "postgres12"
        databaseName: "${database}"
        connectAddr: "${url.hostname}:${url.port || '5432'}"
        connectProtocol: "tcp"
        user: "${decodeURIComponent(url.username || 'postgres')}"
        password: "${decodeURIComponent(url.password)}"
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  const service = (name: (typeof services)[number]) => `
  ${name}:
    rpc:
      grpcPort: ${ports[name].grpc}
      membershipPort: ${ports[name].membership}
      bindOnLocalHost: true`;
  return `log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: ${shards}
  datastores:
    default:${datastore(names[0], 20)}
    visibility:${datastore(names[1], 4)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
services:${services.map(service).join('')}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "${frontendAddress}"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "${dynamicConfigPath}"
  pollInterval: "10s"
`;
}

/** Registers the namespace and the service's search attributes (both idempotent). */
async function registerNamespace(address: string): Promise<void> {
  const cli = tool('TEMPORAL_CLI_PATH');
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await run(cli, ['operator', 'cluster', 'health', '--address', address]);
      break;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`the Temporal server at ${address} did not become healthy: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  await run(cli, ['operator', 'namespace', 'describe', '--namespace', 'default', '--address', address]).catch(() =>
    run(cli, ['operator', 'namespace', 'create', '--namespace', 'default', '--retention', '72h', '--address', address]),
  );
  // The dev server's flags name the same attributes: --search-attribute Name=Type.
  const flags = searchAttributeFlags();
  const args: string[] = [];
  for (let i = 1; i < flags.length; i += 2) {
    const flag = itemAt(flags, i, 'search attribute flags');
    const [name, type] = flag.split('=');
    if (name === undefined || type === undefined) throw new Error(`not a search attribute Name=Type: ${flag}`);
    args.push('--name', name, '--type', type);
  }
  // A new namespace takes a moment to reach every service: retry until the attributes are accepted.
  for (let attempt = 0; ; attempt += 1) {
    try {
      await run(cli, [
        'operator',
        'search-attribute',
        'create',
        '--namespace',
        'default',
        '--address',
        address,
        ...args,
      ]);
      return;
    } catch (error) {
      if (/already exists/i.test(String((error as { stderr?: string }).stderr ?? error))) return;
      if (attempt > 30) throw error;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalCluster> {
  const url = new URL(options.postgresUrl);
  const shards = options.shards ?? 4;
  const names: [string, string] = [
    `${options.databasePrefix}_s${shards}`,
    `${options.databasePrefix}_s${shards}_visibility`,
  ];
  await prepareDatabases(url, names);

  const frontendPort = options.frontendPort || (await freePort());
  const ports = {} as Record<(typeof services)[number], { grpc: number; membership: number }>;
  for (const name of services)
    ports[name] = { grpc: name === 'frontend' ? frontendPort : await freePort(), membership: await freePort(32_768) };
  const address = `127.0.0.1:${frontendPort}`;
  const configDir = path.join(options.dir, 'config');
  mkdirSync(configDir, { recursive: true });
  const dynamicConfigPath = path.join(configDir, 'dynamic.yaml');
  // Eager activity execution, as on the dev server (README, Benchmark).
  writeFileSync(dynamicConfigPath, dynamicConfigYaml());
  writeFileSync(
    path.join(configDir, 'development.yaml'),
    configYaml(url, names, shards, ports, address, dynamicConfigPath),
  );

  const groups: string[][] = options.processes === 4 ? services.map((s) => [s]) : [[...services]];
  const processes = groups.map((group) =>
    spawn(
      tool('TEMPORAL_SERVER_PATH'),
      [
        '--root',
        options.dir,
        '--config',
        'config',
        '--env',
        'development',
        '--allow-no-auth',
        'start',
        ...group.flatMap((s) => ['--service', s]),
      ],
      {
        stdio: 'ignore',
      },
    ),
  );
  const stop = async () => {
    await Promise.all(
      processes.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  };
  try {
    await registerNamespace(address);
  } catch (error) {
    await stop();
    throw error;
  }
  options.say?.(
    `Temporal server ${shards} shards, ${processes.length} process(es), databases ${names.join(', ')}, frontend ${address}`,
  );
  return { address, processes, stop };
}

/** Drops the databases a cluster of this prefix used (tests). */
export async function dropClusterDatabases(postgresUrl: string, databasePrefix: string, shards = 4): Promise<void> {
  const url = new URL(postgresUrl);
  const env = {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: url.hostname,
    SQL_PORT: url.port || '5432',
    SQL_USER: decodeURIComponent(url.username || 'postgres'),
    SQL_PASSWORD: decodeURIComponent(url.password),
  };
  for (const database of [`${databasePrefix}_s${shards}`, `${databasePrefix}_s${shards}_visibility`]) {
    await run(tool('TEMPORAL_SQL_TOOL_PATH'), ['--db', database, 'drop-database', '--force'], { env }).catch(
      () => undefined,
    );
  }
}
