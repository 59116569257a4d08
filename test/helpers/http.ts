import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createHttpApp } from '../../services/http/app.ts';
import { createReadinessProbe } from '../../services/readiness.ts';
import type { CatalogClient } from '../../services/catalog/catalog-client.ts';
import { testStack, tokenFor } from './stack.ts';
import { startWorker, type RunningWorker } from './temporal.ts';
import type { Limits } from '../../services/limits/settings.ts';
import type { Orm } from '../../services/db/orm.ts';
import type { HttpMetrics } from '../../services/metrics/http.ts';
import type { Client } from '@temporalio/client';
import type { Logger } from '../../services/logger.ts';

export interface HttpHarness {
  url: string;
  /** fetch against the app, with a bearer token for the organization (every role) when given. */
  get(path: string, organizationId?: string): Promise<{ status: number; contentType: string; body: any }>;
  /**
   * A write with a JSON body; `headers` may carry Idempotency-Key, or an Authorization of the test's own
   * (which then replaces the organization's default token).
   */
  send(
    method: string,
    path: string,
    options: { organizationId?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; contentType: string; headers: Headers; body: any }>;
  close(): Promise<void>;
}

/**
 * The real express app on a free port, backed by the test stack (or `orm`, e.g. one with other session
 * limits). `limits` (rate limits, body size) default to the service's documented defaults, generous
 * enough for every other suite. With `metrics` the app records requests and serves GET /metrics.
 */
export async function startHttp(
  options: {
    amqpUrl?: string;
    taskQueue?: string;
    catalog?: CatalogClient;
    limits?: Limits;
    orm?: Orm;
    metrics?: HttpMetrics;
    /** Another Temporal client than the stack's (one with the tracing interceptors), spans per request, a logger. */
    temporalClient?: Client;
    traced?: boolean;
    logger?: Logger;
  } = {},
): Promise<HttpHarness> {
  const stack = testStack();
  const readiness = createReadinessProbe({
    orm: options.orm ?? stack.orm,
    systemOrm: stack.systemOrm,
    amqpUrl: options.amqpUrl ?? stack.amqpUrl,
    temporal: stack.temporal.connection,
    catalog: options.catalog,
  });
  const app = createHttpApp({
    orm: options.orm ?? stack.orm,
    logger: options.logger ?? stack.logger,
    readiness,
    verifyToken: stack.verifyToken,
    catalog: options.catalog,
    temporal: { client: options.temporalClient ?? stack.temporal.client, taskQueue: options.taskQueue ?? 'inventory' },
    limits: options.limits,
    metrics: options.metrics,
    traced: options.traced,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async get(path, organizationId) {
      const response = await fetch(url + path, {
        headers: organizationId ? { Authorization: `Bearer ${await tokenFor(organizationId)}` } : {},
      });
      return {
        status: response.status,
        contentType: response.headers.get('content-type') ?? '',
        body: await response.json(),
      };
    },
    async send(method, path, { organizationId, body, headers = {} }) {
      const response = await fetch(url + path, {
        method,
        headers: {
          'Content-Type': 'application/json',
          ...(organizationId ? { Authorization: `Bearer ${await tokenFor(organizationId)}` } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return {
        status: response.status,
        contentType: response.headers.get('content-type') ?? '',
        headers: response.headers,
        body: text ? JSON.parse(text) : null,
      };
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await readiness.close();
    },
  };
}

/**
 * For a suite that drives workflows over REST: mocha hooks that start a real worker on its own task
 * queue and the REST app bound to it before the suite, and stop both after it.
 */
export function restWithWorker(): { readonly http: HttpHarness; readonly worker: RunningWorker } {
  const running = {} as { http: HttpHarness; worker: RunningWorker };
  before(async () => {
    running.worker = await startWorker();
    running.http = await startHttp({ taskQueue: running.worker.taskQueue });
  });
  after(async () => {
    await running.http?.close();
    await running.worker?.stop();
  });
  return running;
}
