import * as grpc from '@grpc/grpc-js';
import type { InventoryServiceHandlers } from '../grpc/generated/inventory/v1/InventoryService.ts';
import { authorizeCall, type Rpc } from '../grpc/authentication.ts';
import type { Logger } from '../logger.ts';
import type { RateLimitedCaller, RateLimiter } from './rate-limiter.ts';
import { refusalMessage } from './http.ts';

/**
 * Puts the rate limit in front of every InventoryService handler: a call over the limit is
 * RESOURCE_EXHAUSTED with trailers `retry-after` (seconds) and `grpc-retry-pushback-ms`, and its handler
 * never runs. The caller is the one its handler would see (authorizeCall, which only reads); a call
 * that is not authorized goes straight to its handler, which refuses it.
 */
export function rateLimitedHandlers<H extends Partial<InventoryServiceHandlers>>(
  handlers: H,
  limiter: RateLimiter,
  logger: Logger,
): H {
  const wrapped: Record<string, grpc.handleUnaryCall<object, unknown>> = {};
  for (const [rpc, handler] of Object.entries(handlers) as [Rpc, grpc.handleUnaryCall<object, unknown>][]) {
    wrapped[rpc] = (call, callback) => {
      let caller: RateLimitedCaller;
      try {
        caller = authorizeCall(rpc, call.metadata, call.request).principal;
      } catch {
        return handler(call, callback);
      }
      limiter.admit(caller).then(
        (refusal) => {
          if (!refusal) return handler(call, callback);
          const trailers = new grpc.Metadata();
          trailers.set('retry-after', String(refusal.retryAfterSeconds));
          trailers.set('grpc-retry-pushback-ms', String(refusal.retryAfterSeconds * 1000));
          callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: refusalMessage(refusal), metadata: trailers });
        },
        (error: unknown) => {
          // The limiter answers even when PostgreSQL does not; anything else must not block the API.
          logger.error('the rate limiter failed; the call was let through', {
            method: rpc,
            error: error instanceof Error ? error.stack : String(error),
          });
          handler(call, callback);
        },
      );
    };
  }
  return wrapped as unknown as H;
}
