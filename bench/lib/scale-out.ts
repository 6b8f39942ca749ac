/**
 * The webhook path's own cost (issue #18): its targets against the floor and the quickstart,
 * CPU per webhook split into the app's and the database's, and scale-out — two web-only
 * instances on one database behind a round-robin (the load generator splits its connections
 * between their two ports), throughput per busy core beside the single instance's.
 */
import type { AppUnderTest, Channel } from './app';
import type { BenchConfig } from './config';
import { runAutocannon, type LoadResult } from './load';
import { log } from './phases';
import { num, ratio, type TargetCheck } from './report';
import type { Results } from './results';
import { numberIn, QUESTIONS, signedInbound } from './webhooks';

export interface ScaleOutRun {
  instances: number;
  connections: number;
  /** One saturation run per instance, side by side over the same seconds. */
  perInstance: LoadResult[];
  throughput: number;
  /** Average cores busy during the run: the instances' processes, and PostgreSQL. */
  appCores: number;
  databaseCores: number;
}

/** CPU milliseconds per answered webhook, the app's process and the database's apart. */
export function cpuSplit(result: LoadResult): { app: number; database: number } {
  if (!result.cpu || result.ok === 0) return { app: NaN, database: NaN };
  const per = (cores: number) => (cores * 1000 * result.durationSeconds) / result.ok;
  return { app: per(result.cpu.server), database: per(result.cpu.database) };
}

/** Webhooks per second per busy core (the server's processes and the database's). */
export function perCore(throughput: number, appCores: number, databaseCores: number): number {
  return ratio(throughput, appCores + databaseCores);
}

export type StartInstance = (name: string, env: NodeJS.ProcessEnv) => Promise<AppUnderTest>;

/**
 * Two web-only instances on the same DATABASE_URL (startInstance gives them the run's one
 * encryption key), each with its own organization and channels; saturated together with half
 * the connections each.
 */
export async function runScaleOut(
  config: BenchConfig,
  startInstance: StartInstance,
  instances = 2,
): Promise<ScaleOutRun> {
  const apps: AppUnderTest[] = [];
  try {
    const senders: Channel[][] = [];
    for (let i = 0; i < instances; i++) {
      const app = await startInstance(`app-web-only-${i + 1}`, { REPLY_WORKER_CONCURRENCY: '0' });
      apps.push(app);
      await app.createOrganization(`Bench organization (scale-out ${i + 1})`);
      senders.push((await app.connectManyViaApi(config.channels, 5, false)).channels);
    }
    const connections = Math.max(1, Math.round(config.connections / instances));
    const load = (seconds: number) =>
      Promise.all(
        apps.map((app, i) => {
          let n = 0;
          return runAutocannon({
            baseUrl: app.baseUrl,
            serverPid: app.server.pid,
            connections,
            durationSeconds: seconds,
            next: () =>
              signedInbound(
                app.baseUrl,
                senders[i][n % senders[i].length],
                numberIn(555, Math.floor(Math.random() * config.customers)),
                QUESTIONS[n++ % QUESTIONS.length],
              ),
          });
        }),
      );
    if (config.warmupSeconds > 0) {
      log(`scale-out: warm-up ${config.warmupSeconds} s`);
      await load(config.warmupSeconds);
    }
    log(
      `scale-out: ${instances} web-only instances, ${connections} connections each, ${config.durationSeconds} s`,
    );
    const perInstance = await load(config.durationSeconds);
    for (const app of apps) await app.cancelQueuedReplies();
    return {
      instances,
      connections,
      perInstance,
      throughput: perInstance.reduce((sum, run) => sum + run.throughput, 0),
      appCores: perInstance.reduce((sum, run) => sum + (run.cpu?.server ?? NaN), 0),
      // Every run's monitor saw the whole database over the same seconds: count it once.
      databaseCores: perInstance[0].cpu?.database ?? NaN,
    };
  } finally {
    for (const app of apps) await app.stop().catch(() => undefined);
  }
}

/** The issue's targets for the web-only app against the floor and the quickstart. */
export function hotPathTargets(results: Results): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const { appWebOnly: web, floor, quickstart } = results.webhooks;
  if (web && floor) {
    const app = cpuSplit(web.saturation);
    const base = cpuSplit(floor.saturation);
    const r = ratio(app.app + app.database, base.app + base.database);
    checks.push({
      name: 'web-only CPU per webhook ≤ 1.5 × floor',
      measured: `${num(app.app + app.database, 2)} vs ${num(base.app + base.database, 2)} ms = ${num(r, 2)}×`,
      pass: r <= 1.5,
    });
  }
  for (const [other, name, factor] of [
    [floor, 'floor', 0.7],
    [quickstart, 'quickstart', 1.0],
  ] as const) {
    if (!web || !other) continue;
    const r = ratio(web.saturation.throughput, other.saturation.throughput);
    checks.push({
      name: `web-only throughput ≥ ${num(factor, 1)} × ${name}`,
      measured: `${num(web.saturation.throughput)} vs ${num(other.saturation.throughput)} req/s = ${num(r, 2)}×`,
      pass: r >= factor,
    });
  }
  if (web?.peakRssMb) {
    checks.push({
      name: 'web-only peak RSS ≤ 300 MB',
      measured: `${num(web.peakRssMb)} MB`,
      pass: web.peakRssMb <= 300,
    });
  }
  return checks;
}

/** Lines for the report: CPU per webhook split app / database, and the scale-out run. */
export function formatHotPath(results: Results): string[] {
  const out: string[] = [];
  const rows: [string, LoadResult | undefined][] = [
    ['app', results.webhooks.app?.saturation],
    ['app web-only', results.webhooks.appWebOnly?.saturation],
    ['quickstart', results.webhooks.quickstart?.saturation],
    ['floor', results.webhooks.floor?.saturation],
  ];
  const split = rows
    .filter((row): row is [string, LoadResult] => row[1] !== undefined)
    .map(([name, run]) => {
      const cpu = cpuSplit(run);
      return `${name} ${num(cpu.app, 2)} + ${num(cpu.database, 2)}`;
    });
  if (split.length) {
    out.push(`  CPU per webhook at saturation, process + database (ms): ${split.join('; ')}`);
  }
  const web = results.webhooks.appWebOnly?.saturation;
  const scale = results.scaleOut;
  if (scale) {
    const single = web?.cpu ? perCore(web.throughput, web.cpu.server, web.cpu.database) : NaN;
    const many = perCore(scale.throughput, scale.appCores, scale.databaseCores);
    out.push(
      `  scale-out: ${scale.instances} web-only instances (${scale.connections} connections each): ` +
        `${num(scale.throughput)} req/s on ${num(scale.appCores, 2)} app + ${num(scale.databaseCores, 2)} database cores = ` +
        `${num(many)} req/s per busy core; one instance ${num(single)} req/s per busy core` +
        (web ? ` (${num(web.throughput)} req/s)` : ''),
    );
    out.push(
      `    per instance: ${scale.perInstance.map((run) => `${num(run.throughput)} req/s, p99 ${num(run.latency.p99, 1)} ms`).join('; ')}`,
    );
  }
  return out;
}
