import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../logger.ts';
import { scopeTo, type OrganizationScope } from '../inventory/organization-scope.ts';
import { HttpProblem } from './problem.ts';

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
      res.locals.logger.info(`${req.method} ${req.originalUrl} ${res.statusCode}`, { durationMs: Math.round(ms * 10) / 10 });
    });
    next();
  };
}

const organizationHeader = z.guid();

/**
 * Binds the request to its organization (X-Organization-Id, a UUID; authentication comes later and
 * will set it from the token instead). The scope is the only way route code reaches the database.
 */
export function organizationScope(orm: Orm): RequestHandler {
  return (req, res, next) => {
    const header = req.get('x-organization-id');
    if (!header) return next(new HttpProblem(400, 'MissingOrganization', 'the X-Organization-Id header is required'));
    if (!organizationHeader.safeParse(header).success) return next(new HttpProblem(400, 'InvalidOrganization', 'the X-Organization-Id header must be a UUID'));
    res.locals.scope = scopeTo(orm.em, header);
    next();
  };
}

/**
 * Who made a write, as the ledger and the run records name them: `operator:<X-Actor>`, or `operator`.
 * The X-Actor header stands in until authentication provides the operator.
 */
export function operatorOf(req: Request): string {
  const name = req.get('x-actor')?.trim();
  return name && name.length <= 200 ? `operator:${name}` : 'operator';
}
