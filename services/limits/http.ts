import type { RequestHandler } from 'express';
import { HttpProblem } from '../http/problem.ts';
import type { Logger } from '../logger.ts';
import type { RateLimiter, RateLimitRefusal } from './rate-limiter.ts';

/**
 * Rate limits an authenticated /api/v1 request (after `authenticate`, before `authorize`, so a refused
 * operation counts too): over the limit it is a 429 problem+json with `Retry-After` (seconds) and
 * nothing runs.
 */
export function rateLimitRequests(limiter: RateLimiter, logger: Logger): RequestHandler {
  return (req, res, next) => {
    limiter.admit(res.locals.principal).then(
      (refusal) => {
        if (!refusal) return next();
        res.set('Retry-After', String(refusal.retryAfterSeconds));
        next(
          new HttpProblem(429, 'RateLimited', refusalMessage(refusal), {
            limit: refusal.limit,
            retry_after_seconds: refusal.retryAfterSeconds,
          }),
        );
      },
      (error: unknown) => {
        // The limiter answers even when PostgreSQL does not; anything else must not block the API.
        logger.error('the rate limiter failed; the request was let through', {
          path: req.originalUrl,
          error: error instanceof Error ? error.stack : String(error),
        });
        next();
      },
    );
  };
}

export function refusalMessage(refusal: RateLimitRefusal): string {
  const who = refusal.limit === 'organization' ? "this token's organization" : 'this client (token subject)';
  const window = refusal.windowSeconds === 1 ? 'second' : `${refusal.windowSeconds} seconds`;
  return `too many requests: ${who} may make ${refusal.allowance} per ${window}; retry after ${refusal.retryAfterSeconds} s`;
}
