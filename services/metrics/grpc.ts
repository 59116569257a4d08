import * as grpc from '@grpc/grpc-js';
import { Counter, Histogram, type Registry } from 'prom-client';
import { latencyBuckets } from './http.ts';

export type ReservationOutcome = 'held' | 'short' | 'conflict' | 'invalid' | 'other';

export interface GrpcMetrics {
  registry: Registry;
  duration: Histogram<'method' | 'code'>;
  requests: Counter<'method' | 'code'>;
  reservations: Counter<'outcome'>;
}

/** The gRPC server's series, registered in `registry` (served on GRPC_METRICS_PORT). */
export function createGrpcMetrics(registry: Registry): GrpcMetrics {
  const labelNames = ['method', 'code'] as const;
  return {
    registry,
    duration: new Histogram({
      name: 'inventory_grpc_request_duration_seconds',
      help: 'InventoryService calls by method and status code',
      labelNames,
      buckets: latencyBuckets,
      registers: [registry],
    }),
    requests: new Counter({
      name: 'inventory_grpc_requests_total',
      help: 'InventoryService calls answered, by method and status code',
      labelNames,
      registers: [registry],
    }),
    reservations: new Counter({
      name: 'inventory_reservations_total',
      help: 'ReserveStock answers: held, short (not enough stock), conflict (same order, other items), invalid (refused input), other',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}

/** What a ReserveStock answer means for the order: a shortage is the FAILED_PRECONDITION that carries the shortages trailer. */
export function reservationOutcome(status: { code: grpc.status; metadata?: grpc.Metadata | null }): ReservationOutcome {
  switch (status.code) {
    case grpc.status.OK:
      return 'held';
    case grpc.status.FAILED_PRECONDITION:
      return (status.metadata?.get('inventory-shortages').length ?? 0) > 0 ? 'short' : 'other';
    case grpc.status.ALREADY_EXISTS:
      return 'conflict';
    case grpc.status.INVALID_ARGUMENT:
      return 'invalid';
    default:
      return 'other';
  }
}

/**
 * Times every call of the service at `servicePath` (health and reflection are left out) from its arrival to
 * the status sent, whatever sent it (the authentication interceptor, the rate limiter, the handler), and
 * counts ReserveStock's outcomes. Installed first, so it sees the calls the others refuse.
 */
export function metricsInterceptor(metrics: GrpcMetrics, servicePath: string): grpc.ServerInterceptor {
  return (descriptor, call) => {
    if (!descriptor.path.startsWith(`/${servicePath}/`)) return new grpc.ServerInterceptingCall(call);
    const method = descriptor.path.slice(servicePath.length + 2);
    const started = process.hrtime.bigint();
    let recorded = false;
    return new grpc.ServerInterceptingCall(call, {
      sendStatus: (status, next) => {
        if (!recorded) {
          recorded = true;
          const labels = { method, code: grpc.status[status.code] ?? String(status.code) };
          metrics.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
          metrics.requests.inc(labels);
          if (method === 'ReserveStock') metrics.reservations.inc({ outcome: reservationOutcome(status) });
        }
        next(status);
      },
    });
  };
}
