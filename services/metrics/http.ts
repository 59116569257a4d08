import type { RequestHandler } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Operation } from '../http/openapi.ts';
import { pathPattern } from '../http/authentication.ts';

/** Latency buckets (seconds) shared by the REST and gRPC histograms: 5 ms to 10 s (the workflow answer deadline). */
export const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface HttpMetrics {
  registry: Registry;
  duration: Histogram<'method' | 'route' | 'status'>;
  requests: Counter<'method' | 'route' | 'status'>;
}

/** The REST server's series, registered in `registry` (served by the app at GET /metrics). */
export function createHttpMetrics(registry: Registry): HttpMetrics {
  const labelNames = ['method', 'route', 'status'] as const;
  return {
    registry,
    duration: new Histogram({
      name: 'inventory_http_request_duration_seconds',
      help: 'REST requests by method, OpenAPI route template and status',
      labelNames,
      buckets: latencyBuckets,
      registers: [registry],
    }),
    requests: new Counter({
      name: 'inventory_http_requests_total',
      help: 'REST requests answered, by method, OpenAPI route template and status',
      labelNames,
      registers: [registry],
    }),
  };
}

/** Open paths that are not OpenAPI operations but get their own route label. */
const otherRoutes = ['/metrics', '/openapi.json', '/docs'];

/**
 * Records every answered request under its OpenAPI path template (`/api/v1/stock/{variant_id}`), never the
 * raw URL, so ids cannot blow up the series count; a path no operation matches is `unmatched`.
 */
export function recordHttpMetrics(metrics: HttpMetrics, operations: readonly Operation[]): RequestHandler {
  const matchers = operations
    .map((op) => ({ op, ...pathPattern(op.path) }))
    // As authorize() does: literal segments win over parameters.
    .sort((a, b) => b.literals - a.literals);
  const routeOf = (method: string, path: string): string => {
    const wanted = method === 'head' ? 'get' : method;
    const match = matchers.find((m) => m.op.method === wanted && m.regex.test(path));
    if (match) return match.op.path;
    return otherRoutes.find((r) => path === r || path.startsWith(`${r}/`)) ?? 'unmatched';
  };
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const path = req.path;
    res.once('finish', () => {
      const labels = {
        method: req.method,
        route: routeOf(req.method.toLowerCase(), path),
        status: String(res.statusCode),
      };
      metrics.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      metrics.requests.inc(labels);
    });
    next();
  };
}
