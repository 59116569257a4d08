import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpProblem } from './problem.ts';

/**
 * Idempotency-Key on writes (POST, PUT, PATCH, DELETE): the first request with a key runs and its
 * response is stored; the same key with the same request gets that stored response back (same status
 * and body, header `Idempotent-Replayed: true`); the same key with another request is a 422; a key
 * whose first request is still running is a 409. A 5xx is not stored, so the client may retry.
 * Keys are per organization; requests without the header run as usual.
 */
export function idempotencyKeys(): RequestHandler {
  return async (req, res, next) => {
    const key = req.get('idempotency-key');
    if (key === undefined || !['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method)) return next();
    if (!/^[\x21-\x7e]{1,200}$/.test(key)) {
      return next(new HttpProblem(400, 'InvalidIdempotencyKey', 'the Idempotency-Key header must be 1 to 200 visible ASCII characters'));
    }
    const { em, organizationId } = res.locals.scope;
    const requestHash = createHash('sha256').update(JSON.stringify([req.method, req.baseUrl + req.path, req.body ?? null])).digest('hex');

    // Claim the key; a claim left in flight for a minute belongs to a request that died, and is taken over.
    const claimed = await em.execute<{ key: string }[]>(
      `insert into idempotency_key (organization_id, key, request_hash, state) values (?, ?, ?, 'in_flight')
       on conflict (organization_id, key) do update set created_at = now()
         where idempotency_key.state = 'in_flight' and idempotency_key.request_hash = excluded.request_hash
           and idempotency_key.created_at < now() - interval '60 seconds'
       returning key`,
      [organizationId, key, requestHash],
    );
    if (claimed.length === 0) {
      const [stored] = await em.execute<{ request_hash: string; state: string; response_status: number | null; response_body: unknown }[]>(
        'select request_hash, state, response_status, response_body from idempotency_key where organization_id = ? and key = ?',
        [organizationId, key],
      );
      if (!stored) return next(new HttpProblem(409, 'IdempotencyKeyInFlight', 'a request with this Idempotency-Key is being processed; retry shortly'));
      if (stored.request_hash !== requestHash) {
        return next(new HttpProblem(422, 'IdempotencyKeyReused', 'this Idempotency-Key was used for a different request; use a new key for a new request'));
      }
      if (stored.state !== 'completed') return next(new HttpProblem(409, 'IdempotencyKeyInFlight', 'a request with this Idempotency-Key is being processed; retry shortly'));
      res.set('Idempotent-Replayed', 'true');
      return res.status(stored.response_status ?? 200).json(stored.response_body);
    }

    // The response is stored before it is sent: a client holding the answer can always replay it.
    const store = (body: unknown) =>
      (res.statusCode >= 500
        ? em.execute('delete from idempotency_key where organization_id = ? and key = ?', [organizationId, key])
        : em.execute(
            "update idempotency_key set state = 'completed', response_status = ?, response_body = ?, completed_at = now() where organization_id = ? and key = ?",
            [res.statusCode, JSON.stringify(body ?? null), organizationId, key],
          )
      ).catch((error: unknown) => res.locals.logger.error('could not store an idempotent response', { error: String(error) }));
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
