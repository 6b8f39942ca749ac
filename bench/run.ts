/**
 * `npm run bench` (issue #7): webhook throughput and end-to-end latency of the BUILT app, against
 * Twilio's quickstart and a hand-written floor, with the same machine, database engine and load
 * generator.
 *
 * 1. Acknowledgement of signed inbound webhooks: throughput and latency at saturation (autocannon,
 *    closed loop) and at a fixed arrival rate (open loop), for app, quickstart and floor.
 * 2. End-to-end latency: webhook sent → the reply's Messages.create reaches the Twilio double
 *    (local agent), and every message answered exactly once.
 * 3. How cost grows: webhook p99 with 10 / 1,000 / 10,000 connected channels; reply latency in a
 *    conversation with 10 / 10,000 earlier messages; the inbox list's page 1 and page 50 among
 *    100,000 conversations.
 * 4. Peak RSS of the app process.
 * 5. Replies at the model's speed (bench/lib/model-speed.ts): bursts answered through the `openai`
 *    provider by a local model server with a hosted model's latency, on one and two instances;
 *    two organizations at once; backlog drains with the local agent.
 *
 * Targets are printed as PASS/FAIL, never asserted: the process exits 0 unless the bench itself
 * fails. Every knob is an environment variable (bench/lib/config.ts).
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { TwilioDouble } from '../tools/twilio-double';
import { AppUnderTest, ROOT } from './lib/app';
import { loadBenchConfig, runs } from './lib/config';
import {
  log,
  measureWebhooks,
  runChannelGrowth,
  runComparisons,
  runEndToEnd,
  runHistory,
  runInbox,
} from './lib/phases';
import { runBursts, runDrains } from './lib/model-speed';
import { ReplyTracker } from './lib/replies';
import { num, writeResults } from './lib/report';
import type { Results } from './lib/results';
import { runScaleOut } from './lib/scale-out';
import { evaluateTargets, formatReport } from './lib/summary';

const RESULTS_DIR = join(ROOT, 'bench', 'results');

/** The commit the build came from, and whether src/ or migrations/ had uncommitted changes. */
function buildSource(): { commit: string | null; uncommittedChanges: boolean | null } {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    return {
      commit: git('rev-parse', '--short', 'HEAD').trim(),
      uncommittedChanges: git('status', '--porcelain', '--', 'src', 'migrations').trim() !== '',
    };
  } catch {
    return { commit: null, uncommittedChanges: null };
  }
}

