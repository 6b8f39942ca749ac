/**
 * Replies at the model's speed (issue #13): bursts of SMS answered by a hosted-like model (the
 * local model server, BENCH_MODEL_LATENCY_MS per completion) through the app's real `openai`
 * provider, one or two instances on one database; two organizations at once (fairness); and the
 * drain of a backlog with the local agent, also with a million completed jobs in pg-boss's table.
 */
import { performance } from 'node:perf_hooks';
import { CLAIM_FAIRLY } from '../../src/queue/job-queue';
import type { AppUnderTest, Channel } from './app';
import type { BenchConfig } from './config';
import { LatencyStats, LoadResult, runPaced, stats } from './load';
import { startModelServer } from './model-server';
import { log } from './phases';
import type { ReplyTracker } from './replies';
import { freshTrackedCustomer, QUESTIONS, signedInbound } from './webhooks';

export type StartApp = (
  name: string,
  extraEnv?: NodeJS.ProcessEnv,
  databaseUrl?: string,
) => Promise<AppUnderTest>;

export interface StreamRun {
  label: string;
  messages: number;
  rate: number;
  ack: LoadResult;
  /** Webhook sent → first Messages.create for that customer. */
  endToEnd: LatencyStats;
  answered: number;
  /** Acknowledged (200) and never answered, no job left to answer it. */
  lost: number;
  late: number;
  /** Webhooks the load generator saw fail (connection error, no answer in 15 s): not stored. */
  notAcknowledged: number;
  answeredTwice: number;
}

export interface BurstRun {
  name: string;
  instances: number;
  modelLatencyMs: number;
  streams: StreamRun[];
  /** The most completions the model server held at once. */
  maxModelCallsInFlight: number;
  /** Model calls per instance (each instance calls with its own API key). */
  modelCallsPerInstance: number[];
}

export interface DrainRun {
  jobs: number;
  /** Completed reply jobs in pgboss.job when the drain began. */
  completedJobsBefore: number;
  seconds: number | null;
  perSecond: number | null;
  firstQuarterPerSecond: number | null;
  lastQuarterPerSecond: number | null;
  lost: number;
  answeredTwice: number;
  /** Webhooks of the fill the load generator saw fail (not 200): never queued, not counted as lost. */
  notAcknowledged?: number;
  /** The fill's answers by status ('error': connection error or timeout). */
  fillStatuses?: Record<string, number>;
}

export interface ModelSpeedResults {
  bursts: BurstRun[];
  drains: DrainRun[];
  /** EXPLAIN of the claim statement against the 20,000-job backlog. */
  claimPlan?: string[];
}

