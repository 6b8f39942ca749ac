/**
 * Replies at the model's speed: many model calls in flight at once (bounded by
 * AGENT_MAX_CONCURRENCY, never claiming more jobs than free slots however long the backlog),
 * organizations taken in turns and capped (AGENT_MAX_CONCURRENCY_PER_ORGANIZATION), a 429 with
 * Retry-After pausing every call to the model API, and two instances sharing one backlog without
 * a reply sent twice. The model is a local OpenAI-compatible server over HTTP that holds its
 * answers until the test releases them, so concurrency is observed, never timed.
 */
import { DataSource } from 'typeorm';
import { TwilioDouble } from '../tools/twilio-double';
import { AgentService } from '../src/modules/agent/agent.service';
import { JobQueue } from '../src/queue/job-queue';
import { QUEUES } from '../src/queue/queue-names';
import {
  AppProcess,
  connectChannel as connectProcessChannel,
  createOrganization,
  mapConcurrent,
  nextNumber,
  ProcessChannel,
  PUBLIC_BASE_URL,
  SharedDatabase,
  startAppProcess,
  startSharedDatabase,
  stopAllProcesses,
  unfinishedJobs,
  waitFor,
  WEBHOOK_PATH,
} from './support/app-process';
import {
  FakeOpenAiServer,
  RecordedRequest,
  startFakeOpenAiServer,
} from './support/fake-openai-server';
import {
  ConnectedChannel,
  connectChannel,
  eventually,
  randomNumber,
  SmsTestContext,
  startSmsTestApp,
  textFromCustomer,
} from './support/sms-fixtures';

const ANSWER = 'Answered by the model.';
/** The customer's text as the model received it (the last message of the request). */
const question = (request: RecordedRequest): string => request.body.messages.at(-1)!.content;

async function texts(
  ctx: SmsTestContext,
  channel: ConnectedChannel,
  label: string,
  count: number,
): Promise<string[]> {
  const customers = Array.from({ length: count }, () => randomNumber());
  await mapConcurrent(customers, 8, async (customer, i) => {
    const res = await textFromCustomer(ctx, channel, customer, `${label} question ${i}`);
    expect(res.status).toBe(200);
  });
  return customers;
}

/** Releases held model calls until every customer has a reply; answers each customer's count. */
async function releaseUntilAnswered(
  model: FakeOpenAiServer,
  twilio: Pick<TwilioDouble, 'messages'>,
  customers: string[],
): Promise<number[]> {
  const repliesTo = (customer: string) => twilio.messages.filter((m) => m.to === customer);
  await waitFor(
    'a reply to every customer',
    () => {
      model.release();
      return customers.every((customer) => repliesTo(customer).length > 0);
    },
    120_000,
    50,
  );
  return customers.map((customer) => repliesTo(customer).length);
}

/** Reply jobs by state, e.g. { active: 24, created: 176 }. */
async function jobStates(ctx: SmsTestContext): Promise<Record<string, number>> {
  const rows = await ctx.t.running.app
    .get(DataSource)
    .query<{ state: string; count: number }[]>(
      `SELECT state, count(*)::int AS count FROM pgboss.job WHERE name = $1 GROUP BY state`,
      [QUEUES.smsReply],
    );
  return Object.fromEntries(rows.map((row) => [row.state, row.count]));
}

