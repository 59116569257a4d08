import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Logger } from '../logger.ts';
import type { OrganizationScope } from '../inventory/organization-scope.ts';
import { actorOf } from '../auth/access.ts';

declare module 'express-serve-static-core' {
  interface Locals {
    requestId: string;
    logger: Logger;
    scope: OrganizationScope;
  }
}

/** Takes the caller's X-Request-Id (or makes one), echoes it back, and gives the request its own child logger. */
export function requestId(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const id = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.locals.logger = logger.child({ requestId: id });
    res.set('X-Request-Id', id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      res.locals.logger.info(`${req.method} ${req.originalUrl} ${res.statusCode}`, {
        durationMs: Math.round(ms * 10) / 10,
      });
    });
    next();
  };
}

/** Who made a write, as the ledger, reconciliation runs and transfer transitions name them: the token's subject. */
export function operatorOf(req: Request): string {
  const principal = req.res?.locals.principal;
  if (!principal) throw new Error('operatorOf called outside an authenticated /api/v1 request');
  return actorOf(principal);
}
