import { Router } from 'express';
import type { ReadinessProbe } from '../../readiness.ts';
import type { Operation } from '../openapi.ts';

/**
 * GET /health: the process is alive (no dependency checked). GET /ready: whether it can serve, per dependency;
 * 503 `{"status":"draining"}` once a shutdown began, so a load balancer stops sending requests.
 */
export function healthRoutes(readiness: ReadinessProbe): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (_req, res) => {
    if (readiness.draining()) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    const report = await readiness();
    res.status(report.status === 'unready' ? 503 : 200).json(report);
  });
  return router;
}

export const healthOperations: Operation[] = [
  {
    method: 'get',
    path: '/health',
    summary: 'The process is alive',
    tag: 'health',
    permission: 'public',
    success: 200,
  },
  {
    method: 'get',
    path: '/ready',
    summary: 'PostgreSQL, RabbitMQ and Temporal, each with its state (503 when unready or draining)',
    tag: 'health',
    permission: 'public',
    success: 200,
  },
];
