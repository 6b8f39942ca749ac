/** The measurements of `npm run bench`, one function per part of the report. */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AppUnderTest, Channel, ROOT } from './app';
import { freePort, RssSampler, ServerProcess, startServer } from './children';
import type { BenchConfig } from './config';
import { PreparedRequest, runAutocannon, runPaced, stats, timedRequest } from './load';
import type { ReplyTracker } from './replies';
import type { EndToEndRun, GrowthTier, HistoryRun, InboxRun, WebhookRuns } from './results';
import { num } from './report';
import { freshTrackedCustomer, numberIn, QUESTIONS, Sender, signedInbound } from './webhooks';

export const log = (message: string) => process.stdout.write(`[bench] ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];

/** A server's webhook endpoint: where requests go, the origin they are signed for, its pid. */
export interface Target {
  baseUrl: string;
  signedBaseUrl: string;
  pid: number;
}

/** Random channel, random customer from the pool, freshly signed with a new MessageSid. */
function webhookSource(target: Target, senders: Sender[], config: BenchConfig) {
  let i = 0;
  return (): PreparedRequest =>
    signedInbound(
      target.signedBaseUrl,
      pick(senders),
      numberIn(555, Math.floor(Math.random() * config.customers)),
      QUESTIONS[i++ % QUESTIONS.length],
    );
}

/**
 * Warm-up, saturation, fixed rate, on one server. `settle` runs after each (the app empties or
 * cancels the replies the run queued, so the next run starts from rest).
 */
export async function measureWebhooks<S>(
  name: string,
  target: Target,
  senders: Sender[],
  config: BenchConfig,
  settle?: () => Promise<S>,
): Promise<WebhookRuns & { settledRuns: S[] }> {
  const next = webhookSource(target, senders, config);
  const settledRuns: S[] = [];
  const after = async () => {
    if (settle) settledRuns.push(await settle());
  };
  if (config.warmupSeconds > 0) {
    log(`${name}: warm-up ${config.warmupSeconds} s`);
    await runAutocannon({
      baseUrl: target.baseUrl,
      connections: config.connections,
      durationSeconds: config.warmupSeconds,
      next,
    });
    if (settle) await settle();
  }
  log(`${name}: saturation, ${config.connections} connections, ${config.durationSeconds} s`);
  const saturation = await runAutocannon({
    baseUrl: target.baseUrl,
    serverPid: target.pid,
    connections: config.connections,
    durationSeconds: config.durationSeconds,
    next,
  });
  await after();
  log(
    `${name}: fixed ${config.fixedRate} req/s (${config.rateGenerator}), ${config.durationSeconds} s`,
  );
  const fixedRate =
    config.rateGenerator === 'paced'
      ? await runPaced({
          baseUrl: target.baseUrl,
          serverPid: target.pid,
          rate: config.fixedRate,
          durationSeconds: config.durationSeconds,
          next,
        })
      : await runAutocannon({
          baseUrl: target.baseUrl,
          serverPid: target.pid,
          connections: config.connections,
          durationSeconds: config.durationSeconds,
          overallRate: config.fixedRate,
          next,
        });
  await after();
  return { saturation, fixedRate, settledRuns };
}

/** Senders for the comparison servers: `count` numbers, each on its own account or all on one. */
function syntheticSenders(count: number, oneAccount: boolean): Sender[] {
  const account = () => ({
    accountSid: `AC${randomBytes(16).toString('hex')}`,
    authToken: randomBytes(16).toString('hex'),
  });
  const shared = account();
  return Array.from({ length: count }, (_, i) => ({
    ...(oneAccount ? shared : account()),
    phoneNumber: numberIn(444, 9_000_000 + i),
  }));
}

async function startComparison(
  name: 'quickstart' | 'floor',
  env: NodeJS.ProcessEnv,
): Promise<{ server: ServerProcess; target: Target }> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const profile = process.env.BENCH_CPU_PROFILE === '1';
  const server = await startServer(
    name,
    process.execPath,
    [
      // BENCH_CPU_PROFILE=1 profiles the comparison servers too, to set their frames beside the app's.
      ...(profile
        ? ['--cpu-prof', '--cpu-prof-dir', join(ROOT, 'bench', 'results', 'profiles')]
        : []),
      '-r',
      'ts-node/register/transpile-only',
      join(ROOT, 'bench', 'comparison', `${name}.ts`),
    ],
    {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      PORT: String(port),
      PUBLIC_BASE_URL: baseUrl,
      ...env,
    },
    /"msg":"listening"/,
  );
  return { server, target: { baseUrl, signedBaseUrl: baseUrl, pid: server.pid } };
}

async function measureComparison(
  name: 'quickstart' | 'floor',
  env: NodeJS.ProcessEnv,
  senders: Sender[],
  config: BenchConfig,
): Promise<WebhookRuns> {
  const { server, target } = await startComparison(name, env);
  const rss = new RssSampler(server.pid);
  rss.start();
  try {
    const { saturation, fixedRate } = await measureWebhooks(name, target, senders, config);
    rss.stop();
    return { saturation, fixedRate, peakRssMb: rss.peakMb };
  } finally {
    rss.stop();
    await server.stop();
  }
}

/** The quickstart (one account: it validates with one Auth Token) and the floor. */
export async function runComparisons(
  config: BenchConfig,
  workDir: string,
): Promise<{ quickstart: WebhookRuns; floor: WebhookRuns }> {
  const quickstartSenders = syntheticSenders(config.channels, true);
  const quickstart = await measureComparison(
    'quickstart',
    { QUICKSTART_AUTH_TOKEN: quickstartSenders[0].authToken },
    quickstartSenders,
    config,
  );
  const floorSenders = syntheticSenders(config.channels, false);
  const sendersFile = join(workDir, 'floor-senders.json');
  writeFileSync(sendersFile, JSON.stringify(floorSenders));
  const floor = await measureComparison(
    'floor',
    {
      FLOOR_SENDERS_FILE: sendersFile,
      ...(config.databaseUrl
        ? { DATABASE_URL: config.databaseUrl }
        : { FLOOR_PGLITE_DATA_DIR: join(workDir, 'floor-pglite') }),
    },
    floorSenders,
    config,
  );
  return { quickstart, floor };
}

/**
 * `e2eMessages` webhooks at `e2eRate`, each from a customer never seen before, spread over the
 * channels; then wait for every reply (or the timeout) and count lost, late and double replies.
 */
export async function runEndToEnd(
  app: AppUnderTest,
  channels: Channel[],
  tracker: ReplyTracker,
  config: BenchConfig,
): Promise<EndToEndRun> {
  log(`end-to-end: ${config.e2eMessages} webhooks at ${config.e2eRate}/s, one new customer each`);
  const customers: string[] = [];
  const ack = await runPaced({
    baseUrl: app.baseUrl,
    serverPid: app.server.pid,
    rate: config.e2eRate,
    count: config.e2eMessages,
    next: (i, scheduledAt) => {
      const customer = freshTrackedCustomer();
      customers.push(customer);
      tracker.sent(customer, scheduledAt);
      return signedInbound(
        app.baseUrl,
        channels[i % channels.length],
        customer,
        QUESTIONS[i % QUESTIONS.length],
      );
    },
  });
  const waitStarted = performance.now();
  await tracker.waitUntil(
    () => customers.every((customer) => tracker.replies(customer).length > 0),
    config.e2eTimeoutSeconds * 1000,
  );
  const waitedSeconds = (performance.now() - waitStarted) / 1000;
  const pending = await app.withPendingReply(
    customers.filter((customer) => tracker.replies(customer).length === 0),
  );
  // A second reply would follow the first: give the workers a moment to produce one.
  await sleep(2_000);
  const { latencies, answeredTwice } = tracker.summarize(customers);
  // Late: its reply job is still queued or running. Lost: no reply and no job left to send one
  // (checked after the pause, so a job that completed meanwhile is not miscounted).
  const unanswered = customers.filter((customer) => tracker.replies(customer).length === 0);
  const late = unanswered.filter((customer) => pending.has(customer)).length;
  const lost = unanswered.length - late;
  return {
    messages: config.e2eMessages,
    rate: config.e2eRate,
    ack,
    endToEnd: stats(latencies),
    answered: latencies.length,
    lost,
    late,
    answeredTwice,
    waitedSeconds,
  };
}

/**
 * Webhook latency with `channelTiers` connected channels, one request at a time (the cost of a
 * request, without queueing) for BENCH_DURATION_SECONDS, traffic spread over all the channels.
 * Channels are added through the API while that fits BENCH_API_CONNECT_BUDGET_SECONDS (the rate
 * is measured on a first batch), the rest through SQL.
 */
export async function runChannelGrowth(
  app: AppUnderTest,
  initial: Channel[],
  config: BenchConfig,
  onTier: (tier: number) => void,
): Promise<GrowthTier[]> {
  const channels = [...initial];
  const tiers: GrowthTier[] = [];
  let apiRate: number | null = null; // channels per second through the API, once measured
  for (const tier of config.channelTiers) {
    const setup = { api: 0, sql: 0, apiSeconds: 0, sqlSeconds: 0 };
    const connectViaApi = async (count: number) => {
      log(`channels: connecting ${count} through the API, 20 at a time`);
      const created = await app.connectManyViaApi(count, 20);
      channels.push(...created.channels);
      setup.api += count;
      setup.apiSeconds += created.seconds;
      apiRate = count / created.seconds;
    };
    let missing = tier - channels.length;
    if (missing > 0 && apiRate === null) {
      await connectViaApi(Math.min(missing, 200));
      missing = tier - channels.length;
    }
    if (missing > 0 && missing / apiRate! <= config.apiConnectBudgetSeconds) {
      await connectViaApi(missing);
      missing = 0;
    }
    if (missing > 0) {
      log(
        `channels: ${missing} more through the API would take ~${num(missing / apiRate!)} s ` +
          `at ${num(apiRate!)}/s; inserting them through SQL, tokens encrypted by CredentialCipher`,
      );
      const inserted = await app.insertChannelsViaSql(missing);
      channels.push(...inserted.channels);
      setup.sql += missing;
      setup.sqlSeconds += inserted.seconds;
    }
    if (setup.api + setup.sql > 0) {
      // Statistics as autovacuum would have them after such growth.
      await app.db.query('ANALYZE chatbots, sms_channels');
      await app.settle(config.settleSeconds);
    }
    log(`growth: ${tier} channels, one webhook at a time for ${config.durationSeconds} s`);
    const target = { baseUrl: app.baseUrl, signedBaseUrl: app.baseUrl, pid: app.server.pid };
    const result = await runAutocannon({
      baseUrl: app.baseUrl,
      serverPid: app.server.pid,
      connections: 1,
      durationSeconds: config.durationSeconds,
      next: webhookSource(target, channels, config),
    });
    const settled = await app.settle(config.settleSeconds);
    tiers.push({ channels: tier, setup, result, settled });
    onTier(tier);
  }
  return tiers;
}

/**
 * For each history size: a conversation with that many earlier messages, then messages sent one
 * at a time (the next once the previous is answered); acknowledgement and reply latency.
 */
export async function runHistory(
  app: AppUnderTest,
  channel: Channel,
  tracker: ReplyTracker,
  config: BenchConfig,
): Promise<HistoryRun[]> {
  const results: HistoryRun[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (const [k, size] of config.historySizes.entries()) {
      const customer = numberIn(888, k);
      log(
        `history: conversation with ${size} earlier messages, ${config.historySamples} messages one at a time`,
      );
      await app.insertHistory(channel, customer, size);
      await app.db.query('ANALYZE conversations, messages');
      const acks: number[] = [];
      const endToEnd: number[] = [];
      let lost = 0;
      for (let i = 0; i < config.historySamples; i++) {
        const request = signedInbound(app.baseUrl, channel, customer, QUESTIONS[i % 5]);
        const response = await timedRequest(app.baseUrl, { ...request, method: 'POST' }, agent);
        tracker.sent(customer, response.sentAt);
        if (response.status !== 200) {
          throw new Error(`history: webhook answered ${response.status}: ${response.body}`);
        }
        acks.push(response.latencyMs);
        const answered = await tracker.waitUntil(
          () => tracker.replies(customer).length > i,
          30_000,
        );
        if (!answered) {
          lost = config.historySamples - i;
          break;
        }
        endToEnd.push(tracker.replies(customer)[i] - response.sentAt);
      }
      results.push({ earlierMessages: size, ack: stats(acks), endToEnd: stats(endToEnd), lost });
    }
  } finally {
    agent.destroy();
  }
  return results;
}

/** The inbox list among `inboxConversations` conversations: page 1 and page `inboxDeepPage`. */
export async function runInbox(app: AppUnderTest, config: BenchConfig): Promise<InboxRun> {
  const chatbotId = await app.createChatbot('Inbox bot', false);
  log(`inbox: inserting ${config.inboxConversations} conversations`);
  const started = performance.now();
  await app.insertConversations(chatbotId, config.inboxConversations);
  await app.db.query('ANALYZE conversations');
  const insertSeconds = (performance.now() - started) / 1000;
  const listPath = `/api/chatbots/${chatbotId}/conversations`;
  let cursor: string | null = null;
  for (let page = 1; page < config.inboxDeepPage; page++) {
    const body: { nextCursor: string | null } = await app.api(
      'GET',
      cursor ? `${listPath}?cursor=${encodeURIComponent(cursor)}` : listPath,
    );
    cursor = body.nextCursor;
    if (!cursor) throw new Error(`inbox: there is no page ${page + 1}`);
  }
  const deepPath = `${listPath}?cursor=${encodeURIComponent(cursor!)}`;
  const headers = { authorization: app.authorization };
  const measure = (path: string) =>
    runAutocannon({
      baseUrl: app.baseUrl,
      serverPid: app.server.pid,
      connections: 1,
      amount: config.inboxSamples,
      next: () => ({ method: 'GET', path, headers }),
    });
  log(`inbox: page 1 and page ${config.inboxDeepPage}, ${config.inboxSamples} requests each`);
  await measure(listPath); // warm-up: code paths, plan and buffer caches
  const firstPage = await measure(listPath);
  const deep = await measure(deepPath);
  return {
    conversations: config.inboxConversations,
    insertSeconds,
    deepPage: config.inboxDeepPage,
    firstPage,
    deep,
  };
}
