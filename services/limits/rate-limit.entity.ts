import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * The rate limiter's counters, shared by every REST and gRPC process (rate-limiter-flexible's
 * RateLimiterPostgres layout, created here by a migration rather than by the library): one row per
 * key (`org:<organization>` or `sub:<organization>:<subject>`), the points consumed in the current
 * window and when the window ends (epoch milliseconds). Rows an hour past their window are deleted by
 * the library every five minutes.
 */
export const RateLimitCounter = defineEntity({
  name: 'RateLimitCounter',
  tableName: 'rate_limit',
  properties: {
    key: p.string().length(255).primary(),
    points: p.integer().default(0),
    expire: p.bigint('number').nullable(),
  },
});

export type RateLimitCounter = InferEntity<typeof RateLimitCounter>;
