import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../logger.ts';

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
 * A small HTTP server answering GET /metrics (open, no token) for a process that has no HTTP server of its
 * own (gRPC, relay, consumer). Port 0 here binds a free port: the entry points skip the call when their
 * *_METRICS_PORT is 0 (off). A port already taken is logged and the process runs on without metrics:
 * publishing and consuming matter more than being scraped.
 */
export async function startMetricsServer(options: { registry: Registry; host: string; port: number; logger: Logger }): Promise<MetricsServer | undefined> {
  const { registry, logger } = options;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    exposition(registry).then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      (error: unknown) => {
        logger.warn(`could not collect the metrics: ${String(error)}`);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('could not collect the metrics\n');
      },
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    logger.error(`metrics endpoint not started on ${options.host}:${options.port}: ${(error as Error).message}`);
    return undefined;
  }
  const port = (server.address() as AddressInfo).port;
  logger.info(`metrics on http://${options.host}:${port}/metrics`);
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