interface Stream {
  label: string;
  app: AppUnderTest;
  channel: Channel;
  count: number;
  rate: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends every stream at once (each its own paced load), then waits for the replies. */
async function burst(
  streams: Stream[],
  tracker: ReplyTracker,
  timeoutSeconds: number,
): Promise<StreamRun[]> {
  const customers = streams.map(() => [] as string[]);
  const acknowledged = streams.map(() => new Set<number>());
  const acks = await Promise.all(
    streams.map((stream, k) =>
      runPaced({
        baseUrl: stream.app.baseUrl,
        serverPid: stream.app.server.pid,
        rate: stream.rate,
        count: stream.count,
        onResponse: (i, status) => {
          if (status >= 200 && status < 300) acknowledged[k].add(i);
        },
        next: (i, scheduledAt) => {
          const customer = freshTrackedCustomer();
          customers[k][i] = customer;
          tracker.sent(customer, scheduledAt);
          return signedInbound(
            stream.app.baseUrl,
            stream.channel,
            customer,
            QUESTIONS[i % QUESTIONS.length],
          );
        },
      }),
    ),
  );
  const all = customers.flat();
  const answered = () => all.every((customer) => tracker.replies(customer).length > 0);
  await tracker.waitUntil(answered, timeoutSeconds * 1000);
  const pending = await streams[0].app.withPendingReply(
    all.filter((customer) => tracker.replies(customer).length === 0),
  );
  // A second reply would follow the first: give the workers a moment to produce one.
  await sleep(2_000);
  return streams.map((stream, k) => {
    const { latencies, answeredTwice } = tracker.summarize(customers[k]);
    const unanswered = customers[k].filter(
      (customer, i) => acknowledged[k].has(i) && tracker.replies(customer).length === 0,
    );
    const late = unanswered.filter((customer) => pending.has(customer)).length;
    const answeredAnyway = customers[k].filter(
      (customer, i) => !acknowledged[k].has(i) && tracker.replies(customer).length > 0,
    ).length;
    return {
      label: stream.label,
      messages: stream.count,
      rate: stream.rate,
      ack: acks[k],
      endToEnd: stats(latencies),
      answered: latencies.length,
      lost: unanswered.length - late,
      late,
      notAcknowledged: stream.count - acknowledged[k].size - answeredAnyway,
      answeredTwice,
    };
  });
}

/** 200 at 20/s, 1,000 at 50/s, the same on two instances, and two organizations at once. */
export async function runBursts(
  startApp: StartApp,
  tracker: ReplyTracker,
  config: BenchConfig,
  parts: { replies: boolean; fairness: boolean },
): Promise<BurstRun[]> {
  const model = await startModelServer(config.modelLatencyMs);
  const openai = (instance: string): NodeJS.ProcessEnv => ({
    AGENT_PROVIDER: 'openai',
    OPENAI_BASE_URL: model.baseUrl,
    OPENAI_API_KEY: `sk-bench-${instance}`,
  });
  const runs: BurstRun[] = [];
  const first = await startApp('model-a', openai('a'));
  let second: AppUnderTest | null = null;
  try {
    await first.createOrganization('Bench organization A');
    const [channelA] = (await first.connectManyViaApi(1, 1, true)).channels;
    const measure = async (name: string, streams: Stream[], instances = 1) => {
      log(`${name}: ${streams.map((s) => `${s.count} SMS at ${s.rate}/s`).join(' + ')}`);
      model.resetStats();
      const timeout = Math.max(...streams.map((s) => s.count / s.rate)) + 60;
      const results = await burst(streams, tracker, timeout);
      const calls = ['a', 'b']
        .slice(0, instances)
        .map((instance) => model.callsByKey.get(`Bearer sk-bench-${instance}`) ?? 0);
      for (const s of results) {
        log(
          `${name} — ${s.label}: p50 ${Math.round(s.endToEnd.p50)} ms, p99 ${Math.round(s.endToEnd.p99)} ms, ` +
            `${s.lost} lost, ${s.notAcknowledged} not acknowledged, ${s.answeredTwice} twice, ` +
            `${model.maxInFlight} model calls at once`,
        );
      }
      runs.push({
        name,
        instances,
        modelLatencyMs: config.modelLatencyMs,
        streams: results,
        maxModelCallsInFlight: model.maxInFlight,
        modelCallsPerInstance: calls,
      });
    };
    const one = (label: string, count: number, rate: number, app = first, channel = channelA) => ({
      label,
      app,
      channel,
      count,
      rate,
    });
    if (parts.replies) {
      await measure('200 SMS at 20/s', [one('all', 200, 20)]);
      await measure('1,000 SMS at 50/s', [one('all', 1_000, 50)]);
      second = await startApp('model-b', openai('b'), first.databaseUrl);
      await measure(
        '1,000 SMS at 50/s, two instances',
        [one('instance A', 500, 25), one('instance B', 500, 25, second)],
        2,
      );
      await second.stop();
      second = null;
    }
    if (parts.fairness) {
      await first.createOrganization('Bench organization B');
      const [channelB] = (await first.connectManyViaApi(1, 1, true)).channels;
      await measure('fairness: A 1,000 SMS at 50/s, B 1/s', [
        one('organization A', 1_000, 50),
        one('organization B', 20, 1, first, channelB),
      ]);
    }
  } finally {
    await second?.stop();
    await first.stop();
    await model.close();
  }
  return runs;
}

/**
 * Backlogs of `config.drainSizes` reply jobs queued through a web-only instance, then drained by
 * a worker instance with the local agent; finally the first size again with
 * `config.drainCompletedJobs` completed jobs added to pg-boss's table.
 */
export async function runDrains(
  startApp: StartApp,
  tracker: ReplyTracker,
  config: BenchConfig,
): Promise<{ drains: DrainRun[]; claimPlan: string[] }> {
  const web = await startApp('drain', { REPLY_WORKER_CONCURRENCY: '0' });
  const drains: DrainRun[] = [];
  let claimPlan: string[] = [];
  try {
    await web.createOrganization('Bench drain organization');
    const [channel] = (await web.connectManyViaApi(1, 1, true)).channels;
    const completed = async () =>
      Number(
        (
          await web.db.query(
            `SELECT count(*)::int AS count FROM pgboss.job WHERE name = 'sms-reply' AND state = 'completed'`,
          )
        ).rows[0].count,
      );
    const sizes = [...config.drainSizes.map((jobs) => ({ jobs, filler: 0 }))];
    if (config.drainCompletedJobs > 0) {
      sizes.push({ jobs: config.drainSizes[0], filler: config.drainCompletedJobs });
    }
    for (const { jobs, filler } of sizes) {
      if (filler > 0) {
        log(`drain: adding ${filler} completed jobs to pgboss.job`);
        for (let done = 0; done < filler; done += 100_000) {
          await web.db.query(
            `INSERT INTO pgboss.job (name, data, state, created_on, started_on, completed_on)
             SELECT 'sms-reply', jsonb_build_object('messageId', gen_random_uuid()::text,
                                                    'organizationId', gen_random_uuid()::text),
                    'completed', now(), now(), now()
             FROM generate_series(1, $1::int)`,
            [Math.min(100_000, filler - done)],
          );
        }
        await web.db.query('ANALYZE pgboss.job');
      }
      log(`drain: queueing ${jobs} replies through the web-only instance`);
      const customers: string[] = [];
      const acknowledged = new Set<number>();
      const fill = await runPaced({
        baseUrl: web.baseUrl,
        serverPid: web.server.pid,
        rate: config.drainFillRate,
        count: jobs,
        next: (i, scheduledAt) => {
          const customer = freshTrackedCustomer();
          customers.push(customer);
          tracker.sent(customer, scheduledAt);
          return signedInbound(web.baseUrl, channel, customer, QUESTIONS[i % QUESTIONS.length]);
        },
        onResponse: (i, status) => {
          if (status === 200) acknowledged.add(i);
        },
      });
      const pending = () => web.pendingReplies();
      const queued = await pending();
      if (jobs >= 10_000 && claimPlan.length === 0) {
        const { rows } = await web.db.query(`EXPLAIN ${CLAIM_FAIRLY}`, ['sms-reply', 128, 112]);
        claimPlan = (rows as { 'QUERY PLAN': string }[]).map((row) => row['QUERY PLAN']);
      }
      const completedBefore = await completed();
      log(`drain: ${queued} queued, ${completedBefore} completed jobs in the table; draining`);
      const samples: { at: number; pending: number }[] = [];
      const sampling = (async () => {
        for (let left = queued; left > 0;) {
          left = await pending();
          samples.push({ at: performance.now(), pending: left });
          await sleep(250);
        }
      })();
      const worker = await startApp('drain-worker', {}, web.databaseUrl);
      // Long enough for 50 jobs a second (a busy 2-core machine), plus a start.
      await Promise.race([sampling, sleep((jobs / 50) * 1000 + 120_000)]);
      await sleep(2_000);
      await worker.stop();
      const crossing = (fraction: number) =>
        samples.find((sample) => sample.pending <= queued * fraction)?.at ?? null;
      const began = samples.find((sample) => sample.pending < queued)?.at ?? null;
      const [q75, q25, end] = [crossing(0.75), crossing(0.25), crossing(0)];
      const rate = (count: number, from: number | null, to: number | null) =>
        from !== null && to !== null && to > from ? count / ((to - from) / 1000) : null;
      // The first sample that moved started somewhere in the previous interval.
      const start = began === null ? null : began - 250;
      const { answeredTwice } = tracker.summarize(customers);
      drains.push({
        jobs: queued,
        completedJobsBefore: completedBefore,
        seconds: start !== null && end !== null ? (end - start) / 1000 : null,
        perSecond: rate(queued, start, end),
        firstQuarterPerSecond: rate(queued * 0.25, start, q75),
        lastQuarterPerSecond: rate(queued * 0.25, q25, end),
        lost: customers.filter(
          (customer, i) => acknowledged.has(i) && tracker.replies(customer).length === 0,
        ).length,
        answeredTwice,
        notAcknowledged: customers.length - acknowledged.size,
        fillStatuses: { ...fill.statusCodes, ...(fill.errors ? { error: fill.errors } : {}) },
      });
    }
  } finally {
    await web.stop();
  }
  return { drains, claimPlan };
}
