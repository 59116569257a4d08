/**
 * The service's parts run as production runs them, as processes configured by the environment alone,
 * against the run's hermetic stack: free ports, exchanges, queues and a task queue of their own, the
 * run's token issuer and a workflow bundle built ahead of time (so a worker starts in a second).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { freePort } from '../../scripts/temporal-cluster.ts';
import { metricsPorts } from '../../services/config.ts';
import { testStack } from './stack.ts';
import { workflowBundle } from './temporal.ts';

export const parts = ['http-server', 'grpc-server', 'worker', 'relay', 'consumer'] as const;
export type Part = (typeof parts)[number];

const portNames = ['HTTP_PORT', 'GRPC_PORT', ...metricsPorts] as const;

export interface ServiceEnvironment {
  env: NodeJS.ProcessEnv;
  ports: Record<(typeof portNames)[number], number>;
  /** The exchanges and the consumer's queue prefix, this environment's own. */
  names: Record<
    'EVENTS_EXCHANGE' | 'ORDER_EVENTS_EXCHANGE' | 'CATALOG_EVENTS_EXCHANGE' | 'PURCHASING_EVENTS_EXCHANGE',
    string
  > & { CONSUMER_QUEUE_PREFIX: string };
  /** Each part's readiness probe; `/health` is beside it. */
  readyUrl(part: Part): string;
  /** Deletes the queues and exchanges the parts declared, and the scratch folder. */
  remove(): Promise<void>;
}

/** An environment for the parts, unique to `label` and this process. */
export async function serviceEnvironment(label: string, settings: NodeJS.ProcessEnv = {}): Promise<ServiceEnvironment> {
  const stack = testStack();
  const id = `${process.pid}.${randomBytes(3).toString('hex')}`;
  const dir = await mkdtemp(path.join(tmpdir(), `inventory-${label}-`));
  const jwksFile = path.join(dir, 'jwks.json');
  await writeFile(jwksFile, JSON.stringify(stack.issuer.jwks));
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  await writeFile(bundlePath, (await workflowBundle()).code);
  const found = new Set<number>();
  while (found.size < portNames.length) found.add(await freePort());
  const ports = Object.fromEntries(portNames.map((name, i) => [name, [...found][i]])) as ServiceEnvironment['ports'];
  const names = {
    EVENTS_EXCHANGE: `inventory.events.${label}.${id}`,
    ORDER_EVENTS_EXCHANGE: `order.events.${label}.${id}`,
    CATALOG_EVENTS_EXCHANGE: `catalog.events.${label}.${id}`,
    PURCHASING_EVENTS_EXCHANGE: `purchasing.events.${label}.${id}`,
    CONSUMER_QUEUE_PREFIX: `inventory.${label}.${id}`,
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    DATABASE_URL: stack.databaseUrl,
    DATABASE_SYSTEM_URL: stack.systemDatabaseUrl,
    DATABASE_OWNER_URL: stack.ownerDatabaseUrl,
    DB_POOL_MAX: '4',
    AMQP_URL: stack.amqpUrl,
    TEMPORAL_ADDRESS: stack.temporal.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: `${label}-${id}`,
    WORKFLOW_BUNDLE_PATH: bundlePath,
    ...names,
    HTTP_HOST: '127.0.0.1',
    GRPC_HOST: '127.0.0.1',
    METRICS_HOST: '127.0.0.1',
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    AUTH_JWKS_FILE: jwksFile,
    SEED_DEMO_DATA: 'false',
    RECONCILIATION_CRON: 'off',
    RETENTION_CRON: 'off',
    ...settings,
  };
  const readyPorts: Record<Part, number> = {
    'http-server': ports.HTTP_PORT,
    'grpc-server': ports.GRPC_METRICS_PORT,
    worker: ports.WORKER_HEALTH_PORT,
    relay: ports.RELAY_METRICS_PORT,
    consumer: ports.CONSUMER_METRICS_PORT,
  };
  return {
    env,
    ports,
    names,
    readyUrl: (part) => `http://127.0.0.1:${readyPorts[part]}/ready`,
    remove: async () => {
      const connection = await amqp.connect(stack.amqpUrl);
      try {
        const channel = await connection.createChannel();
        for (const queue of ['order-events', 'catalog-events', 'purchasing-events', 'dead-letter'])
          await channel.deleteQueue(`${names.CONSUMER_QUEUE_PREFIX}.${queue}`);
        for (const exchange of [
          names.EVENTS_EXCHANGE,
          names.ORDER_EVENTS_EXCHANGE,
          names.CATALOG_EVENTS_EXCHANGE,
          names.PURCHASING_EVENTS_EXCHANGE,
        ])
          await channel.deleteExchange(exchange);
      } finally {
        await connection.close();
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export type ProbeAnswer = { status: number; body: { status?: string } & Record<string, unknown> } | 'refused';

/** GET a probe (/health, /ready): its status and JSON body, or 'refused' when nothing answers within 3 s. */
export async function probe(url: string): Promise<ProbeAnswer> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    const text = await response.text();
    return {
      status: response.status,
      body: response.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as { status?: string }) : {},
    };
  } catch {
    return 'refused';
  }
}
