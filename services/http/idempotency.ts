import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpProblem } from './problem.ts';
import type { OrganizationScope } from '../inventory/organization-scope.ts';
import { claimKey, completeKey, findKey, forgetKey } from './idempotency.store.ts';

/** A claim left in flight this long belongs to a request that died, and is taken over by its retry. */
const staleClaimSeconds = 60;

/**
 * Idempotency-Key on writes (POST, PUT, PATCH, DELETE): the first request with a key runs and its
 * response is stored; the same key with the same request gets that stored response back (same status
 * and body, header `Idempotent-Replayed: true`); the same key with another request is a 422; a key
 * whose first request is still running is a 409. A 5xx is not stored, so the client may retry.
 * Keys are per organization; requests without the header run as usual. Each step is its own short
 * transaction in the caller's organization (idempotency.store.ts): the claim commits before the handler runs.
 */
export function idempotencyKeys(): RequestHandler {
  return async (req, res, next) => {
    const key = req.get('idempotency-key');
    if (key === undefined || !['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method)) return next();
    if (!/^[\x21-\x7e]{1,200}$/.test(key)) {
      return next(
        new HttpProblem(
          400,
          'InvalidIdempotencyKey',
          'the Idempotency-Key header must be 1 to 200 visible ASCII characters',
        ),
      );
    }
    const scope: OrganizationScope = res.locals.scope;
    const requestHash = createHash('sha256')
      .update(JSON.stringify([req.method, req.baseUrl + req.path, req.body ?? null]))
      .digest('hex');

    if (!(await scope.transaction((tx) => claimKey(tx, key, requestHash, staleClaimSeconds)))) {
      const stored = await scope.transaction((tx) => findKey(tx, key));
      if (!stored)
        return next(
          new HttpProblem(
            409,
            'IdempotencyKeyInFlight',
            'a request with this Idempotency-Key is being processed; retry shortly',
          ),
        );
      if (stored.requestHash !== requestHash) {
        return next(
          new HttpProblem(
            422,
            'IdempotencyKeyReused',
            'this Idempotency-Key was used for a different request; use a new key for a new request',
          ),
        );
      }
      if (stored.state !== 'completed')
        return next(
          new HttpProblem(
            409,
            'IdempotencyKeyInFlight',
            'a request with this Idempotency-Key is being processed; retry shortly',
          ),
        );
      res.set('Idempotent-Replayed', 'true');
      return res.status(stored.responseStatus ?? 200).json(stored.responseBody);
    }

    // The response is stored before it is sent: a client holding the answer can always replay it.
    const store = (body: unknown) =>
      scope
        .transaction((tx) => (res.statusCode >= 500 ? forgetKey(tx, key) : completeKey(tx, key, res.statusCode, body)))
        .catch((error: unknown) =>
          res.locals.logger.error('could not store an idempotent response', { error: String(error) }),
        );
    let stored = false;
    const json = res.json.bind(res);
    const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
    res.json = (value: unknown) => {
      stored = true;
      void store(value).then(() => json(value));
      return res;
    };
    // Answers without a JSON body (204) go through end() alone.
    res.end = ((...args: unknown[]) => {
      if (stored) return end(...args);
      stored = true;
      void store(null).then(() => end(...args));
      return res;
    }) as typeof res.end;
    next();
  };
}