describe('replies at the model speed, one instance', () => {
  let model: FakeOpenAiServer;
  const startWithModel = (env: Record<string, string>) =>
    startSmsTestApp({
      AGENT_PROVIDER: 'openai',
      OPENAI_BASE_URL: `${model.url}/v1`,
      OPENAI_TIMEOUT_MS: '30000',
      BOT_REPLIES_PER_MINUTE: '1000',
      ...env,
    });

  beforeAll(async () => {
    model = await startFakeOpenAiServer();
  });
  afterAll(async () => {
    await model?.close();
  });

  describe('many calls in flight, bounded', () => {
    let ctx: SmsTestContext;
    const MAX = 24;
    const PER_ORGANIZATION = 20;

    beforeAll(async () => {
      ctx = await startWithModel({
        AGENT_MAX_CONCURRENCY: String(MAX),
        AGENT_MAX_CONCURRENCY_PER_ORGANIZATION: String(PER_ORGANIZATION),
      });
    });
    afterAll(async () => {
      model.release();
      await ctx?.close();
    });

    it('runs AGENT_MAX_CONCURRENCY model calls at once, claims no job beyond the free slots, caps each organization', async () => {
      model.resetStats();
      model.behave({ kind: 'hold', content: ANSWER });
      const queue = ctx.t.running.app.get(JobQueue);
      const claimedBefore = queue.claimedCount(QUEUES.smsReply);
      const [a, b] = [await connectChannel(ctx), await connectChannel(ctx)];
      const customers = [
        ...(await texts(ctx, a, 'org-a', 150)),
        ...(await texts(ctx, b, 'org-b', 50)),
      ];

      await eventually(async () => model.inFlight() === MAX, 60_000);
      // A backlog of 176 stays in the database: only as many jobs are taken as can run.
      await eventually(async () => (await jobStates(ctx)).created === customers.length - MAX);
      expect(await jobStates(ctx)).toEqual({ active: MAX, created: customers.length - MAX });
      expect(queue.claimedCount(QUEUES.smsReply) - claimedBefore).toBe(MAX);
      // One organization never holds more than its cap while another waits.
      const heldA = model.held().filter((r) => question(r).startsWith('org-a')).length;
      expect(heldA).toBeLessThanOrEqual(PER_ORGANIZATION);
      expect(MAX - heldA).toBeLessThanOrEqual(PER_ORGANIZATION);

      const counts = await releaseUntilAnswered(model, ctx.twilio, customers);
      expect(counts.filter((count) => count !== 1)).toEqual([]);
      expect(ctx.twilio.messages.filter((m) => customers.includes(m.to))[0].body).toBe(ANSWER);
      expect(model.maxInFlight()).toBe(MAX);
      expect(model.requests).toHaveLength(customers.length);
    });
  });

  describe('fair turns and the provider gate', () => {
    let ctx: SmsTestContext;
    const MAX = 3;

    beforeAll(async () => {
      ctx = await startWithModel({ AGENT_MAX_CONCURRENCY: String(MAX) });
    });
    afterAll(async () => {
      model.release();
      await ctx?.close();
    });

    it("takes organization B's single message before organization A's backlog ends", async () => {
      model.resetStats();
      model.behave({ kind: 'hold', content: ANSWER });
      const [a, b] = [await connectChannel(ctx), await connectChannel(ctx)];
      const backlog = await texts(ctx, a, 'org-a', 12);
      await eventually(async () => model.inFlight() === MAX);
      const waitingJobs = async () => (await jobStates(ctx)).created ?? 0;
      await eventually(async () => (await waitingJobs()) === backlog.length - MAX);
      const [single] = await texts(ctx, b, 'org-b', 1);
      await eventually(async () => (await waitingJobs()) === backlog.length - MAX + 1);

      // One of A's calls ends: the slot goes to B (no job running) before A's next nine.
      expect(model.release(1)).toBe(1);
      await eventually(async () => model.requests.length === MAX + 1);
      expect(question(model.requests[MAX])).toBe('org-b question 0');

      const counts = await releaseUntilAnswered(model, ctx.twilio, [...backlog, single]);
      expect(counts.filter((count) => count !== 1)).toEqual([]);
    });

    it('a 429 with Retry-After pauses every call to the model API; queued replies keep their retries', async () => {
      const RETRY_AFTER_SECONDS = 2;
      model.resetStats();
      model.behave({ kind: 'answer', content: ANSWER });
      model.behaveOnce({
        kind: 'error',
        status: 429,
        headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
      });
      const channel = await connectChannel(ctx);
      const [first] = await texts(ctx, channel, 'throttled', 1);
      const agent = ctx.t.running.app.get(AgentService);
      await eventually(async () => agent.pausedUntil() > Date.now());
      const throttledAt = model.requests[0].receivedAt;
      // Sent while the gate is closed: they wait in the queue, not at the model.
      const later = await texts(ctx, channel, 'meanwhile', 4);
      expect(agent.pausedUntil()).toBeGreaterThan(Date.now());

      const counts = await releaseUntilAnswered(model, ctx.twilio, [first, ...later]);
      expect(counts).toEqual([1, 1, 1, 1, 1]);
      expect(ctx.twilio.messages.filter((m) => m.to === first)[0].body).toBe(ANSWER);
      // The first call tried again after the window, the others started after it: none during it.
      const during = model.requests
        .slice(1)
        .filter((r) => r.receivedAt < throttledAt + RETRY_AFTER_SECONDS * 1_000);
      expect(during).toEqual([]);
      expect(model.requests).toHaveLength(6);
      const retries = await ctx.t.running.app.get(DataSource).query<{ retry_count: number }[]>(
        `SELECT j.retry_count FROM pgboss.job j
         JOIN messages m ON m.id::text = j.data->>'messageId'
         JOIN conversations c ON c.id = m.conversation_id
         WHERE j.name = $1 AND c.customer_number = ANY($2)`,
        [QUEUES.smsReply, [first, ...later]],
      );
      expect(retries.map((row) => row.retry_count)).toEqual([0, 0, 0, 0, 0]);
    });
  });
});

