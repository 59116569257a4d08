import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../logger.ts';
import type { ReadinessProbe } from '../readiness.ts';
import type { VariantCatalog } from '../inventory/stock/variant-validation.ts';
import { notFoundRoute, problemHandler } from './problem.ts';
import { refuseUnacceptableInput, requireJsonBody } from './input-guards.ts';
import { requestId } from './request-context.ts';
import { authenticate, authorize } from './authentication.ts';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import { idempotencyKeys } from './idempotency.ts';
import { healthOperations, healthRoutes } from './routes/health.routes.ts';
import { openApiRoutes } from './openapi.ts';
import { warehouseOperations, warehouseRoutes } from './routes/warehouses.routes.ts';
import { stockOperations, stockRoutes } from './routes/stock.routes.ts';
import { movementOperations, movementRoutes } from './routes/movements.routes.ts';
import { transferOperations, transferRoutes } from './routes/transfers.routes.ts';
import { adjustmentOperations, adjustmentRoutes } from './routes/adjustments.routes.ts';
import { locationOperations, locationRoutes } from './routes/locations.routes.ts';
import { reconciliationOperations, reconciliationRoutes } from './routes/reconciliations.routes.ts';
import { createTransferClient } from '../workflow-clients/transfer-client.ts';
import { createReconciliationClient } from '../workflow-clients/reconciliation-client.ts';
import { defaultLimits, type Limits } from '../limits/settings.ts';
import { createRateLimiter } from '../limits/rate-limiter.ts';
import { rateLimitRequests } from '../limits/http.ts';
import { exposition } from '../metrics/registry.ts';
import { recordHttpMetrics, type HttpMetrics } from '../metrics/http.ts';
import { traceRequests } from '../tracing/http.ts';

export interface HttpDeps {
  orm: Orm;
  logger: Logger;
  /** Turns the bearer token of every /api/v1 request into the caller (services/auth). */
  verifyToken: TokenVerifier;
  readiness: ReadinessProbe;
  /** Asked before a receipt creates stock for a variant not seen yet; none = no validation. */
  catalog?: VariantCatalog;
  /** Drives the transfer and reconciliation workflows; reads never use it. */
  temporal?: { client: Client; taskQueue: string; deadlineMs?: number; confirmedOverdueSeconds?: number };
  /** Rate limits and the body size (README, Limits); the documented defaults when not given. */
  limits?: Limits;
  /** Request metrics, served open at GET /metrics (README, Metrics); none = no /metrics. */
  metrics?: HttpMetrics;
  /** Each request in a server span continuing the caller's trace (README, Traces); off unless tracing is on. */
  traced?: boolean;
}

/**
 * The REST API: health, readiness and the OpenAPI document open to all; /api/v1 only to an
 * authenticated caller, bound to its token's organization, on the operations its roles allow.
 * Errors as problem+json.
 */
export function createHttpApp(deps: HttpDeps): Express {
  const limits = deps.limits ?? defaultLimits();
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const operations = [
    ...healthOperations,
    ...warehouseOperations,
    ...locationOperations,
    ...stockOperations,
    ...movementOperations,
    ...adjustmentOperations,
    ...(deps.temporal ? [...transferOperations, ...reconciliationOperations] : []),
  ];
  app.use(requestId(deps.logger));
  if (deps.metrics) {
    const { registry } = deps.metrics;
    app.use(recordHttpMetrics(deps.metrics, operations));
    app.get('/metrics', async (_req, res) => {
      const { contentType, body } = await exposition(registry);
      res.type(contentType).send(body);
    });
  }
  app.use(healthRoutes(deps.readiness));
  app.use(openApiRoutes(operations));

  // Who is calling and whether they are over their rate comes first: a body is read only for a caller
  // the service knows and admits, so an anonymous client cannot make it parse megabytes.
  const api = express.Router();
  // Traced from here (README, Traces): the API's requests, not the probes and scrapes.
  if (deps.traced) api.use(traceRequests());
  api.use(authenticate(deps.verifyToken, deps.orm));
  api.use(
    rateLimitRequests(createRateLimiter({ orm: deps.orm, logger: deps.logger, settings: limits.rate }), deps.logger),
  );
  api.use(requireJsonBody);
  api.use(express.json({ limit: limits.httpBodyLimitBytes }));
  api.use(refuseUnacceptableInput);
  api.use(authorize(operations));
  api.use(idempotencyKeys());
  api.use('/warehouses', warehouseRoutes());
  api.use('/stock', stockRoutes());
  api.use('/movements', movementRoutes());
  api.use('/adjustments', adjustmentRoutes(deps.catalog));
  api.use('/locations', locationRoutes());
  if (deps.temporal) {
    api.use('/transfers', transferRoutes(createTransferClient({ ...deps.temporal, orm: deps.orm })));
    api.use('/reconciliations', reconciliationRoutes(createReconciliationClient({ ...deps.temporal, orm: deps.orm })));
  }
  app.use('/api/v1', api);

  app.use(notFoundRoute);
  app.use(problemHandler(deps.logger));
  return app;
}
