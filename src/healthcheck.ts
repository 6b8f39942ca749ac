/**
 * The container's HEALTHCHECK (`node dist/src/healthcheck.js`; slim images have no curl): exit 0
 * when this instance's liveness probe answers 200 within 3 s, 1 otherwise. Liveness, not
 * readiness: a database outage must not get every container restarted.
 */
import { loadConfig } from './config/app-config';

const { port } = loadConfig();
fetch(`http://127.0.0.1:${port}/api/health/live`, { signal: AbortSignal.timeout(3_000) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
