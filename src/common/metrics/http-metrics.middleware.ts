import type { NextFunction, Request, Response } from 'express';
import { performance } from 'node:perf_hooks';
import type { MetricsService } from './metrics.service';

export const METRICS_PATH = '/metrics';

/**
 * Times every request but the scrape itself, labelled with the route pattern Express matched
 * (`/api/chatbots/:id`, never the path with its ids) or `unmatched` (an unknown path, a body
 * refused before routing).
 */
export function httpMetricsMiddleware(metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    res.once('finish', () => {
      const route = (req.route as { path?: unknown } | undefined)?.path;
      if (route === METRICS_PATH) return;
      metrics.httpRequest(
        req.method,
        typeof route === 'string' ? route : 'unmatched',
        res.statusCode,
        (performance.now() - started) / 1_000,
      );
    });
    next();
  };
}