/** The URL without its password, for logs. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

async function main(): Promise<void> {
  const config = loadBenchConfig();
  const startedAt = new Date();
  const embedded = !config.databaseUrl;
  const { databaseUrl: _url, only, ...rest } = config;
  const results: Results = {
    startedAt: startedAt.toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      memoryGb: totalmem() / 2 ** 30,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      loadAverageAtStart: loadavg(),
    },
    database: {
      kind: embedded ? 'embedded' : 'postgres',
      label: embedded ? 'embedded PGlite' : 'DATABASE_URL',
      version: '',
      floor: embedded
        ? 'its own embedded PGlite (same engine and PgliteServer as the app, data directory in a temp dir)'
        : 'the same DATABASE_URL (its own tables bench_floor_messages, bench_floor_jobs)',
    },
    build: buildSource(),
    config: { ...rest, only: only ? [...only] : null },
    webhooks: {},
    growth: { channels: [], history: [] },
    appPeakRssMb: null,
    rssTimeline: [],
    targets: [],
    notes: [],
  };
  const workDir = mkdtempSync(join(tmpdir(), 'sms-bench-'));
  log(
    embedded
      ? `database: embedded PGlite (DATABASE_URL is unset), data in ${workDir}`
      : `database: PostgreSQL at DATABASE_URL=${redact(config.databaseUrl!)}`,
  );
  const twilio = await TwilioDouble.start();
  const tracker = new ReplyTracker(twilio);
  let app: AppUnderTest | null = null;
  // One key for every instance of the run: they share DATABASE_URL.
  const encryptionKey = randomBytes(32);
  const wallStart = performance.now();
  try {
    // The comparison servers first, alone on the machine; then the app.
    if (runs(config, 'throughput')) {
      Object.assign(results.webhooks, await runComparisons(config, workDir));
    }

    const startApp = (
      name: string,
      extraEnv: NodeJS.ProcessEnv = {},
      databaseUrl = config.databaseUrl,
    ) => {
      log(`${name}: starting node ${config.appDist}/src/main.js`);
      return AppUnderTest.start({
        databaseUrl,
        dist: config.appDist,
        workDir,
        twilio,
        cpuProfileDir: config.cpuProfile ? join(RESULTS_DIR, 'profiles') : null,
        extraEnv,
        name,
        encryptionKey,
      });
    };
    let checkedFreshness = false;
    const checkFreshness = async (instance: AppUnderTest) => {
      if (checkedFreshness) return;
      checkedFreshness = true;
      if (await instance.databaseHasData()) {
        results.notes.push('the database was not empty at start: use a fresh database per run');
      }
    };

    // A web-only instance (no reply workers in the process): what the webhook path alone costs.
    if (runs(config, 'throughput')) {
      const webOnly = await startApp('app-web-only', { REPLY_WORKER_CONCURRENCY: '0' });
      try {
        await checkFreshness(webOnly);
        await webOnly.createOrganization('Bench organization (web only)');
        const { channels } = await webOnly.connectManyViaApi(config.channels, 5, false);
        const target = {
          baseUrl: webOnly.baseUrl,
          signedBaseUrl: webOnly.baseUrl,
          pid: webOnly.server.pid,
        };
        const { saturation, fixedRate } = await measureWebhooks(
          'app-web-only',
          target,
          channels,
          config,
          () => webOnly.cancelQueuedReplies(),
        );
        webOnly.rss.stop();
        results.webhooks.appWebOnly = { saturation, fixedRate, peakRssMb: webOnly.rss.peakMb };
      } finally {
        await webOnly.stop();
      }
    }

    if (runs(config, 'scaleout')) {
      if (embedded) {
        results.notes.push('scale-out needs DATABASE_URL (two instances on one database): skipped');
      } else {
        results.scaleOut = await runScaleOut(config, async (name, env) => {
          const instance = await startApp(name, env);
          await checkFreshness(instance);
          return instance;
        });
      }
    }
    const replies = runs(config, 'replies');
    const fairness = runs(config, 'fairness');
    if (replies || fairness || runs(config, 'drain')) {
      const modelSpeed: NonNullable<Results['modelSpeed']> = { bursts: [], drains: [] };
      results.modelSpeed = modelSpeed;
      if (replies || fairness) {
        modelSpeed.bursts = await runBursts(startApp, tracker, config, { replies, fairness });
      }
      if (runs(config, 'drain')) {
        const { drains, claimPlan } = await runDrains(startApp, tracker, config);
        Object.assign(modelSpeed, { drains, claimPlan });
      }
    }
    const mainParts = ['throughput', 'e2e', 'history', 'growth', 'inbox'] as const;
    if (!mainParts.some((part) => runs(config, part))) return finish(results, startedAt, wallStart);

    app = await startApp('app');
    const running = app;
    results.database.label = app.databaseLabel;
    results.database.version = app.serverVersion;
    log(`app: database ${app.databaseLabel} — ${app.serverVersion}`);
    results.database.commit = await app.commitLatency();
    const phaseDone = (phase: string) => {
      results.rssTimeline.push({
        phase,
        currentMb: running.rss.currentMb,
        peakMb: running.rss.peakMb,
      });
      const elapsed = (performance.now() - wallStart) / 1000;
      log(`-- ${phase} done at ${num(elapsed)} s, app RSS ${num(running.rss.currentMb)} MB`);
    };
    await checkFreshness(app);
    await app.createOrganization('Bench organization');
    log(
      `app: connecting ${config.channels} channels through the API, each with a knowledge document`,
    );
    const { channels } = await app.connectManyViaApi(config.channels, 5, true);
    phaseDone('setup');

    if (runs(config, 'throughput')) {
      const target = { baseUrl: app.baseUrl, signedBaseUrl: app.baseUrl, pid: app.server.pid };
      const { saturation, fixedRate, settledRuns } = await measureWebhooks(
        'app',
        target,
        channels,
        config,
        () => running.settle(config.settleSeconds),
      );
      results.webhooks.app = {
        saturation,
        fixedRate,
        settled: { saturation: settledRuns[0], fixedRate: settledRuns[1] },
      };
      phaseDone('throughput');
    }
    if (runs(config, 'e2e')) {
      results.endToEnd = await runEndToEnd(app, channels, tracker, config);
      await app.settle(config.settleSeconds);
      phaseDone('end-to-end');
    }
    if (runs(config, 'history')) {
      results.growth.history = await runHistory(app, channels[0], tracker, config);
      phaseDone('history');
    }
    if (runs(config, 'growth')) {
      results.growth.channels = await runChannelGrowth(app, channels, config, (tier) =>
        phaseDone(`${tier} channels`),
      );
    }
    if (runs(config, 'inbox')) {
      results.growth.inbox = await runInbox(app, config);
      phaseDone('inbox');
    }
    app.rss.stop();
    results.appPeakRssMb = app.rss.peakMb;
    if (!app.rss.supported) results.notes.push('/proc is unavailable: RSS was not measured');
  } finally {
    await app?.stop().catch((error: unknown) => log(`app did not stop cleanly: ${String(error)}`));
    await twilio.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  finish(results, startedAt, wallStart);
}

function finish(results: Results, startedAt: Date, wallStart: number): void {
  results.finishedAt = new Date().toISOString();
  results.wallSeconds = (performance.now() - wallStart) / 1000;
  results.notes.push(
    'the load generator, the Twilio double and the servers share this machine; "other cores" is ' +
      'CPU used by anything else during a run (interference)',
  );
  results.targets = evaluateTargets(results);
  process.stdout.write(formatReport(results) + '\n');
  const file = writeResults(RESULTS_DIR, startedAt, results);
  log(`results: ${file} and bench/results/latest.json (${num(results.wallSeconds)} s)`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`bench failed: ${text}\n`);
    process.exit(1);
  },
);
