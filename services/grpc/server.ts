import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Client } from '@temporalio/client';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../logger.ts';
import { loadInventoryProto, loadPackageDefinition } from './proto.ts';
import { createStockHandlers } from './stock.handlers.ts';
import { createReservationHandlers } from './reservation.handlers.ts';
import { authenticationInterceptor } from './authentication.ts';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import { defaultLimits, type GrpcServerSettings, type Limits } from '../limits/settings.ts';
import { createRateLimiter } from '../limits/rate-limiter.ts';
import { rateLimitedHandlers } from '../limits/grpc.ts';
import { metricsInterceptor, type GrpcMetrics } from '../metrics/grpc.ts';
import { tracingInterceptor } from '../tracing/grpc.ts';

export interface GrpcDeps {
  orm: Orm;
  logger: Logger;
  /** Turns each call's `authorization` metadata into the caller (services/auth). */
  verifyToken: TokenVerifier;
  /** Drives the reservation workflows; reads never use it. */
  temporal?: { client: Client; taskQueue: string; deadlineMs?: number; confirmedOverdueSeconds?: number };
  /** Rate limits, quotas and the server's own limits (README, Limits); the documented defaults when not given. */
  limits?: Limits;
  /** Call and ReserveStock outcome metrics (README, Metrics); none = not recorded. */
  metrics?: GrpcMetrics;
  /** Each call in a server span continuing the caller's trace (README, Traces); off unless tracing is on. */
  traced?: boolean;
}

export const serviceName = 'inventory.v1.InventoryService';

/**
 * The gRPC server, not yet bound: InventoryService (every call authenticated by a bearer token, then
 * rate limited), server reflection (so grpcurl needs no .proto) and the standard health service, both
 * open. `health.setStatus` lets the entry point report NOT_SERVING while it drains.
 */
export function createGrpcServer(deps: GrpcDeps): { server: grpc.Server; health: HealthImplementation } {
  const limits = deps.limits ?? defaultLimits();
  const definition = loadPackageDefinition();
  const proto = loadInventoryProto(definition);
  const server = new grpc.Server({
    ...serverOptions(limits.grpc),
    interceptors: [
      // First in the list is innermost: it sees every status on its way out, the authentication interceptor's refusals included.
      ...(deps.metrics ? [metricsInterceptor(deps.metrics, serviceName)] : []),
      authenticationInterceptor(deps.verifyToken, serviceName),
      ...(deps.traced ? [tracingInterceptor(serviceName)] : []),
    ],
  });
  const handlers = { ...createStockHandlers(deps), ...createReservationHandlers({ ...deps, quotas: limits.quotas }) };
  server.addService(
    proto.inventory.v1.InventoryService.service,
    rateLimitedHandlers(
      handlers,
      createRateLimiter({ orm: deps.orm, logger: deps.logger, settings: limits.rate }),
      deps.logger,
    ),
  );
  new ReflectionService(definition).addToServer(server);
  const health = new HealthImplementation({ '': 'SERVING', [serviceName]: 'SERVING' });
  health.addToServer(server);
  return { server, health };
}

/**
 * grpc-js channel arguments: a larger message is RESOURCE_EXHAUSTED before it is parsed; streams per
 * connection are capped; idle connections are pinged and dropped when the ping goes unanswered; a
 * connection is closed (gracefully, calls in flight get the grace period) after its maximum age, so
 * clients reconnect and spread over new processes.
 */
function serverOptions(settings: GrpcServerSettings): grpc.ServerOptions {
  return {
    'grpc.max_receive_message_length': settings.maxReceiveMessageBytes,
    'grpc.max_concurrent_streams': settings.maxConcurrentStreams,
    'grpc.keepalive_time_ms': settings.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': settings.keepaliveTimeoutMs,
    ...(settings.maxConnectionAgeMs > 0
      ? {
          'grpc.max_connection_age_ms': settings.maxConnectionAgeMs,
          'grpc.max_connection_age_grace_ms': settings.maxConnectionAgeGraceMs,
        }
      : {}),
  };
}

/** Binds the server; resolves with the port actually bound (useful with port 0). */
export function bindGrpcServer(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
}
