import type { Request, RequestHandler } from 'express';
import type { Orm } from '../db/orm.ts';
import { scopeTo } from '../inventory/organization-scope.ts';
import { can, inWarehouseScope, warehouseFilter, type Principal } from '../auth/access.ts';
import { AuthenticationError, PermissionDeniedError } from '../auth/errors.ts';
import { bearerToken, type TokenVerifier } from '../auth/token-verifier.ts';
import type { Operation } from './openapi.ts';
import { HttpProblem } from './problem.ts';

declare module 'express-serve-static-core' {
  interface Locals {
    principal: Principal;
  }
}

/**
 * Every /api/v1 request carries `Authorization: Bearer <JWT>`; the token decides the organization the
 * request is bound to (an X-Organization-Id that disagrees is refused, so a misconfigured client
 * learns at once) and who the ledger names as its actor.
 */
export function authenticate(verify: TokenVerifier, orm: Orm): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req.get('authorization'));
    if (!token) return next(new AuthenticationError('send Authorization: Bearer <token>', { missing: true }));
    let principal: Principal;
    try {
      principal = await verify(token);
    } catch (error) {
      return next(error);
    }
    const header = req.get('x-organization-id');
    if (header !== undefined && header.trim().toLowerCase() !== principal.organizationId) {
      return next(
        new PermissionDeniedError(
          'X-Organization-Id differs from the organization of the token; the token alone decides it, drop the header',
        ),
      );
    }
    res.locals.principal = principal;
    res.locals.scope = scopeTo(orm.em, principal.organizationId, warehouseFilter(principal));
    next();
  };
}

/**
 * Lets a request through only to a documented operation whose permission the caller holds, and only
 * when every warehouse the request names (path, query or body) is in the caller's scope. A route that
 * is not in the operations list is unreachable: documenting an endpoint is what exposes it, so the
 * OpenAPI document, this check and the cross-tenant test matrix cannot drift apart.
 */
export function authorize(operations: readonly Operation[]): RequestHandler {
  const matchers = operations
    .filter((op) => op.permission !== 'public')
    .map((op) => ({ op, ...pathPattern(op.path) }))
    // Literal segments win over parameters: /transfers/{id}/ship before /transfers/{id}/{x}.
    .sort((a, b) => b.literals - a.literals);
  return (req, res, next) => {
    const path = req.baseUrl + req.path;
    const method = req.method.toLowerCase() === 'head' ? 'get' : req.method.toLowerCase();
    const match = matchers.find((m) => m.op.method === method && m.regex.test(path));
    if (!match) return next(new HttpProblem(404, 'RouteNotFound', `no route for ${req.method} ${req.path}`));
    const principal = res.locals.principal;
    if (match.op.permission === 'public') return next();
    if (!can(principal, match.op.permission)) {
      return next(
        new PermissionDeniedError(
          `this operation needs the ${match.op.permission} permission, which none of the token's roles (${principal.roles.join(', ') || 'none'}) grants`,
        ),
      );
    }
    const outside = namedWarehouses(req, match.regex.exec(path)?.groups ?? {}).find(
      (id) => !inWarehouseScope(principal, id),
    );
    if (outside) return next(new PermissionDeniedError(`warehouse ${outside} is outside the token's warehouse scope`));
    next();
  };
}

/** An OpenAPI path template as a regex (parameters as named groups), and how many literal segments it has. */
export function pathPattern(openApiPath: string): { regex: RegExp; literals: number } {
  let literals = 0;
  const source = openApiPath
    .split('/')
    .map((segment) => {
      const parameter = /^\{(\w+)\}$/.exec(segment);
      if (parameter) return `(?<${parameter[1]}>[^/]+)`;
      literals += 1;
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^${source}/?$`), literals };
}

/** Warehouse ids the request names anywhere a client can put one. */
function namedWarehouses(req: Request, params: Record<string, string>): string[] {
  const named: unknown[] = [];
  const collect = (source: unknown) => {
    if (typeof source !== 'object' || source === null) return;
    for (const [key, value] of Object.entries(source)) if (/(^|_)warehouse_id$/.test(key)) named.push(value);
  };
  collect(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, safeDecode(v)])));
  collect(req.query);
  collect(req.body);
  return named.filter((v): v is string => typeof v === 'string' && v.length > 0);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
