import amqp from 'amqplib';
import type { Connection } from '@temporalio/client';
import type { Orm } from './db/orm.ts';
import { pendingOutboxCount } from './messaging/outbox.store.ts';
import type { CatalogClient, CatalogState } from './catalog/catalog-client.ts';

/**
 * What /ready reports: each dependency's state, checked live with a short timeout so the probe always
 * answers quickly. PostgreSQL and Temporal are required; without RabbitMQ the service still works
 * (events wait in the outbox), so it is reported as degraded, not unready. So is a catalog that does
 * not answer (its circuit breaker is open): new variants are let through unchecked meanwhile. The
 * catalog is not called by the probe; its state is the breaker's.
 */
export interface Readiness {
  status: 'ready' | 'degraded' | 'unready';
  checks: Record<'postgresql' | 'rabbitmq' | 'temporal', Check> & {
    catalog: CatalogState | { status: 'off'; detail: string };
  };
  outbox: { pending: number | null };
  /** How this process checks bearer tokens; `verified: false` only under the development switch. */
  authentication?: { verified: boolean; detail: string };
}

export interface Check {
  status: 'up' | 'down';
  latency_ms?: number;
  detail?: string;
}

export interface ReadinessDeps {
  /** The runtime role's pool: PostgreSQL is up when it answers. */
  orm: Orm;
  /** The system role's pool: the outbox backlog spans every organization (row-level security hides it from `orm`). */
  systemOrm: Orm;
  amqpUrl: string;
  temporal: Connection;
  /** The catalog client, when CATALOG_GRPC_ADDRESS configures one. */
  catalog?: Pick<CatalogClient, 'state'>;
  /** Reported as is, so a deployment left with verification off shows it where ops look. */
  authentication?: { verified: boolean; detail: string };
  timeoutMs?: number;
}

/**
 * Answers the report; `close` lets go of the broker connection it watches. `drain` turns readiness false
 * for good at the start of a shutdown (GET /ready then answers 503 `{"status":"draining"}`).
 */
export type ReadinessProbe = (() => Promise<Readiness>) & {
  close(): Promise<void>;
  drain(): void;
  draining(): boolean;
};

export function createReadinessProbe(deps: ReadinessDeps): ReadinessProbe {
  const { orm, systemOrm, amqpUrl, temporal, catalog, authentication, timeoutMs = 1500 } = deps;
  const broker = watchBroker(amqpUrl, timeoutMs);
  const probe = async (): Promise<Readiness> => {
    const [postgresql, rabbitmq, temporalCheck, pending] = await Promise.all([
      timed(timeoutMs, () => orm.em.fork().execute('select 1')),
      broker.check(),
      timed(timeoutMs, () =>
        temporal.withDeadline(Date.now() + timeoutMs, () => temporal.workflowService.getSystemInfo({})),
      ),
      withTimeout(timeoutMs, pendingOutboxCount(systemOrm.em.fork())).catch(() => null),
    ]);
    if (rabbitmq.status === 'down') {
      rabbitmq.detail = `RabbitMQ is not reachable (${rabbitmq.detail}); events are kept in the outbox (${pending ?? 'unknown'} pending) and published when it is back`;
    }
    const catalogCheck = catalog?.state() ?? {
      status: 'off' as const,
      detail: 'CATALOG_GRPC_ADDRESS is not set: variants are not validated',
    };
    const degraded = rabbitmq.status === 'down' || catalogCheck.status === 'down';
    const status =
      postgresql.status === 'down' || temporalCheck.status === 'down' ? 'unready' : degraded ? 'degraded' : 'ready';
    return {
      status,
      checks: { postgresql, rabbitmq, temporal: temporalCheck, catalog: catalogCheck },
      outbox: { pending },
      ...(authentication ? { authentication } : {}),
    };
  };
  let draining = false;
  return Object.assign(probe, {
    close: broker.close,
    drain: () => {
      draining = true;
    },
    draining: () => draining,
  });
}

/**
 * What GET /ready answers for a part without a REST server of its own (gRPC, worker, relay, consumer):
 * 200 when `ready` or `degraded` (it works, with less), 503 when `unready` or `draining`, with details.
 */
export interface PartReport {
  status: 'ready' | 'degraded' | 'unready' | 'draining';
  [detail: string]: unknown;
}

/** A part's readiness: its own check until `drain()`, then `draining` for good (the part is stopping). */
export interface PartHealth {
  report(): Promise<PartReport>;
  drain(): void;
  draining(): boolean;
}

export function createPartHealth(check: () => PartReport | Promise<PartReport>): PartHealth {
  let draining = false;
  return {
    report: async () => (draining ? { status: 'draining' } : check()),
    drain: () => {
      draining = true;
    },
    draining: () => draining,
  };
}

/**
 * Waits for `work` at most `graceMs`: true when it finished in time. What is still running then is the
 * caller's to stop hard (a shutdown's grace period, SHUTDOWN_GRACE_MS).
 */
export function finishedWithin(graceMs: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)));
  return Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    late,
  ]).finally(() => clearTimeout(timer));
}

/**
 * One long-lived connection to the broker, watched: a probe reads its state instead of opening a
 * connection of its own (an orchestrator probing every few seconds would otherwise churn connections on
 * the broker). A lost connection is reopened with backoff (0.5 s doubling to 10 s); the first probe waits
 * for the first attempt, so a process that just started reports what is true.
 */
function watchBroker(amqpUrl: string, timeoutMs: number) {
  let state: Check = { status: 'down', detail: 'not connected yet' };
  let connection: Awaited<ReturnType<typeof amqp.connect>> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  let delayMs = 500;

  async function connect(): Promise<void> {
    try {
      const opened = await amqp.connect(amqpUrl, { timeout: timeoutMs });
      if (closed) return void (await opened.close().catch(() => undefined));
      connection = opened;
      state = { status: 'up' };
      delayMs = 500;
      opened.on('error', () => undefined);
      opened.on('close', () => {
        connection = undefined;
        state = { status: 'down', detail: 'the connection to RabbitMQ was lost' };
        reconnect();
      });
    } catch (error) {
      state = { status: 'down', detail: error instanceof Error ? error.message : String(error) };
      reconnect();
    }
  }
  function reconnect(): void {
    if (closed) return;
    retry = setTimeout(() => void connect(), delayMs);
    delayMs = Math.min(delayMs * 2, 10_000);
  }
  const first = connect();
  return {
    check: async (): Promise<Check> => {
      await first;
      return { ...state };
    },
    close: async (): Promise<void> => {
      closed = true;
      clearTimeout(retry);
      await first;
      await connection?.close().catch(() => undefined);
    },
  };
}

async function timed(timeoutMs: number, probe: () => Promise<unknown>): Promise<Check> {
  const started = performance.now();
  try {
    await withTimeout(timeoutMs, probe());
    return { status: 'up', latency_ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { status: 'down', detail: error instanceof Error ? error.message : String(error) };
  }
}

function withTimeout<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  // A late failure of the probe itself must not become an unhandled rejection.
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
