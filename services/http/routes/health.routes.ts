import { Router } from 'express';
import type { ReadinessProbe } from '../../readiness.ts';

/** GET /health: the process is alive (no dependency checked). GET /ready: whether it can serve, per dependency. */
export function healthRoutes(readiness: ReadinessProbe): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (_req, res) => {
    const report = await readiness();
    res.status(report.status === 'unready' ? 503 : 200).json(report);
  });
  return router;
}
