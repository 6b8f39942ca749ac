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
 * BENCH_CPU_PROFILE=1 profiles both (bench/results/profiles). BENCH_AB_SEPARATE_DATABASES=1 gives
 * each build a fresh database of its own (builds whose migrations differ cannot share one: the
 * later one's migrations change the schema under the earlier one); BENCH_STATEMENTS=1 (with
 * pg_stat_statements preloaded on the server) prints each database's statements over the rounds.
 * BENCH_AB_WORKERS=1 runs the instances with their reply workers (the default settings) instead
 * of web-only, and after each round lets them drain what it queued for up to
 * BENCH_SETTLE_SECONDS (10), printing the drain's rate (replies reaching the Twilio double per
 * second, no incoming load); what is left is cancelled. BENCH_AB_RATE=500 sends an evenly paced
 * rate instead of saturating (judge by p99 then). BENCH_AB_ENV="K=V K2=V2|K=V" gives each build
 * its own extra environment (e.g. a setting A/B'd on one build).
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
import { runAutocannon, runPaced, type LoadResult } from './lib/load';
import { log } from './lib/phases';
import { num } from './lib/report';
import { formatStatements, resetStatements, topStatements } from './lib/statements';
import { numberIn, QUESTIONS, signedInbound } from './lib/webhooks';

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

interface Variant {
  name: string;
  /** The database its instance uses (its backends' CPU is this variant's database CPU). */
  database: string;
  app: AppUnderTest;
  channels: Channel[];
  runs: Run[];
}

interface Run extends LoadResult {
  /** CPU seconds of the PostgreSQL backends serving this run's database (not the whole server). */
  ownDatabaseSeconds: number | null;
  /** BENCH_AB_WORKERS=1: replies per second while draining what the round queued. */
  drainRate?: number | null;
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
  const envs = (process.env.BENCH_AB_ENV ?? '').split('|').map((spec): NodeJS.ProcessEnv =>
    Object.fromEntries(
      spec
        .split(' ')
        .filter(Boolean)
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    ),
  );
  const rate = Number(process.env.BENCH_AB_RATE ?? 0);
  const rounds = Number(process.env.BENCH_AB_ROUNDS ?? 4);
  const workers = process.env.BENCH_AB_WORKERS === '1';
  const rest = async (variant: Variant) =>
    workers ? variant.app.settle(config.settleSeconds) : variant.app.cancelQueuedReplies();
  const workDir = mkdtempSync(join(tmpdir(), 'sms-bench-ab-'));
  // A fresh database beside DATABASE_URL's, dropped at the end; one key for both instances.
  const fresh = config.databaseUrl ? new URL(config.databaseUrl) : null;
  const admin = config.databaseUrl ? new Client({ connectionString: config.databaseUrl }) : null;
  // Workers claim whatever their database holds: each build with workers needs a database of its own.
  const separate =
    process.env.BENCH_AB_SEPARATE_DATABASES === '1' || process.env.BENCH_AB_WORKERS === '1';
  const databaseOf = (i: number) => `sms_bench_ab_${process.pid}${separate ? `_${i}` : ''}`;
  const created: string[] = [];
  const urlOf = async (i: number): Promise<string | null> => {
    if (!fresh || !admin) return null;
    const database = databaseOf(i);
    if (!created.includes(database)) {
      await admin.query(`CREATE DATABASE ${database}`);
      created.push(database);
    }
    const url = new URL(fresh);
    url.pathname = `/${database}`;
    return url.toString();
  };
  if (admin) await admin.connect();
  const encryptionKey = randomBytes(32);
  const twilio = await TwilioDouble.start();
  const variants: Variant[] = [];
  try {
    for (const [i, dist] of dists.entries()) {
      const env = envs[i] ?? {};
      const name =
        `${String.fromCharCode(65 + i)}:${dist}${nodeArgs[i] ? ` ${nodeArgs[i]}` : ''}` +
        Object.entries(env)
          .map(([key, value]) => ` ${key}=${value}`)
          .join('');
      if (process.env.BENCH_AB_NODE_ARGS !== undefined)
        process.env.BENCH_NODE_ARGS = nodeArgs[i] ?? '';
      const app = await AppUnderTest.start({
        databaseUrl: await urlOf(i),
        dist: resolve(ROOT, dist),
        workDir,
        twilio,
        cpuProfileDir: config.cpuProfile ? join(ROOT, 'bench', 'results', 'profiles') : null,
        extraEnv: { ...(workers ? {} : { REPLY_WORKER_CONCURRENCY: '0' }), ...env },
        encryptionKey,
        name: `ab-${i}`,
      });
      await app.createOrganization(`A/B ${name}`);
      const { channels } = await app.connectManyViaApi(config.channels, 5, false);
      variants.push({ name, database: databaseOf(i), app, channels, runs: [] });
      log(`${name}: started`);
    }
    const load = (variant: Variant, seconds: number, paced = rate > 0): Promise<LoadResult> => {
      let n = 0;
      const target = {
        baseUrl: variant.app.baseUrl,
        serverPid: variant.app.server.pid,
        durationSeconds: seconds,
        next: () =>
          signedInbound(
            variant.app.baseUrl,
            variant.channels[n % variant.channels.length],
            numberIn(555, Math.floor(Math.random() * config.customers)),
            QUESTIONS[n++ % QUESTIONS.length],
          ),
      };
      return paced
        ? runPaced({ ...target, rate })
        : runAutocannon({ ...target, connections: config.connections });
    };
    for (const variant of variants) {
      await load(variant, Math.max(config.warmupSeconds, 3), false);
      await rest(variant);
    }
    const statements = process.env.BENCH_STATEMENTS === '1';
    if (statements) {
      for (const variant of variants) {
        if (!(await resetStatements(variant.app.db))) log('pg_stat_statements is not available');
      }
    }
    for (let round = 1; round <= rounds; round++) {
      for (const variant of round % 2 ? variants : [...variants].reverse()) {
        const before = await backendCpu(admin, variant.database);
        const loaded = await load(variant, config.durationSeconds);
        const after = await backendCpu(admin, variant.database);
        let own = 0;
        for (const [pid, seconds] of after) own += seconds - (before.get(pid) ?? 0);
        const settled = await rest(variant);
        const result: Run = {
          ...loaded,
          ownDatabaseSeconds: admin ? own : null,
          drainRate: typeof settled === 'number' ? undefined : settled.repliesPerSecond,
        };
        variant.runs.push(result);
        log(
          `round ${round} ${variant.name}: ${num(result.throughput)} req/s, app ` +
            `${num(perWebhookMs(result, 'server'), 3)} ms + db ${num(perWebhookMs(result, 'database'), 3)} ms CPU/webhook, ` +
            `p99 ${num(result.latency.p99, 1)} ms, failed ${result.non2xx + result.errors}, other cores ${num(result.cpu?.other, 2)}` +
            (result.drainRate !== undefined ? `, drain ${num(result.drainRate)} replies/s` : ''),
        );
      }
    }
    process.stdout.write('\nmedian of the rounds (CPU per webhook in ms):\n');
    for (const variant of variants) {
      const app = median(variant.runs.map((r) => perWebhookMs(r, 'server')));
      const db = median(variant.runs.map((r) => perWebhookMs(r, 'database')));
      const rps = median(variant.runs.map((r) => r.throughput));
      const drain = workers ? median(variant.runs.map((r) => r.drainRate ?? NaN)) : null;
      process.stdout.write(
        `  ${variant.name}: app ${num(app, 3)}, database ${num(db, 3)}, app+database ${num(app + db, 3)}; ${num(rps)} req/s` +
          (drain !== null ? `; drain ${num(drain)} replies/s` : '') +
          `; peak RSS ${num(variant.app.rss.peakMb)} MB\n`,
      );
    }
    if (statements) {
      for (const variant of variants) {
        const webhooks = variant.runs.reduce((sum, r) => sum + r.ok, 0);
        const costs = await topStatements(variant.app.db).catch(() => []);
        process.stdout.write(
          `\n${variant.name}: statements over the rounds (${webhooks} webhooks; database ${variant.database})\n` +
            formatStatements(costs, webhooks) +
            '\n',
        );
      }
    }
  } finally {
    for (const variant of variants) await variant.app.stop().catch(() => undefined);
    await twilio.stop();
    rmSync(workDir, { recursive: true, force: true });
    if (admin) {
      for (const database of created) {
        await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      }
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
