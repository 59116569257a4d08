import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../logger.ts';
import type { PartHealth } from '../readiness.ts';

/**
 * One process's metrics registry, with Node's process metrics (CPU, memory, event loop lag, GC, handles)
 * when `defaultMetrics` is on. Every series carries `process="<part>"` (http, grpc, relay, consumer), so one
 * Prometheus job can scrape every part of `npm start`.
 */
export function createMetricsRegistry(part: string, options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ process: part });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

/** Answers a scrape with the registry in the text exposition format. */
export async function exposition(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

export interface MetricsServer {
  /** The port actually bound (useful with port 0 in tests). */
  port: number;
  close(): Promise<void>;
}

/**
 * A small HTTP server for a process that has no HTTP server of its own (gRPC, worker, relay, consumer):
 * GET /metrics (the registry, when given) and, with `health`, GET /health (alive: 200 while the process
 * runs, draining included) and GET /ready (the part's report; 503 when unready or draining). All open, no
 * token. Port 0 here binds a free port: the entry points skip the call when their port setting is 0 (off).
 * A port already taken is logged and the process runs on without it: publishing and consuming matter more
 * than being scraped.
 */
export async function startMetricsServer(options: {
  registry?: Registry;
  health?: PartHealth;
  host: string;
  port: number;
  logger: Logger;
}): Promise<MetricsServer | undefined> {
  const { registry, health, logger } = options;
  const served = [...(registry ? ['/metrics'] : []), ...(health ? ['/health', '/ready'] : [])];
  const server: Server = createServer((req, res) => {
    const [path = ''] = (req.url ?? '/').split('?');
    if (req.method !== 'GET' || !served.includes(path)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: GET ${served.join(', ')}\n`);
      return;
    }
    if (path === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
      return;
    }
    if (path === '/ready' && health) {
      health.report().then(
        (report) =>
          res
            .writeHead(report.status === 'unready' || report.status === 'draining' ? 503 : 200, {
              'content-type': 'application/json',
            })
            .end(JSON.stringify(report)),
        (error: unknown) =>
          res
            .writeHead(503, { 'content-type': 'application/json' })
            .end(JSON.stringify({ status: 'unready', detail: String(error) })),
      );
      return;
    }
    exposition(registry!).then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      (error: unknown) => {
        logger.warn(`could not collect the metrics: ${String(error)}`);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('could not collect the metrics\n');
      },
    );
  });
  const what = registry ? (health ? 'metrics and health' : 'metrics') : 'health';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    logger.error(`${what} endpoint not started on ${options.host}:${options.port}: ${(error as Error).message}`);
    return undefined;
  }
  const port = (server.address() as AddressInfo).port;
  logger.info(`${what} on http://${options.host}:${port} (${served.map((p) => `GET ${p}`).join(', ')})`);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Resolves with `read()`, or with undefined after `ms`: a scrape never waits long for a dependency. */
export function withTimeout<T>(read: () => Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    read().then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}
