/**
 * A/B of the webhook path on a shared machine: two builds (or Node flags), each one web-only
 * instance (REPLY_WORKER_CONCURRENCY=0) on the same database, saturated in turns (A, B, A, B, …)
 * so both see the same minute's interference. Prints each round and the median per build of the
 * app's CPU per webhook (the figure to judge by: other engineers' load moves wall-clock numbers,
 * much less a process's own CPU time), the database's CPU per webhook (only the backends serving
 * this run's database: other databases on the same server are other people's), and throughput.
 *
 *   npm run build && rm -rf bench/results/dist-before && cp -r dist bench/results/dist-before   # … change, npm run build …
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     BENCH_AB=bench/results/dist-before,dist npx ts-node --transpile-only bench/ab.ts
 *
 * BENCH_AB_ROUNDS (4) rounds of BENCH_DURATION_SECONDS (10) each per build, BENCH_CONNECTIONS
 * (50); BENCH_AB_NODE_ARGS="--flag-a|--flag-b" gives each build its own Node flags;
 * BENCH_CPU_PROFILE=1 profiles both (bench/results/profiles).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { TwilioDouble } from '../tools/twilio-double';
import { AppUnderTest, Channel, ROOT } from './lib/app';
import { processCpuSeconds } from './lib/children';
import { loadBenchConfig } from './lib/config';
import { runAutocannon, type LoadResult } from './lib/load';
import { log } from './lib/phases';
import { num } from './lib/report';
import { numberIn, QUESTIONS, signedInbound } from './lib/webhooks';

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

interface Variant {
  name: string;
  app: AppUnderTest;
  channels: Channel[];
  runs: Run[];
}

interface Run extends LoadResult {
  /** CPU seconds of the PostgreSQL backends serving this run's database (not the whole server). */
  ownDatabaseSeconds: number | null;
}

function perWebhookMs(result: Run, part: 'server' | 'database'): number {
  if (!result.cpu || result.ok === 0) return NaN;
  if (part === 'database' && result.ownDatabaseSeconds !== null) {
    return (result.ownDatabaseSeconds * 1000) / result.ok;
  }
  return (result.cpu[part] * 1000 * result.durationSeconds) / result.ok;
}

/** CPU seconds so far of each backend connected to `database` (others' databases left out). */
async function backendCpu(admin: Client | null, database: string): Promise<Map<number, number>> {
  if (!admin) return new Map();
  const { rows } = await admin.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = $1',
    [database],
  );
  return new Map(rows.map(({ pid }) => [pid, processCpuSeconds(pid) ?? 0] as [number, number]));
}

async function main(): Promise<void> {
  const config = loadBenchConfig();
  const dists = (process.env.BENCH_AB ?? 'bench/results/dist-before,dist')
    .split(',')
    .map((d) => d.trim());
  const nodeArgs = (process.env.BENCH_AB_NODE_ARGS ?? '').split('|');
  const rounds = Number(process.env.BENCH_AB_ROUNDS ?? 4);
  const workDir = mkdtempSync(join(tmpdir(), 'sms-bench-ab-'));
  // A fresh database beside DATABASE_URL's, dropped at the end; one key for both instances.
  const fresh = config.databaseUrl ? new URL(config.databaseUrl) : null;
  const admin = config.databaseUrl ? new Client({ connectionString: config.databaseUrl }) : null;
  const database = `sms_bench_ab_${process.pid}`;
  if (fresh && admin) {
    fresh.pathname = `/${database}`;
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
  }
  const encryptionKey = randomBytes(32);
  const twilio = await TwilioDouble.start();
  const variants: Variant[] = [];
  try {
    for (const [i, dist] of dists.entries()) {
      const name = `${String.fromCharCode(65 + i)}:${dist}${nodeArgs[i] ? ` ${nodeArgs[i]}` : ''}`;
      if (process.env.BENCH_AB_NODE_ARGS !== undefined)
        process.env.BENCH_NODE_ARGS = nodeArgs[i] ?? '';
      const app = await AppUnderTest.start({
        databaseUrl: fresh?.toString() ?? null,
        dist: resolve(ROOT, dist),
        workDir,
        twilio,
        cpuProfileDir: config.cpuProfile ? join(ROOT, 'bench', 'results', 'profiles') : null,
        extraEnv: { REPLY_WORKER_CONCURRENCY: '0' },
        encryptionKey,
        name: `ab-${i}`,
      });
      await app.createOrganization(`A/B ${name}`);
      const { channels } = await app.connectManyViaApi(config.channels, 5, false);
      variants.push({ name, app, channels, runs: [] });
      log(`${name}: started`);
    }
    const load = (variant: Variant, seconds: number) => {
      let n = 0;
      return runAutocannon({
        baseUrl: variant.app.baseUrl,
        serverPid: variant.app.server.pid,
        connections: config.connections,
        durationSeconds: seconds,
        next: () =>
          signedInbound(
            variant.app.baseUrl,
            variant.channels[n % variant.channels.length],
            numberIn(555, Math.floor(Math.random() * config.customers)),
            QUESTIONS[n++ % QUESTIONS.length],
          ),
      });
    };
    for (const variant of variants) {
      await load(variant, Math.max(config.warmupSeconds, 3));
      await variant.app.cancelQueuedReplies();
    }
    for (let round = 1; round <= rounds; round++) {
      for (const variant of round % 2 ? variants : [...variants].reverse()) {
        const before = await backendCpu(admin, database);
        const loaded = await load(variant, config.durationSeconds);
        const after = await backendCpu(admin, database);
        let own = 0;
        for (const [pid, seconds] of after) own += seconds - (before.get(pid) ?? 0);
        const result: Run = { ...loaded, ownDatabaseSeconds: admin ? own : null };
        await variant.app.cancelQueuedReplies();
        variant.runs.push(result);
        log(
          `round ${round} ${variant.name}: ${num(result.throughput)} req/s, app ` +
            `${num(perWebhookMs(result, 'server'), 3)} ms + db ${num(perWebhookMs(result, 'database'), 3)} ms CPU/webhook, ` +
            `p99 ${num(result.latency.p99, 1)} ms, failed ${result.non2xx + result.errors}, other cores ${num(result.cpu?.other, 2)}`,
        );
      }
    }
    process.stdout.write('\nmedian of the rounds (CPU per webhook in ms):\n');
    for (const variant of variants) {
      const app = median(variant.runs.map((r) => perWebhookMs(r, 'server')));
      const db = median(variant.runs.map((r) => perWebhookMs(r, 'database')));
      const rps = median(variant.runs.map((r) => r.throughput));
      process.stdout.write(
        `  ${variant.name}: app ${num(app, 3)}, database ${num(db, 3)}, app+database ${num(app + db, 3)}; ${num(rps)} req/s\n`,
      );
    }
  } finally {
    for (const variant of variants) await variant.app.stop().catch(() => undefined);
    await twilio.stop();
    rmSync(workDir, { recursive: true, force: true });
    if (admin) {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