describe('two instances share one backlog', () => {
  const PER_INSTANCE = 6;
  const MESSAGES = 60;
  let model: FakeOpenAiServer;
  let twilio: TwilioDouble;
  let db: SharedDatabase;
  let instances: AppProcess[];
  let channel: ProcessChannel;

  beforeAll(async () => {
    model = await startFakeOpenAiServer();
    twilio = await TwilioDouble.start();
    db = await startSharedDatabase('reply_concurrency');
    const start = (name: string) =>
      startAppProcess({
        name,
        databaseUrl: db.url,
        twilioApiBaseUrl: twilio.url,
        env: {
          AGENT_PROVIDER: 'openai',
          OPENAI_BASE_URL: `${model.url}/v1`,
          // The key tells the model server which instance called.
          OPENAI_API_KEY: `sk-instance-${name}`,
          OPENAI_TIMEOUT_MS: '30000',
          AGENT_MAX_CONCURRENCY: String(PER_INSTANCE),
        },
      });
    const [first, second, org] = await Promise.all([
      start('A'),
      start('B'),
      createOrganization(db.url, 'Shared backlog', 'pro'),
    ]);
    instances = [first, second];
    channel = await connectProcessChannel(first, org.apiKey, twilio, 'Shared bot');
  }, 180_000);

  afterAll(async () => {
    model?.release();
    await stopAllProcesses();
    await twilio?.stop();
    await db?.close();
    await model?.close();
  }, 60_000);

  it('both instances take jobs, together never more than their slots, and every customer gets one reply', async () => {
    model.behave({ kind: 'hold', content: ANSWER });
    const customers = Array.from({ length: MESSAGES }, () => nextNumber());
    await mapConcurrent(customers, 8, async (customer, i) => {
      const delivery = await twilio.sendInboundMessage({
        to: channel.phoneNumber,
        from: customer,
        body: `shared question ${i}`,
        url: `${PUBLIC_BASE_URL}${WEBHOOK_PATH}`,
        deliverTo: instances[i % 2].webhookUrl,
      });
      expect(delivery.status).toBe(200);
    });
    await waitFor('both instances calling the model', () => {
      const keys = new Set(model.held().map((r) => r.headers.authorization));
      return model.inFlight() === 2 * PER_INSTANCE && keys.size === 2;
    });

    const counts = await releaseUntilAnswered(model, twilio, customers);
    expect(counts.filter((count) => count !== 1)).toEqual([]);
    await waitFor('the queue drained', async () => (await unfinishedJobs(db)) === 0);
    // Each job ran once: one model call per message, none repeated by the other instance.
    expect(model.requests).toHaveLength(MESSAGES);
    expect(model.maxInFlight()).toBeLessThanOrEqual(2 * PER_INSTANCE);
  });
});
